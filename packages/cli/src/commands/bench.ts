import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BatonError } from '@baton/core';
import { z } from 'zod';
import { buildReport, renderReport } from '../bench/bench-report.ts';
import { type BenchOptions, DEFAULT_OPTIONS, type Progress, runBench, serverGcFor } from '../bench/run-bench.ts';

export const BENCH_USAGE = `Usage: baton bench [options]

Starts a Baton server in its own process (embedded SQLite in a temp dir by default), drives it through
its public HTTP and WebSocket API from separate load processes, measures a bare HTTP + WebSocket
baseline in the same run, and prints every figure beside its baseline.

Options:
  --conversations N   live customer conversations (default ${DEFAULT_OPTIONS.conversations})
  --agents N          agents connected over WebSocket, accepting offers (default ${DEFAULT_OPTIONS.agents})
  --handoff-rate R    handoffs per second: customers asking for a person (default ${DEFAULT_OPTIONS.handoffRate})
  --duration S        seconds of realistic load on Baton (default ${DEFAULT_OPTIONS.durationSeconds})
  --warmup S          seconds of the same load before it (not measured; memory read after it) (default ${DEFAULT_OPTIONS.warmupSeconds})
  --store KIND        sqlite | postgres (default sqlite; postgres uses DATABASE_URL or ${DEFAULT_OPTIONS.databaseUrl})
  --processes N       Baton server processes; more than 1 shares the work over Redis (REDIS_URL)
  --load-processes N  load generator processes (default ${DEFAULT_OPTIONS.loadProcesses})
  --concurrency N     senders per load process in the saturation phases (default ${DEFAULT_OPTIONS.concurrency})
  --think-scale X     multiplies the simulated customers' pauses (default 1)
  --history N         finished offers (and half as many closed handoffs) on the desk before the run, over
                      the two days before it: a desk with a past (default ${DEFAULT_OPTIONS.history})
  --idle-handoffs N   handoffs timed one at a time on the server idle again after the load: the path
                      without the load's queueing (default ${DEFAULT_OPTIONS.idleHandoffs}; 0 skips them)
  --server-gc MODE    auto | single | parallel: V8's garbage collector in the Baton servers; auto is
                      single-threaded (--single-threaded-gc) when there are as many server processes as
                      cores, Node's parallel default otherwise (default auto)
  --no-core           skip the in-process micro-bench of the core
  --cpu-prof DIR      write a V8 CPU profile of each Baton server and load process into DIR (open in Chrome DevTools)
  --json              print the JSON report on stdout (progress stays on stderr)
`;

const positiveInt = (name: string) =>
  z.coerce
    .number({ message: `--${name} must be a number` })
    .int(`--${name} must be whole`)
    .positive(`--${name} must be positive`);

