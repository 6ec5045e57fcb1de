import { z } from 'zod';
import { Agent } from '../lib/api.ts';

const KEY = 'baton.agent.v1';
const AgentSession = z.object({ token: z.string(), agent: Agent });
export type AgentSession = z.infer<typeof AgentSession>;

/** localStorage: an agent's session outlives a reload and a closed tab, like any work tool. */
export function loadAgentSession(): AgentSession | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const parsed = AgentSession.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function saveAgentSession(session: AgentSession): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearAgentSession(): void {
  localStorage.removeItem(KEY);
}
