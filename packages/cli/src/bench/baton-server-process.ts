/**
 * Child process: one Baton server, exactly as `baton start` would build it, plus the bench's agents.
 * It runs in its own process so the load generators never share its event loop. Configuration comes
 * from the environment (the same variables as `baton start`); it reports its URL to the parent over IPC.
 */

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { hashPassword } from '../../../server/src/app/auth.ts';
import { createServer } from '../../../server/src/app/server.ts';
import { loadConfig } from '../../../server/src/config.ts';
import {
  BenchAgentSeed,
  type MemoryReport,
  MemoryRequest,
  type PausesReport,
  PausesRequest,
} from './bench-protocol.ts';
import { seedDeskHistory } from './desk-history-seed.ts';
import { LoopStallRecorder } from './loop-stalls.ts';
import { loopLateness } from './process-handle.ts';

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

if (seed.history > 0) {
  // Written before listening, so none of it falls inside the run; the conversations are not (see the seed).
  await seedDeskHistory(server.deps.database.db, {
    agentIds: seed.agents.map((agent) => agent.id),
    offers: seed.history,
  });
}

// What holds the loop up, for the report's tail: a timer every 10 ms (cheap) and every GC pause.
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();
// The stalls on the clients' clock (see loop-stalls.ts).
const stallRecorder = new LoopStallRecorder();

process.on('message', (message: unknown) => {
  const request = PausesRequest.safeParse(message);
  if (!request.success) return;
  const report: PausesReport = {
    type: 'pauses',
    id: request.data.id,
    loopDelayMs: loopLateness(loopDelay, LOOP_RESOLUTION_MS),
    ...stallRecorder.take(),
  };
  process.send?.(report);
  void allocationProfile();
  loopDelay.reset();
});

/**
 * Diagnostics: with BATON_BENCH_ALLOCATIONS=file, V8's sampling heap profiler records where the measured
 * phase allocates, garbage included (what makes the scavenges), into a .heapprofile for Chrome DevTools.
 */
const allocationsFile = process.env.BATON_BENCH_ALLOCATIONS;
let profiler: Session | undefined;
async function allocationProfile(): Promise<void> {
  if (!allocationsFile) return;
  if (!profiler) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('HeapProfiler.startSampling', {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  const { profile } = await profiler.post('HeapProfiler.stopSampling');
  writeFileSync(allocationsFile, JSON.stringify(profile));
  profiler.disconnect();
}

const MB = 1024 * 1024;
// The orchestrator measures memory from inside: RSS alone cannot tell live objects from garbage not yet collected.
process.on('message', (message: unknown) => {
  const request = MemoryRequest.safeParse(message);
  if (!request.success) return;
  const collect: unknown = Reflect.get(globalThis, 'gc');
  const gc = request.data.gc && typeof collect === 'function';
  if (gc) collect();
  if (request.data.snapshot) writeHeapSnapshot(request.data.snapshot);
  const usage = process.memoryUsage();
  const code = getHeapSpaceStatistics()
    .filter((space) => space.space_name.startsWith('code_'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
  const report: MemoryReport = {
    type: 'memory',
    id: request.data.id,
    gc,
    usage: {
      rss: usage.rss / MB,
      heapUsed: usage.heapUsed / MB,
      heapTotal: usage.heapTotal / MB,
      external: usage.external / MB,
      arrayBuffers: usage.arrayBuffers / MB,
      code: code / MB,
    },
  };
  process.send?.(report);
});

process.send?.({ type: 'listening', url: server.url, pid: process.pid, execArgv: process.execArgv });

const shutdown = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);
