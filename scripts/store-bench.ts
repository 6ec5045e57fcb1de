/**
 * Store hot-path latency: `node --import tsx scripts/store-bench.ts [sqlite|postgres] [conversations] [operations]`.
 * Seeds N live conversations, then times appends (a customer message, then a handoff request) to
 * random conversations, one at a time and with 20 in flight, plus a read of each log's tail.
 * Prints percentiles as JSON. A measurement, not a test: timings depend on the machine.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createStore } from '../packages/server/src/store/sql-store.ts';

const backend = process.argv[2] ?? 'sqlite';
const conversations = Number(process.argv[3] ?? 1000);
const operations = Number(process.argv[4] ?? 5000);
const postgresUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const directory = mkdtempSync(join(tmpdir(), 'baton-bench-'));
const schema = `baton_bench_${randomBytes(4).toString('hex')}`;
const store =
  backend === 'postgres'
    ? createStore({ url: postgresUrl, schema })
    : createStore({ file: join(directory, 'bench.db') });

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(3));
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

async function timed(samples: number[], work: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await work();
  samples.push(performance.now() - start);
}

try {
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

  console.log(
    JSON.stringify(
      {
        backend,
        conversations,
        cpuMsPerAppendAndRead,
        appendMs: percentiles(sequential),
        readTailMs: percentiles(reads),
        appendWith20InFlightMs: percentiles(concurrent),
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
  if (backend === 'postgres') {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
}
