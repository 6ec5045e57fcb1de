import { BatonError, type StoredEvent } from '@baton/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type ConversationSummary, describeError, Nothing, request } from '../lib/api.ts';
import { formatDuration, humanize, secondsSince } from '../lib/format.ts';
import { ActionDialog, type ActionInput, type DeskAction } from './action-dialog.tsx';
import type { AgentSession } from './agent-session.ts';
import { BriefPanel } from './brief-panel.tsx';
import { buildBriefView } from './brief-view.ts';
import { type ComposeMode, Composer } from './composer.tsx';
import { Transcript } from './transcript.tsx';
import type { Desk } from './use-desk.ts';
import { useDeskAgents } from './use-desk-agents.ts';
import { type GuardFindingView, useGuard } from './use-guard.ts';

export function ConversationPane({
  desk,
  session,
  conversationId,
  summary,
  draft,
  onDraft,
}: {
  desk: Desk;
  session: AgentSession;
  conversationId: string;
  summary: ConversationSummary | undefined;
  draft: string;
  onDraft: (value: string) => void;
}) {
  const { events, state } = desk.log.get(conversationId);
  const me = session.agent.id;
  const mine = state.owner.kind === 'agent' && state.owner.id === me;
  const offeredToMe = state.status === 'offered' && state.handoff?.offeredTo === me;
  const brief = useMemo(() => buildBriefView(events, summary?.customerName), [events, summary?.customerName]);
  const findings = useGuard(events, mine ? draft : '');
  const [dialog, setDialog] = useState<DeskAction | null>(null);
  const agents = useDeskAgents(session.token, dialog === 'transfer');
  const [mode, setMode] = useState<ComposeMode>('reply');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [highlight, setHighlight] = useState<number | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const transcriptRef = useRef<HTMLDivElement>(null);
  // Follow new messages only while the agent is at the bottom; reading further up is not interrupted.
  const followNewest = useRef(true);
  const acceptRef = useRef<HTMLButtonElement>(null);
  const typingSent = useRef(false);
  // The last event on screen when a dialog opened: a resolve says so, and the server refuses it when the
  // customer wrote after it (the dialog covered the transcript meanwhile).
  const seenSeq = useRef(0);
  const latestEvents = useRef(events);
  latestEvents.current = events;
  const customerTyping = desk.typing.has(conversationId);
  const path = `/v1/conversations/${encodeURIComponent(conversationId)}`;

  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the newest event and typing line
  useEffect(() => {
    const element = transcriptRef.current;
    if (element && followNewest.current) element.scrollTop = element.scrollHeight;
  }, [events.length, customerTyping]);

  useEffect(() => {
    if (offeredToMe) acceptRef.current?.focus();
  }, [offeredToMe]);

  const call = useCallback(
    async (suffix: string, body: Record<string, unknown>) => {
      setBusy(true);
      setError(null);
      try {
        await request(`${path}/${suffix}`, Nothing, { body, agentToken: session.token });
        return true;
      } catch (caught) {
        const wrote = BatonError.is(caught) ? customerWrote(caught.details, latestEvents.current) : undefined;
        if (wrote) {
          // Shown now: resolving again closes it (or cancel, and answer first).
          seenSeq.current = wrote.seq;
          setError(
            wrote.text
              ? `The customer wrote while you were closing: “${wrote.text}” Resolve again if it needs nothing more, or cancel and answer.`
              : 'The customer wrote while you were closing. Cancel to read it, or resolve again.',
          );
        } else {
          // An accept that lost the race says so plainly; any other conflict says what the server said.
          setError(
            suffix === 'accept' && BatonError.is(caught) && caught.code === 'conflict'
              ? 'Someone else took this conversation first.'
              : describeError(caught),
          );
        }
        return false;
      } finally {
        setBusy(false);
      }
    },
    [path, session.token],
  );

  const openDialog = (action: DeskAction) => {
    seenSeq.current = latestEvents.current.at(-1)?.seq ?? 0;
    setDialog(action);
  };

  const accept = async () => {
    if (await call('accept', {})) {
      if (brief.greeting && !draft.trim()) onDraft(brief.greeting);
      desk.refresh();
      requestAnimationFrame(() => inputRef.current?.focus());
    }
  };

  const decline = async () => {
    if (await call('decline', {})) desk.refresh();
  };

  const setDraft = (value: string) => {
    onDraft(value);
    const typing = mine && mode === 'reply' && value.trim().length > 0;
    if (typing !== typingSent.current) {
      typingSent.current = typing;
      desk.stream.typing(conversationId, typing);
    }
  };

  // The draft as it is now, not as it was when a send began: what the agent wrote meanwhile is theirs.
  const draftNow = useRef(draft);
  draftNow.current = draft;
  const send = async () => {
    const text = draft.trim();
    if (!text || busy) return;
    const asNote = mode === 'note' || !mine;
    if (await call(asNote ? 'notes' : 'messages', { text })) {
      followNewest.current = true;
      // Emptied only if it still holds what was sent: the next message, started while this one was on
      // its way, stays in the box (before, it was wiped when the answer came).
      if (draftNow.current.trim() === text) setDraft('');
      inputRef.current?.focus();
    }
  };

  const runAction = async (input: ActionInput) => {
    if (!dialog) return;
    const body: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) if (value) body[key] = value;
    if (dialog === 'resolve') body.seenSeq = seenSeq.current;
    if (await call(dialog, body)) {
      setDialog(null);
      desk.refresh();
    }
  };

  const showSource = (seq: number) => {
    const element = document.getElementById(`event-${seq}`);
    if (!element) return;
    // Cleared first so a second click on the same fact plays the highlight again.
    setHighlight(null);
    requestAnimationFrame(() => setHighlight(seq));
    element.scrollIntoView({ behavior: 'smooth', block: 'center' });
    element.focus({ preventScroll: true });
  };

  const applySuggestion = (finding: GuardFindingView) => {
    if (!finding.suggestion) return;
    if (finding.start !== undefined && finding.end !== undefined && finding.end <= draft.length) {
      setDraft(`${draft.slice(0, finding.start)}${finding.suggestion}${draft.slice(finding.end)}`);
    } else setDraft(finding.suggestion);
    inputRef.current?.focus();
  };

  // Keyboard shortcuts that act on this conversation; typing in a field never triggers them.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      const inField = target?.closest('input, textarea, select, [contenteditable="true"]');
      if (event.altKey && !event.ctrlKey && !event.metaKey) {
        const key = event.key.toLowerCase();
        if (key === 'n') {
          event.preventDefault();
          setMode((current) => (current === 'note' ? 'reply' : 'note'));
          inputRef.current?.focus();
        } else if (mine && key === 't') {
          event.preventDefault();
          openDialog('transfer');
        } else if (mine && key === 'h') {
          event.preventDefault();
          openDialog('return');
        } else if (mine && key === 'r') {
          event.preventDefault();
          openDialog('resolve');
        }
        return;
      }
      if (inField || event.ctrlKey || event.metaKey) return;
      if (offeredToMe && event.key === 'a') {
        event.preventDefault();
        void accept();
      } else if (offeredToMe && event.key === 'd') {
        event.preventDefault();
        void decline();
      } else if (event.key === 'r' || event.key === '/') {
        event.preventDefault();
        inputRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const customerName = summary?.customerName ?? brief.customerName ?? 'Customer';
  const waited = state.handoff?.requestedAt ? secondsSince(state.handoff.requestedAt) : null;

  return (
    <div className="conversation">
      <section className="conversation-main" aria-label={`Conversation with ${customerName}`}>
        <header className="conversation-header">
          <div>
            <h2 data-testid="conversation-title">{customerName}</h2>
            <p className="muted small">
              <span className={`badge ${state.status}`} data-testid="conversation-status">
                {statusText(state.status, state.owner, me)}
              </span>
              {summary?.industry ? ` · ${humanize(summary.industry)}` : ''}
              {waited !== null && (state.status === 'queued' || state.status === 'offered')
                ? ` · waiting ${formatDuration(waited)}`
                : ''}
            </p>
          </div>
          <div className="conversation-actions">
            {offeredToMe ? (
              <>
                <button type="button" className="button" onClick={() => void decline()} disabled={busy}>
                  Decline <kbd>D</kbd>
                </button>
                <button
                  type="button"
                  ref={acceptRef}
                  className="button success"
                  onClick={() => void accept()}
                  disabled={busy}
                  data-testid="accept"
                >
                  Accept <kbd>A</kbd>
                </button>
              </>
            ) : null}
            {mine ? (
              <>
                <button type="button" className="button" onClick={() => openDialog('transfer')} title="Alt+T">
                  Transfer
                </button>
                <button type="button" className="button" onClick={() => openDialog('return')} title="Alt+H">
                  Hand back to AI
                </button>
                <button type="button" className="button primary" onClick={() => openDialog('resolve')} title="Alt+R">
                  Resolve
                </button>
              </>
            ) : null}
          </div>
        </header>
        {offeredToMe ? (
          <div className="offer-banner" role="alert">
            <strong>New handoff for you.</strong> Read the brief, then accept to take over.
            <OfferCountdown expiresAt={offerExpiry(events, me)} />
          </div>
        ) : null}
        <div
          className="transcript-scroll"
          ref={transcriptRef}
          onScroll={(event) => {
            const element = event.currentTarget;
            followNewest.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
          }}
        >
          <Transcript events={events} highlight={highlight} />
          {customerTyping ? (
            <p className="typing-line" aria-live="polite" data-testid="customer-typing">
              <span className="dots" aria-hidden="true">
                <i />
                <i />
                <i />
              </span>
              {customerName} is typing…
            </p>
          ) : null}
          <div className="sr-only" aria-live="polite">
            {lastMessageAnnouncement(events)}
          </div>
        </div>
        {error && dialog === null ? (
          <p className="form-error inline" role="alert">
            {error}
          </p>
        ) : null}
        <Composer
          draft={draft}
          mode={mode}
          canReply={mine}
          findings={findings}
          busy={busy}
          error={null}
          inputRef={inputRef}
          onDraft={setDraft}
          onMode={setMode}
          onSend={() => void send()}
          onUseSuggestion={applySuggestion}
        />
      </section>
      <aside className="conversation-side" aria-label="Brief">
        <BriefPanel brief={brief} onShowSource={showSource} />
      </aside>
      {dialog ? (
        <ActionDialog
          action={dialog}
          agents={agents}
          me={me}
          busy={busy}
          error={error}
          onCancel={() => {
            setDialog(null);
            setError(null);
          }}
          onSubmit={(input) => void runAction(input)}
        />
      ) : null}
    </div>
  );
}

