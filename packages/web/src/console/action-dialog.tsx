import { DEFAULT_QUEUES } from '@baton/core';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { DeskAgent } from './use-desk-agents.ts';

export type DeskAction = 'transfer' | 'return' | 'resolve';

export interface ActionInput {
  queue?: string;
  agentId?: string;
  note?: string;
  summary?: string;
}

const TITLES: Record<DeskAction, string> = {
  transfer: 'Transfer conversation',
  return: 'Hand back to the AI',
  resolve: 'Resolve conversation',
};

/** A modal form for the three ways an agent lets go of a conversation. Escape closes it, focus returns. */
export function ActionDialog({
  action,
  agents,
  me,
  busy,
  error,
  onCancel,
  onSubmit,
}: {
  action: DeskAction;
  agents: readonly DeskAgent[];
  me: string;
  busy: boolean;
  error: string | null;
  onCancel: () => void;
  onSubmit: (input: ActionInput) => void;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const [target, setTarget] = useState<'queue' | 'agent'>('queue');
  const [queue, setQueue] = useState('billing');
  const [agentId, setAgentId] = useState('');
  const [text, setText] = useState('');

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const note = text.trim() || undefined;
    if (action === 'transfer') {
      onSubmit(target === 'queue' ? { queue: queue.trim(), note } : { agentId: agentId.trim(), note });
    } else if (action === 'return') onSubmit({ note });
    else onSubmit({ summary: note });
  };

  return (
    <dialog
      ref={dialogRef}
      className="dialog"
      aria-labelledby="action-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <form onSubmit={submit}>
        <h2 id="action-title">{TITLES[action]}</h2>
        {action === 'transfer' ? (
          <>
            <fieldset className="segmented">
              <legend className="sr-only">Transfer to</legend>
              <label>
                <input type="radio" checked={target === 'queue'} onChange={() => setTarget('queue')} /> A queue
              </label>
              <label>
                <input type="radio" checked={target === 'agent'} onChange={() => setTarget('agent')} /> An agent
              </label>
            </fieldset>
            {target === 'queue' ? (
              <>
                <label htmlFor="transfer-queue">Queue</label>
                <select id="transfer-queue" value={queue} onChange={(event) => setQueue(event.target.value)}>
                  {DEFAULT_QUEUES.map((entry) => (
                    <option key={entry.id} value={entry.id}>
                      {entry.name ?? entry.id}
                    </option>
                  ))}
                </select>
              </>
            ) : (
              <>
                <label htmlFor="transfer-agent">Agent</label>
                <select
                  id="transfer-agent"
                  required
                  value={agentId}
                  onChange={(event) => setAgentId(event.target.value)}
                >
                  <option value="">Choose a colleague…</option>
                  {agents
                    .filter((agent) => agent.id !== me)
                    .map((agent) => (
                      <option key={agent.id} value={agent.id}>
                        {agent.name} · {agent.presence} · {agent.load}/{agent.capacity}
                        {agent.skills.length ? ` · ${agent.skills.join(', ')}` : ''}
                      </option>
                    ))}
                </select>
              </>
            )}
          </>
        ) : null}
        <label htmlFor="action-note">
          {action === 'transfer'
            ? 'Note for the next agent'
            : action === 'return'
              ? 'What you did, for the AI'
              : 'Summary (optional)'}
        </label>
        <textarea
          id="action-note"
          rows={4}
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder={
            action === 'transfer' ? 'What you found and what is left to do…' : 'Re-registered the MFA device…'
          }
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy}>
            {action === 'transfer' ? 'Transfer' : action === 'return' ? 'Hand back' : 'Resolve'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
