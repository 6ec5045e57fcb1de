import { useEffect, useState } from 'react';
import { z } from 'zod';
import { describeError, Nothing, request } from '../lib/api.ts';
import type { BatonStream } from '../lib/stream.ts';
import type { AgentSession } from './agent-session.ts';

const Presence = z.enum(['online', 'away', 'offline']);
type Presence = z.infer<typeof Presence>;
/** A presence notice on the desk: any agent's, from any process; `reason` when the server changed it. */
const PresenceNotice = z.object({ agentId: z.string(), presence: Presence, reason: z.string().optional() });

const REASONS: Record<string, string> = {
  console_closed: 'You were set offline while no console was open',
  console_opened: 'Back online: your console reconnected',
};

/**
 * Presence decides whether routing offers this agent new handoffs; it never takes away owned ones. It
 * follows the desk: a change made elsewhere (another tab, the server when no console was open) shows here.
 */
export function PresenceControl({ session, stream }: { session: AgentSession; stream: BatonStream }) {
  const initial = Presence.catch('online').parse((session.agent as { presence?: unknown }).presence ?? 'online');
  const [presence, setPresence] = useState<Presence>(initial);
  const [error, setError] = useState<string | null>(null);
  const [reason, setReason] = useState<string | null>(null);

  useEffect(
    () =>
      stream.listen({
        desk: (frame) => {
          if (frame.name !== 'presence') return;
          const notice = PresenceNotice.safeParse(frame.payload);
          if (!notice.success || notice.data.agentId !== session.agent.id) return;
          setPresence(notice.data.presence);
          setReason(notice.data.reason ? (REASONS[notice.data.reason] ?? null) : null);
        },
      }),
    [stream, session.agent.id],
  );

  const change = async (next: Presence) => {
    const previous = presence;
    setPresence(next);
    setError(null);
    setReason(null);
    try {
      await request('/v1/desk/presence', Nothing, { body: { presence: next }, agentToken: session.token });
    } catch (caught) {
      setPresence(previous);
      setError(describeError(caught));
    }
  };

  return (
    <label
      className={`presence presence-${presence}`}
      title={error ?? reason ?? 'Your availability for new handoffs'}
      data-testid="presence"
    >
      <span className="sr-only">Availability</span>
      <span className="presence-dot" aria-hidden="true" />
      <select value={presence} onChange={(event) => void change(event.target.value as Presence)} aria-invalid={!!error}>
        <option value="online">Online</option>
        <option value="away">Away</option>
        <option value="offline">Offline</option>
      </select>
    </label>
  );
}
