/**
 * Store hot-path latency: `node --import tsx scripts/store-bench.ts [sqlite|postgres] [conversations] [operations]`.
 * Seeds N live conversations, then times appends (a customer message, then a handoff request) to
 * random conversations, one at a time and with 20 in flight, plus a read of each log's tail.
 * On SQLite it measures both paths in the same run, each on a fresh file: `kysely` (every query through
 * Kysely, as before the fast path) and `fast` (the store's synchronous prepared statements).
 * Prints percentiles and ops/s as JSON, then a summary table. A measurement, not a test: timings
 * depend on the machine.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, type DatabaseConfig } from '../packages/server/src/store/database.ts';
import { SqlStore } from '../packages/server/src/store/sql-store.ts';

const backend = process.argv[2] ?? 'sqlite';
const conversations = Number(process.argv[3] ?? 1000);
const operations = Number(process.argv[4] ?? 5000);
const postgresUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type Path = 'kysely' | 'fast';

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(3));
  const total = samples.reduce((sum, sample) => sum + sample, 0);
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: at(1),
    opsPerSecond: Math.round(total > 0 ? (samples.length * 1000) / total : 0),
  };
}

async function timed(samples: number[], work: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await work();
  samples.push(performance.now() - start);
}

function openStore(config: DatabaseConfig, path: Path): SqlStore {
  const handle = createDatabase(config);
  // Without the fast path every method takes the Kysely queries, as PostgreSQL does.
  return new SqlStore(path === 'kysely' ? { ...handle, sqliteFastPath: undefined } : handle);
}

async function measure(store: SqlStore) {
  await store.migrate();
  const ids = Array.from({ length: conversations }, (_, index) => `bench_${index}`);
  for (const id of ids) {
    await store.createConversation({
      id,
      industry: 'ecommerce',
      channel: 'widget',
      customerTokenHash: 'h'.repeat(64),
      owner: { kind: 'ai' },
    });
    await store.append(
      id,
      Array.from({ length: 10 }, (_, index) => ({
        type: 'message' as const,
        author: index % 2 ? ('ai' as const) : ('customer' as const),
        text: `seed message ${index} with some realistic length to it, like a customer would write`,
      })),
    );
  }
  const pick = () => ids[Math.floor(Math.random() * ids.length)] ?? 'bench_0';

  const sequential: number[] = [];
  const reads: number[] = [];
  // CPU time per operation says what the store costs even when a busy machine inflates wall time.
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < operations; index += 1) {
    const id = pick();
    await timed(sequential, () =>
      store.append(id, [
        { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: ['billing'] },
      ]),
    );
    await timed(reads, () => store.readEvents(id, 5, 100));
  }
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerAppendAndRead = Number(((cpu.user + cpu.system) / 1000 / operations).toFixed(3));

  const concurrent: number[] = [];
  let next = 0;
  const wallStart = performance.now();
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < operations) {
        next += 1;
        const id = pick();
        await timed(concurrent, () =>
          store.append(id, [{ type: 'message', author: 'customer', text: 'still there?' }]),
        );
      }
    }),
  );
  const wallMs = performance.now() - wallStart;

  return {
    cpuMsPerAppendAndRead,
    appendMs: percentiles(sequential),
    readTailMs: percentiles(reads),
    // ops/s here is throughput: appends finished per second of wall time, 20 at a time.
    appendWith20InFlightMs: { ...percentiles(concurrent), opsPerSecond: Math.round((operations * 1000) / wallMs) },
  };
}

const directory = mkdtempSync(join(tmpdir(), 'baton-bench-'));
const schemas: string[] = [];
const results: Partial<Record<Path, Awaited<ReturnType<typeof measure>>>> = {};
try {
  const paths: Path[] = backend === 'postgres' ? ['kysely'] : ['kysely', 'fast'];
  for (const path of paths) {
    let config: DatabaseConfig;
    if (backend === 'postgres') {
      const schema = `baton_bench_${randomBytes(4).toString('hex')}`;
      schemas.push(schema);
      config = { url: postgresUrl, schema };
    } else {
      config = { file: join(directory, `bench-${path}.db`) };
    }
    const store = openStore(config, path);
    try {
      results[path] = await measure(store);
    } finally {
      await store.close();
    }
  }
  console.log(JSON.stringify({ backend, conversations, operations, ...results }, null, 2));
  const row = (path: string, operation: string, sample: { p50: number; p99: number; opsPerSecond: number }) => ({
    path,
    operation,
    p50Ms: sample.p50,
    p99Ms: sample.p99,
    opsPerSecond: sample.opsPerSecond,
  });
  console.table(
    Object.entries(results).flatMap(([path, result]) => [
      row(path, 'append', result.appendMs),
      row(path, 'readEvents (tail)', result.readTailMs),
      row(path, 'append, 20 in flight', result.appendWith20InFlightMs),
      { path, operation: 'CPU ms per append + read', p50Ms: result.cpuMsPerAppendAndRead },
    ]),
  );
} finally {
  rmSync(directory, { recursive: true, force: true });
  if (schemas.length > 0) {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
}