const Flags = z.object({
  conversations: positiveInt('conversations').default(DEFAULT_OPTIONS.conversations),
  agents: positiveInt('agents').default(DEFAULT_OPTIONS.agents),
  'handoff-rate': z.coerce
    .number()
    .nonnegative('--handoff-rate must be 0 or more')
    .default(DEFAULT_OPTIONS.handoffRate),
  duration: z.coerce.number().positive('--duration must be positive').default(DEFAULT_OPTIONS.durationSeconds),
  warmup: z.coerce
    .number({ message: '--warmup must be a number' })
    .nonnegative('--warmup must be 0 or more')
    .default(DEFAULT_OPTIONS.warmupSeconds),
  store: z.enum(['sqlite', 'postgres'], { message: '--store must be sqlite or postgres' }).default('sqlite'),
  processes: positiveInt('processes').default(DEFAULT_OPTIONS.processes),
  'load-processes': positiveInt('load-processes').default(DEFAULT_OPTIONS.loadProcesses),
  concurrency: positiveInt('concurrency').default(DEFAULT_OPTIONS.concurrency),
  'think-scale': z.coerce.number().positive().default(DEFAULT_OPTIONS.thinkScale),
  history: z.coerce
    .number({ message: '--history must be a number' })
    .int('--history must be whole')
    .nonnegative('--history must be 0 or more')
    .default(DEFAULT_OPTIONS.history),
  'idle-handoffs': z.coerce
    .number({ message: '--idle-handoffs must be a number' })
    .int('--idle-handoffs must be whole')
    .nonnegative('--idle-handoffs must be 0 or more')
    .default(DEFAULT_OPTIONS.idleHandoffs),
  'server-gc': z
    .enum(['auto', 'single', 'parallel'], { message: '--server-gc must be auto, single or parallel' })
    .default('auto'),
  'no-core': z.boolean().default(false),
  'cpu-prof': z.string().min(1).optional(),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

export function parseBenchArgs(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): { options: BenchOptions; json: boolean; help: boolean } {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      conversations: { type: 'string' },
      agents: { type: 'string' },
      'handoff-rate': { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      store: { type: 'string' },
      processes: { type: 'string' },
      'load-processes': { type: 'string' },
      concurrency: { type: 'string' },
      'think-scale': { type: 'string' },
      history: { type: 'string' },
      'idle-handoffs': { type: 'string' },
      'server-gc': { type: 'string' },
      'no-core': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const parsed = Flags.safeParse(values);
  if (!parsed.success) {
    throw new BatonError('invalid_input', parsed.error.issues.map((issue) => issue.message).join('; '));
  }
  const flags = parsed.data;
  return {
    json: flags.json,
    help: flags.help,
    options: {
      conversations: flags.conversations,
      agents: flags.agents,
      handoffRate: flags['handoff-rate'],
      durationSeconds: flags.duration,
      warmupSeconds: flags.warmup,
      store: flags.store,
      processes: flags.processes,
      loadProcesses: flags['load-processes'],
      concurrency: flags.concurrency,
      thinkScale: flags['think-scale'],
      databaseUrl: env.DATABASE_URL || DEFAULT_OPTIONS.databaseUrl,
      redisUrl: env.REDIS_URL || DEFAULT_OPTIONS.redisUrl,
      core: !flags['no-core'],
      history: flags.history,
      idleHandoffs: flags['idle-handoffs'],
      cpuProfileDir: flags['cpu-prof'] ? resolve(flags['cpu-prof']) : undefined,
      serverGc:
        flags['server-gc'] === 'auto' ? serverGcFor(flags.processes, availableParallelism()) : flags['server-gc'],
    },
  };
}

/** One status line on stderr: rewritten in place on a terminal, a line every few seconds otherwise. */
function stderrProgress(): Progress & { done(): void } {
  const tty = process.stderr.isTTY === true;
  let lastPhase = '';
  let lastLineAt = 0;
  const started = Date.now();
  const report: Progress = (phase, detail) => {
    const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(3);
    const bar =
      detail.fraction === undefined
        ? ''
        : ` [${'#'.repeat(Math.round(detail.fraction * 20)).padEnd(20, '.')}] ${Math.round(detail.fraction * 100)}%`;
    const c = detail.counters;
    const counters = c
      ? `  sent ${c.sent}  ai ${c.aiReplies}  handoffs ${c.handoffs}  offers ${c.offers}  accepted ${c.accepted}  resolved ${c.resolved}  errors ${c.errors}`
      : '';
    const line = `${elapsed}s ${phase}${bar}${counters}${detail.note ? `  (${detail.note})` : ''}`;
    if (tty) {
      // A finished phase keeps its last line; the current one is rewritten in place.
      if (phase !== lastPhase && lastPhase !== '') process.stderr.write('\n');
      process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 160) - 1)}`);
    } else if (phase !== lastPhase || Date.now() - lastLineAt > 5000) {
      process.stderr.write(`${line}\n`);
      lastLineAt = Date.now();
    }
    lastPhase = phase;
  };
  return Object.assign(report, {
    done() {
      if (tty) process.stderr.write('\r\x1b[2K');
    },
  });
}

export async function benchCommand(args: string[]): Promise<number> {
  const { options, json, help } = parseBenchArgs(args);
  if (help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const progress = stderrProgress();
  let raw: Awaited<ReturnType<typeof runBench>>;
  try {
    raw = await runBench(options, progress);
  } finally {
    progress.done();
  }
  // Diagnostics: every raw sample (timestamps of each trigger, offer, receipt) for analysis outside the report.
  const rawFile = process.env.BATON_BENCH_RAW;
  if (rawFile) writeFileSync(rawFile, JSON.stringify(raw));
  const report = buildReport(raw);
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
  return report.errors === 0 ? 0 : 1;
}
