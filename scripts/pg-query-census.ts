/**
 * What a server asks PostgreSQL, how often and how long it waits: statements by shape (their first 60
 * characters), each one's latency, the pool's connection waits and the desk lease's lock waits, every 5 s.
 * Diagnostics for the PostgreSQL bench; not part of the server.
 *
 * Record (each Baton server process appends to DIR/census-<pid>.jsonl):
 *   BATON_PG_CENSUS_DIR=/tmp/census BATON_BENCH_SERVER_ARGS="--import ./scripts/pg-query-census.ts" \
 *     npx baton bench --store postgres --processes 2
 * Report (statements per second over windows FROM..TO of 5 s, summed over processes; waits per window):
 *   npx tsx scripts/pg-query-census.ts DIR [from=9] [to=15]
 *
 * It wraps pg's Client.prototype.query and Pool.prototype.connect in the process it is imported into.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const WINDOW_MS = 5000;
const LEASE_SHAPE = 'begin; select set_config';

interface Line {
  t: number;
  /** Statements issued so far, by shape (cumulative). */
  counts: Record<string, number>;
  /** This window's latencies by shape: [count, p50, p99, max] in ms. */
  latency: Record<string, number[]>;
  /** This window's waits for a pool connection: [count, p50, p99, max] in ms. */
  acquire: number[];
}

function quantiles(values: number[]): number[] {
  if (values.length === 0) return [0, 0, 0, 0];
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1));
  return [sorted.length, at(0.5), at(0.99), at(1)];
}

function record(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const require = createRequire(join(import.meta.dirname, '../packages/server/package.json'));
  const pg = require('pg') as {
    Client: { prototype: { query: (...args: unknown[]) => unknown } };
    Pool: { prototype: { connect: (...args: unknown[]) => unknown } };
  };
  const counts = new Map<string, number>();
  const latency = new Map<string, number[]>();
  const acquire: number[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string } | undefined;
    const text = typeof config === 'string' ? config : config?.text;
    const shape = typeof text === 'string' ? text.replace(/\s+/g, ' ').trim().slice(0, 60) : '(other)';
    counts.set(shape, (counts.get(shape) ?? 0) + 1);
    const started = performance.now();
    const result = query.apply(this, args);
    if (result instanceof Promise) {
      result.then(
        () => latency.set(shape, [...(latency.get(shape) ?? []), performance.now() - started]),
        () => undefined,
      );
    }
    return result;
  };
  const connect = pg.Pool.prototype.connect;
  pg.Pool.prototype.connect = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    const callback = args[0] as ((error: unknown, ...rest: unknown[]) => void) | undefined;
    if (callback) {
      return connect.call(this, (error: unknown, ...rest: unknown[]) => {
        acquire.push(performance.now() - started);
        callback(error, ...rest);
      });
    }
    return (connect.call(this) as Promise<unknown>).then((client) => {
      acquire.push(performance.now() - started);
      return client;
    });
  };
  const file = join(dir, `census-${process.pid}.jsonl`);
  setInterval(() => {
    const line: Line = {
      t: Date.now(),
      counts: Object.fromEntries(counts),
      latency: Object.fromEntries([...latency].map(([shape, values]) => [shape, quantiles(values)])),
      acquire: quantiles(acquire),
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    latency.clear();
    acquire.length = 0;
  }, WINDOW_MS).unref();
}

function report(dir: string, from: number, to: number): void {
  const files = readdirSync(dir).filter((name) => name.startsWith('census-') && name.endsWith('.jsonl'));
  const perSecond = new Map<string, number>();
  for (const name of files) {
    const lines = readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((text) => JSON.parse(text) as Line);
    const first = lines[Math.min(from, lines.length - 1)];
    const last = lines[Math.min(to, lines.length - 1)];
    if (!first || !last) continue;
    const seconds = Math.max(1, (last.t - first.t) / 1000);
    for (const [shape, count] of Object.entries(last.counts)) {
      const rate = (count - (first.counts[shape] ?? 0)) / seconds;
      perSecond.set(shape, (perSecond.get(shape) ?? 0) + rate);
    }
    console.log(`${name}: [count, p50, p99, max] ms per window ${from}..${to}`);
    for (const line of lines.slice(from + 1, to + 1)) {
      const lease = line.latency[Object.keys(line.latency).find((shape) => shape.startsWith(LEASE_SHAPE)) ?? ''];
      console.log(`  lease lock wait ${JSON.stringify(lease ?? [])}  pool wait ${JSON.stringify(line.acquire)}`);
    }
  }
  const total = [...perSecond.values()].reduce((sum, rate) => sum + rate, 0);
  console.log(`statements per second, all processes: ${total.toFixed(0)}`);
  for (const [shape, rate] of [...perSecond].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${rate.toFixed(1).padStart(8)}/s  ${shape}`);
  }
}

const recordDir = process.env.BATON_PG_CENSUS_DIR;
if (process.argv[1]?.endsWith('pg-query-census.ts') && process.argv[2]) {
  report(process.argv[2], Number(process.argv[3] ?? 9), Number(process.argv[4] ?? 15));
} else if (recordDir) {
  record(recordDir);
}
