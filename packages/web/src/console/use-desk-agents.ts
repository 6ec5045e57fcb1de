import { useEffect, useState } from 'react';
import { z } from 'zod';
import { request } from '../lib/api.ts';

const DeskAgent = z.looseObject({
  id: z.string(),
  name: z.string(),
  presence: z.string(),
  capacity: z.number(),
  load: z.number(),
  skills: z.array(z.string()),
});
export type DeskAgent = z.infer<typeof DeskAgent>;

/** Colleagues a conversation can be transferred to, with their presence and load, fetched when needed. */
export function useDeskAgents(agentToken: string, enabled: boolean): DeskAgent[] {
  const [agents, setAgents] = useState<DeskAgent[]>([]);
  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    request('/v1/desk/agents', z.object({ agents: z.array(DeskAgent) }), { agentToken })
      .then((answer) => {
        if (!cancelled) setAgents(answer.agents);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [agentToken, enabled]);
  return agents;
}