function statusText(status: string, owner: { kind: string; id?: string; name?: string }, me: string): string {
  if (status === 'assigned') return owner.id === me ? 'You own this' : `With ${owner.name ?? 'another agent'}`;
  if (status === 'active') return owner.kind === 'bot' ? 'With the bot' : 'With the AI';
  if (status === 'offered') return 'Offered';
  if (status === 'queued') return 'Waiting for an agent';
  return humanize(status);
}

function lastMessageAnnouncement(events: readonly { type: string; seq: number }[]): string {
  const last = [...events].reverse().find((event) => event.type === 'message');
  if (last?.type !== 'message') return '';
  const message = last as unknown as { author: string; text: string };
  return message.author === 'agent' ? '' : `New message: ${message.text}`;
}

function offerExpiry(events: readonly StoredEvent[], me: string): string | undefined {
  for (let index = events.length - 1; index >= 0; index -= 1) {
    const event = events[index];
    if (event?.type === 'handoff.offered') return event.agentId === me ? event.expiresAt : undefined;
  }
  return undefined;
}

function OfferCountdown({ expiresAt }: { expiresAt: string | undefined }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!expiresAt) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [expiresAt]);
  if (!expiresAt) return null;
  const left = Math.max(0, Math.round((Date.parse(expiresAt) - now) / 1000));
  return <span className="offer-countdown"> {left > 0 ? `Offer expires in ${left}s.` : 'Offer expiring…'}</span>;
}

/** A resolve refused because the customer wrote after what the agent saw: that message, when on screen. */
function customerWrote(
  details: Record<string, unknown> | undefined,
  events: readonly StoredEvent[],
): { seq: number; text: string | undefined } | undefined {
  if (details?.reason !== 'customer_wrote' || typeof details.lastCustomerMessageSeq !== 'number') return undefined;
  const seq = details.lastCustomerMessageSeq;
  const message = events.find((event) => event.seq === seq);
  return { seq, text: message?.type === 'message' ? message.text : undefined };
}
