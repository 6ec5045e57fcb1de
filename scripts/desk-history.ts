/**
 * A routing pass's reads as the desk's history grows: `npx tsx scripts/desk-history.ts [sqlite|postgres] [sizes]`.
 * Seeds 50 agents, a live desk (20 waiting, 25 open offers, 40 assigned) and then a history of finished
 * offers and closed handoffs spread over the last two days (`sizes`, comma-separated, default 0,20000,200000
 * offers, half as many handoffs), and times `passReads` (what every pass reads first) and `handleTimes`
 * over the last day, as the router reads it for its wait estimates every 30 s, at each size. A pass whose reads grow with the history slows the whole desk
 * down month after month; these figures say whether they do. A measurement, not a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import {
  deskHandoffRow,
  deskOfferRow,
  insertDeskRows,
  seedDeskHistory,
} from '../packages/cli/src/bench/desk-history-seed.ts';
import { SharedDeskMetrics } from '../packages/server/src/routing/desk-metrics.ts';
import { DeskStore } from '../packages/server/src/routing/desk-store.ts';
import { createStore, type SqlStore } from '../packages/server/src/store/sql-store.ts';

const backend = process.argv[2] ?? 'sqlite';
const sizes = (process.argv[3] ?? '0,20000,200000').split(',').map(Number);
const postgresUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const AGENTS = 50;
const HOUR = 3600_000;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(3));
}

async function timed(times: number, work: () => Promise<unknown>) {
  const samples: number[] = [];
  for (let index = 0; index < times; index++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

const schema = `desk_history_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'baton-desk-history-'));
let store: SqlStore;
if (backend === 'postgres') {
  const admin = createStore({ url: postgresUrl });
  await sql`create schema if not exists ${sql.id(schema)}`.execute(admin.handle.db);
  await admin.close();
  store = createStore({ url: postgresUrl, schema });
} else {
  store = createStore({ file: join(dir, 'baton.db') });
}
await store.migrate();
const db = store.handle.db;
const desk = new DeskStore(store.handle);
const now = Date.now();
const at = (ms: number) => new Date(ms).toISOString();

const agentIds: string[] = [];
for (let index = 0; index < AGENTS; index++) {
  const id = `agent-${index}`;
  agentIds.push(id);
  await sql`insert into agents (id, email, name, role, password_hash, skills, languages, capacity, presence, created_at)
    values (${id}, ${`${id}@example.test`}, ${`Agent ${index}`}, 'agent', 'x', '["billing"]', '["en"]', 3, 'online', ${at(now)})`.execute(
    db,
  );
}

// The live desk, the same at every size.
const live = (prefix: string, count: number, state: string, waitingSince: number, agent?: (index: number) => string) =>
  Array.from({ length: count }, (_, index) =>
    deskHandoffRow({ conversationId: `live-${prefix}-${index}`, state, waitingSince, agentId: agent?.(index) ?? null }),
  );
await insertDeskRows(db, 'desk_handoffs', [
  ...live('waiting', 20, 'waiting', now - 60_000),
  ...live('offered', 25, 'offered', now - 30_000),
  ...live('assigned', 40, 'assigned', now - 600_000, (index) => agentIds[index % AGENTS]!),
]);
await insertDeskRows(
  db,
  'desk_offers',
  Array.from({ length: 25 }, (_, index) =>
    deskOfferRow({
      conversationId: `live-offered-${index}`,
      state: 'open',
      createdAt: now - 5_000,
      agentId: agentIds[index]!,
    }),
  ),
);

let seeded = 0;
const results: Record<string, unknown>[] = [];
for (const size of sizes) {
  await seedDeskHistory(db, { agentIds, offers: size, from: seeded, now });
  seeded = Math.max(seeded, size);
  if (backend === 'postgres') await sql`analyze`.execute(db);
  await desk.passReads(new Date());
  const pass = await timed(200, () => desk.passReads(new Date()));
  const handle = await timed(50, () => desk.handleTimes(at(Date.now() - 24 * HOUR)));
  // The supervisor's "Last 24 hours" chart, its desk part (no record replays), a minute apart each time: the
  // first adds up the whole day (the p99), the others only what has not settled (the p50).
  let clock = Date.now();
  const charts = new SharedDeskMetrics({ desk, now: () => (clock += 60_000) });
  const chart = await timed(5, () => charts.get({ hours: 24, bucketMinutes: 60 }));
  const row = { backend, history_offers: size, pass_reads_ms: pass, handle_times_ms: handle, chart_24h_ms: chart };
  results.push(row);
  console.log(JSON.stringify(row));
}

await store.close();
if (backend === 'postgres') {
  const admin = createStore({ url: postgresUrl });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.handle.db);
  await admin.close();
}
rmSync(dir, { recursive: true, force: true });
console.table(
  results.map((row) => ({
    'past offers': row.history_offers,
    'pass reads p50 ms': (row.pass_reads_ms as { p50: number }).p50,
    'pass reads p99 ms': (row.pass_reads_ms as { p99: number }).p99,
    'handle times p50 ms': (row.handle_times_ms as { p50: number }).p50,
    '24 h chart p50 ms': (row.chart_24h_ms as { p50: number }).p50,
  })),
);
