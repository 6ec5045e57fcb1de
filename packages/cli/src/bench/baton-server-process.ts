/**
 * Child process: one Baton server, exactly as `baton start` would build it, plus the bench's agents.
 * It runs in its own process so the load generators never share its event loop. Configuration comes
 * from the environment (the same variables as `baton start`); it reports its URL to the parent over IPC.
 */

import { hashPassword } from '../../../server/src/app/auth.ts';
import { createServer } from '../../../server/src/app/server.ts';
import { loadConfig } from '../../../server/src/config.ts';
import { BenchAgentSeed } from './bench-protocol.ts';

const seed = BenchAgentSeed.parse(JSON.parse(process.env.BATON_BENCH_SEED ?? '{"agents":[],"password":"unused"}'));
const config = loadConfig(process.env);
const server = await createServer(config);

const { store } = server.deps;
if (seed.agents.length > 0) {
  // One hash for every bench agent: scrypt is deliberately slow and the seed is not what we measure.
  const passwordHash = await hashPassword(seed.password);
  const existing = new Set((await store.listAgents()).map((agent) => agent.email));
  for (const agent of seed.agents) {
    // With two processes on one database, the first one seeds and the second finds the agents there.
    if (existing.has(agent.email)) continue;
    try {
      await store.createAgent({
        id: agent.id,
        email: agent.email,
        name: agent.name,
        passwordHash,
        role: 'agent',
        skills: seed.skills,
        languages: ['en'],
        capacity: seed.capacity,
        presence: 'online',
      });
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'conflict')) throw error;
    }
  }
}

process.send?.({ type: 'listening', url: server.url, pid: process.pid });

const shutdown = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);
