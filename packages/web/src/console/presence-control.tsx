import { useState } from 'react';
import { describeError, Nothing, request } from '../lib/api.ts';
import type { AgentSession } from './agent-session.ts';

type Presence = 'online' | 'away' | 'offline';

/** Presence decides whether routing offers this agent new handoffs; it never takes away owned ones. */
export function PresenceControl({ session }: { session: AgentSession }) {
  const initial = (session.agent as { presence?: Presence }).presence ?? 'online';
  const [presence, setPresence] = useState<Presence>(initial);
  const [error, setError] = useState<string | null>(null);

  const change = async (next: Presence) => {
    const previous = presence;
    setPresence(next);
    setError(null);
    try {
      await request('/v1/desk/presence', Nothing, { body: { presence: next }, agentToken: session.token });
    } catch (caught) {
      setPresence(previous);
      setError(describeError(caught));
    }
  };

  return (
    <label className={`presence presence-${presence}`} title={error ?? 'Your availability for new handoffs'}>
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
