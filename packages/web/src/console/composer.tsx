import { type FormEvent, type KeyboardEvent, type RefObject, useState } from 'react';
import type { GuardFindingView } from './use-guard.ts';

export const SAVED_REPLIES: readonly { title: string; text: string }[] = [
  { title: 'One moment', text: 'Thanks for your patience, I am looking into this right now.' },
  {
    title: 'Checking with a colleague',
    text: 'I am checking this with a colleague and will be back with you in a couple of minutes.',
  },
  { title: 'Anything else?', text: 'Is there anything else I can help you with today?' },
  { title: 'Closing', text: 'Glad we could sort this out. Have a great day!' },
];

export type ComposeMode = 'reply' | 'note';

export function Composer({
  draft,
  mode,
  canReply,
  findings,
  busy,
  error,
  inputRef,
  onDraft,
  onMode,
  onSend,
  onUseSuggestion,
}: {
  draft: string;
  mode: ComposeMode;
  canReply: boolean;
  findings: readonly GuardFindingView[];
  busy: boolean;
  error: string | null;
  inputRef: RefObject<HTMLTextAreaElement | null>;
  onDraft: (value: string) => void;
  onMode: (mode: ComposeMode) => void;
  onSend: () => void;
  onUseSuggestion: (finding: GuardFindingView) => void;
}) {
  const [showSaved, setShowSaved] = useState(false);
  const effectiveMode: ComposeMode = canReply ? mode : 'note';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSend();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onSend();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.altKey) {
      event.preventDefault();
      onSend();
    }
  };
  const visibleFindings = effectiveMode === 'reply' ? findings : [];

  return (
    <form className={`composer mode-${effectiveMode}`} onSubmit={submit} aria-label="Compose">
      {visibleFindings.length ? (
        <div className="guard" role="status" aria-live="polite" data-testid="guard-findings">
          {visibleFindings.map((finding) => (
            <div key={finding.key} className="guard-finding" data-kind={finding.kind}>
              <div className="guard-text">
                <strong>{finding.title}</strong>
                <span>{finding.message}</span>
                {finding.suggestion ? <q className="guard-suggestion">{finding.suggestion}</q> : null}
              </div>
              {finding.suggestion ? (
                <button type="button" className="button small" onClick={() => onUseSuggestion(finding)}>
                  Use this
                </button>
              ) : null}
            </div>
          ))}
        </div>
      ) : draft.trim() && effectiveMode === 'reply' ? (
        <div className="guard ok" role="status" aria-live="polite" data-testid="guard-ok">
          ✓ Continuity check passed
        </div>
      ) : null}
      <div className="composer-tabs" role="tablist" aria-label="Message type">
        <button
          type="button"
          role="tab"
          aria-selected={effectiveMode === 'reply'}
          className="tab"
          disabled={!canReply}
          onClick={() => onMode('reply')}
          title={canReply ? 'Reply to the customer' : 'Only the owner of the conversation can reply'}
        >
          Reply
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={effectiveMode === 'note'}
          className="tab"
          onClick={() => onMode('note')}
          title="Internal note (Alt+N)"
        >
          Internal note
        </button>
        <div className="saved-replies">
          <button
            type="button"
            className="button ghost small"
            aria-expanded={showSaved}
            aria-haspopup="menu"
            onClick={() => setShowSaved((value) => !value)}
            disabled={effectiveMode !== 'reply'}
          >
            Saved replies ▾
          </button>
          {showSaved ? (
            <div className="menu" role="menu">
              {SAVED_REPLIES.map((reply) => (
                <button
                  key={reply.title}
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    onDraft(draft.trim() ? `${draft.trim()} ${reply.text}` : reply.text);
                    setShowSaved(false);
                    inputRef.current?.focus();
                  }}
                >
                  <strong>{reply.title}</strong>
                  <span className="muted small">{reply.text}</span>
                </button>
              ))}
            </div>
          ) : null}
        </div>
      </div>
      <div className="composer-row">
        <label htmlFor="compose-input" className="sr-only">
          {effectiveMode === 'reply' ? 'Reply to the customer' : 'Internal note'}
        </label>
        <textarea
          id="compose-input"
          ref={inputRef}
          value={draft}
          rows={3}
          placeholder={
            effectiveMode === 'reply'
              ? 'Write a reply… (Enter to send, Shift+Enter for a new line)'
              : 'Internal note, never shown to the customer…'
          }
          onChange={(event) => onDraft(event.target.value)}
          onKeyDown={onKeyDown}
          maxLength={8000}
          data-testid="compose"
        />
        <button type="submit" className="button primary" disabled={busy || !draft.trim()}>
          {effectiveMode === 'reply' ? 'Send' : 'Add note'}
        </button>
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
