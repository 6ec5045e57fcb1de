import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BaselineResult,
  type BatonResult,
  type Counters,
  type HandoffMode,
  type LoadCommand,
  LoadReport,
  MemoryReport,
  type MemoryUsage,
  PausesReport,
  ServerListening,
} from './bench-protocol.ts';
import { type CoreBenchResult, runCoreBench } from './core-bench.ts';
import { loadHandoffRequests } from './customer-scripts.ts';
import {
  type HandoffAnatomy,
  type HandoffStages,
  handoffStages,
  matchHandoffs,
  slowestHandoffs,
} from './handoff-samples.ts';
import { HttpClient } from './http-client.ts';
import { anatomiseHandoffs, idleHandoffs, probeServer } from './probe-server.ts';
import {
  cpuMs,
  forkTypeScript,
  machineBusyMs,
  nextMessage,
  recentStderr,
  residentMb,
  runQueueWaitMs,
  stopProcess,
} from './process-handle.ts';

export interface BenchOptions {
  conversations: number;
  agents: number;
  /** Handoffs per second across the desk. */
  handoffRate: number;
  /** Seconds of realistic load on Baton; the baseline and saturation phases scale from it. */
  durationSeconds: number;
  store: 'sqlite' | 'postgres';
  processes: number;
  loadProcesses: number;
  /** Concurrent senders per load process in the saturation phases. */
  concurrency: number;
  /** Multiplies every simulated pause; below 1 compresses a conversation's pace. */
  thinkScale: number;
  /** Seconds of the same realistic load before measuring starts (none counted, memory read after it). */
  warmupSeconds: number;
  databaseUrl: string;
  redisUrl: string;
  core: boolean;
  /**
   * Finished offers (and half as many closed handoffs) written into the desk before the run, spread over
   * the two days before it: what a live desk reads must not grow with its past (see desk-history-seed.ts).
   */
  history: number;
  /** Handoffs timed one at a time on the servers idle again after the load: the path alone, no queueing. */
  idleHandoffs: number;
  /** Directory for `--cpu-prof` profiles of the Baton server processes; none when undefined. */
  cpuProfileDir?: string | undefined;
  /**
   * V8's garbage collector in the Baton servers: `parallel` is Node's default (helper threads mark, sweep
   * and scavenge beside the main thread); `single` starts them with `--single-threaded-gc`, the setting the
   * README gives for hosts where each Baton process has a core or less (see `serverGcFor`).
   */
  serverGc: ServerGc;
}

export type ServerGc = 'single' | 'parallel';

/**
 * `--server-gc auto`: single-threaded when there are at least as many Baton processes as cores. There the
 * GC's helper threads wait for a core that the other server, the database or the load holds, and each
 * pause lasts until the slowest of them is done (measured on 2 cores, PostgreSQL, 2 processes: the
 * servers' worst event-loop delay 29-56 ms with helpers, 16-28 ms without). With a core to spare the
 * helpers shorten the pauses, and Node's default stays.
 */
export function serverGcFor(processes: number, cores: number): ServerGc {
  return processes >= cores ? 'single' : 'parallel';
}

export const DEFAULT_OPTIONS: BenchOptions = {
  conversations: 1000,
  agents: 50,
  handoffRate: 3,
  durationSeconds: 30,
  store: 'sqlite',
  processes: 1,
  loadProcesses: 2,
  concurrency: 32,
  thinkScale: 1,
  warmupSeconds: 10,
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: 'redis://127.0.0.1:6379',
  core: true,
  history: 20_000,
  idleHandoffs: 20,
  // What `--server-gc auto` gives the default single process.
  serverGc: serverGcFor(1, availableParallelism()),
};

export type Progress = (phase: string, detail: { fraction?: number; counters?: Counters; note?: string }) => void;

export interface RssSample {
  /** Seconds since the Baton server(s) listened. */
  t: number;
  mb: number;
}

/** `process.memoryUsage()` of the Baton server(s) (summed, MB) right after a forced full GC. */
export interface HeapSample extends MemoryUsage {
  /** Seconds since the Baton server(s) listened. */
  t: number;
}

/** Everything measured, raw enough for the report to compute each figure. */
export interface BenchRaw {
  options: BenchOptions;
  startedAt: string;
  baseline: BaselineResult[];
  /**
   * The baseline's saturation again, right after Baton's (one result per load process): the two bare
   * measurements bracket Baton's, so a machine that got faster or slower in between shows as their spread.
   */
  baselineAfter: BaselineResult[];
  baton: BatonResult[];
  baselineRssMb: number[];
  rss: { boot: number; start: number; end: number; samples: RssSample[]; runWindow: [number, number] };
  /**
   * Server memory after a forced full GC (undefined when a server could not collect): when the realistic
   * phase starts and once it has ended and drained (no backlog left). Samples in between only with
   * BATON_BENCH_MEMORY_TRACE, since each forced GC pauses the server (50-300 ms) whose latency is measured.
   */
  heapAfterGc: { start: HeapSample | undefined; end: HeapSample | undefined; samples: HeapSample[] };
  /** The servers' loop delay and GC pauses over the measured realistic phase (undefined: not answered). */
  serverPauses?: PausesReport | undefined;
  probe: { aiReplies: boolean; handoffMode: HandoffMode; briefRoute: boolean; notes: string[] };
  /** The Node options the first Baton server ran with (they all get the same). */
  serverNodeOptions: string[];
  /** Trigger → offer with its brief, ms, handoffs one at a time on the idle servers (see `idleHandoffs`). */
  idleHandoffMs: number[];
  /** Where the slowest measured handoffs' time went, stage by stage (see `handoffAnatomy`). */
  slowestHandoffs: HandoffAnatomy[];
  /** Each stage over every measured handoff whose log shows it (see `handoffStages`). */
  handoffStages: HandoffStages;
  core: CoreBenchResult | undefined;
  phases: { baselineSeconds: number; saturateSeconds: number; drainSeconds: number };
  /** Server CPU time (user + system) spent in the measured phases, in ms: robust to a busy machine. */
  cpu: { baseline: number; batonRun: number; batonSaturate: number };
  /**
   * CPU time the whole machine, the Baton servers and the load processes spent over the measured realistic
   * phase (readings at its start and end): how much of the machine the load took, and who took it.
   */
  machineCpu: { cores: number; servers: number; start: CpuReading; end: CpuReading } | undefined;
  loadAverage: { start: number; end: number };
  wallSeconds: number;
}

/** CPU time used so far, in ms: by the whole machine (all cores), the Baton servers, the load processes. */
export interface CpuReading {
  /** performance.now() when read. */
  at: number;
  machineMs: number;
  serversMs: number;
  loadsMs: number;
  /** How long the servers' event-loop threads have waited for a core, ready to run (summed). */
  serversWaitMs: number;
}

interface LoadProcess {
  child: ChildProcess;
  counters: Counters | undefined;
}

const SETUP_TIMEOUT_MS = 180_000;
/** How many of the slowest handoffs the report takes apart. */
const SLOWEST_HANDOFFS = 5;
/** After the warm-up's forced GC (50-300 ms of pause) samples start this much later, clear of the pause. */
const GC_PAUSE_MARGIN_MS = 1_500;
/** Every skill the default queues ask for, so any handoff can go to any bench agent. */
const AGENT_SKILLS = ['billing', 'technical', 'clinical'];

/** Splits `total` into `parts` near-equal integers. */
function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, index) => Math.floor((total + index) / parts));
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

async function startLoadProcesses(count: number, nodeArgs: (index: number) => string[]): Promise<LoadProcess[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const child = forkTypeScript('./load-process.ts', {}, nodeArgs(index));
      const load: LoadProcess = { child, counters: undefined };
      child.on('message', (message: unknown) => {
        const report = LoadReport.safeParse(message);
        if (report.success && report.data.type === 'progress') load.counters = report.data.counters;
      });
      await nextMessage(
        child,
        (m) => (LoadReport.safeParse(m).data?.type === 'ready' ? true : undefined),
        30_000,
        'load process',
      );
      return load;
    }),
  );
}

/** Sends a command to every load process and waits for each one's answer. */
function command<T>(
  loads: LoadProcess[],
  build: (index: number) => LoadCommand,
  accept: (report: LoadReport) => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T[]> {
  return Promise.all(
    loads.map((load, index) => {
      const answer = nextMessage(
        load.child,
        (message) => {
          const report = LoadReport.safeParse(message);
          if (!report.success) return undefined;
          if (report.data.type === 'fatal') return new Error(`${what}: ${report.data.message}`);
          return accept(report.data);
        },
        timeoutMs,
        what,
      );
      load.child.send(build(index));
      return answer.then((value) => {
        if (value instanceof Error) throw value;
        return value;
      });
    }),
  );
}

function sumCounters(loads: LoadProcess[]): Counters {
  const total: Counters = { sent: 0, aiReplies: 0, handoffs: 0, offers: 0, accepted: 0, resolved: 0, errors: 0 };
  for (const load of loads) {
    if (!load.counters) continue;
    for (const key of Object.keys(total) as (keyof Counters)[]) total[key] += load.counters[key];
  }
  return total;
}

/** Reports progress every half second while `task` runs. */
async function withProgress<T>(
  progress: Progress,
  phase: string,
  seconds: number,
  loads: LoadProcess[],
  task: Promise<T>,
): Promise<T> {
  const started = Date.now();
  const tick = () =>
    progress(phase, {
      fraction: seconds > 0 ? Math.min(1, (Date.now() - started) / 1000 / seconds) : undefined,
      counters: sumCounters(loads),
    });
  tick();
  const timer = setInterval(tick, 500);
  try {
    return await task;
  } finally {
    clearInterval(timer);
    tick();
  }
}

let serverRequests = 0;

/**
 * Sends each server a request (numbered, so answers cannot be mixed up) and waits for the answer of
 * `schema` with that number; undefined for a server that did not answer within `timeoutMs`.
 */
function askServers<T extends { id: number }>(
  servers: readonly { child: ChildProcess }[],
  request: (index: number) => Record<string, unknown>,
  schema: { safeParse(value: unknown): { success: boolean; data?: T | undefined } },
  timeoutMs: number,
  what: string,
): Promise<(T | undefined)[]> {
  return Promise.all(
    servers.map((server, index) => {
      const id = ++serverRequests;
      const answer = nextMessage(
        server.child,
        (message) => {
          const parsed = schema.safeParse(message);
          return parsed.success && parsed.data?.id === id ? parsed.data : undefined;
        },
        timeoutMs,
        what,
      ).catch(() => undefined);
      server.child.send({ ...request(index), id });
      return answer;
    }),
  );
}

/**
 * What held each server's event loop up since the last call (the first call only starts the window):
 * loop delay and GC pauses, merged over the servers; undefined if one did not answer.
 */
async function serverPauses(servers: readonly { child: ChildProcess }[]): Promise<PausesReport | undefined> {
  const reports = await askServers(servers, () => ({ type: 'pauses' }), PausesReport, 10_000, 'server pauses');
  const answered = reports.filter((report) => report !== undefined);
  if (answered.length !== reports.length || answered.length === 0) return undefined;
  return {
    type: 'pauses',
    id: 0,
    seconds: Math.max(...answered.map((report) => report.seconds)),
    loopDelayMs: {
      p50: Math.max(...answered.map((report) => report.loopDelayMs.p50)),
      p99: Math.max(...answered.map((report) => report.loopDelayMs.p99)),
      max: Math.max(...answered.map((report) => report.loopDelayMs.max)),
    },
    gcPausesMs: answered.flatMap((report) => report.gcPausesMs),
    gcMajorPausesMs: answered.flatMap((report) => report.gcMajorPausesMs),
    gcTimeline: answered.flatMap((report, server) => report.gcTimeline.map((pause) => ({ ...pause, server }))),
    stalls: answered.flatMap((report, server) => report.stalls.map((stall) => ({ ...stall, server }))),
  };
}

/** The load processes' own stalls and GC pauses over the realistic phase, numbered by load process. */
export function loadProcessPauses(results: readonly BatonResult[]): Pick<PausesReport, 'stalls' | 'gcTimeline'> {
  return {
    stalls: results.flatMap((result, index) => result.pauses.stalls.map((stall) => ({ ...stall, server: index }))),
    gcTimeline: results.flatMap((result, index) =>
      result.pauses.gcTimeline.map((pause) => ({ ...pause, server: index })),
    ),
  };
}

/**
 * Asks each Baton server for `process.memoryUsage()` after a forced full GC, summed over the servers;
 * undefined if any server could not collect (not started with `--expose-gc`) or did not answer.
 */
async function heapAfterGc(
  servers: readonly { child: ChildProcess }[],
  t: number,
  snapshotPath?: (index: number) => string,
): Promise<HeapSample | undefined> {
  const reports = await askServers(
    servers,
    (index) => ({ type: 'memory', gc: true, ...(snapshotPath ? { snapshot: snapshotPath(index) } : {}) }),
    MemoryReport,
    // A heap snapshot of a large heap takes a while; a plain GC well under a second.
    snapshotPath ? 300_000 : 30_000,
    'server memory',
  );
  if (reports.some((report) => !report?.gc)) return undefined;
  const sample: HeapSample = { t, rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, code: 0 };
  for (const report of reports) {
    if (!report) continue;
    for (const key of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'code'] as const) {
      sample[key] += report.usage[key];
    }
  }
  return sample;
}

async function startServer(
  entry: string,
  env: Record<string, string>,
  what: string,
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; url: string; execArgv: string[] }> {
  const child = forkTypeScript(entry, env, nodeArgs);
  // Diagnostics: BATON_BENCH_SERVER_OUT=file appends the servers' output (with --trace-gc, say) to a file.
  const out = process.env.BATON_BENCH_SERVER_OUT;
  if (out) {
    child.stdout?.on('data', (chunk: Buffer) => appendFileSync(out, chunk));
    child.stderr?.on('data', (chunk: Buffer) => appendFileSync(out, chunk));
  }
  const listening = await nextMessage(child, (m) => ServerListening.safeParse(m).data, 120_000, what);
  return { child, url: listening.url, execArgv: listening.execArgv };
}

export async function runBench(options: BenchOptions, progress: Progress): Promise<BenchRaw> {
  const wallStarted = Date.now();
  const loadStart = loadavg()[0] ?? 0;
  const startedAt = new Date().toISOString();
  const baselineSeconds = clamp(options.durationSeconds / 4, 2, 10);
  const saturateSeconds = clamp(options.durationSeconds / 6, 2, 6);
  const settleLimitMs = settleLimit(options.durationSeconds);
  const children: ChildProcess[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const rssTimers: NodeJS.Timeout[] = [];
  try {
    progress('starting processes', {
      note: `${options.loadProcesses} load, 1 baseline, ${options.processes} Baton (${options.store})`,
    });
    const agents = Array.from({ length: options.agents }, (_, index) => ({
      id: `agent_bench_${index + 1}`,
      email: `bench-agent-${index + 1}@bench.baton.local`,
      name: `Bench Agent ${index + 1}`,
    }));
    const password = randomBytes(12).toString('base64url');
    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      // Diagnostics: BATON_BENCH_LOG_LEVEL=debug (with BATON_BENCH_SERVER_OUT) keeps the servers' debug lines,
      // such as each routing pass's timings (summed by scripts/pass-timings.ts).
      LOG_LEVEL: process.env.BATON_BENCH_LOG_LEVEL ?? 'error',
      BATON_DATA_DIR: dataDir,
      ...(options.store === 'postgres' ? { DATABASE_URL: options.databaseUrl, BATON_DATABASE_SCHEMA: schema } : {}),
      ...(options.processes > 1 ? { REDIS_URL: options.redisUrl } : {}),
    };
    const startBaton = async () => {
      const started: Awaited<ReturnType<typeof startServer>>[] = [];
      for (let index = 0; index < options.processes; index++) {
        // The first process seeds the agents; the others find them in the shared database.
        const seed =
          index === 0
            ? { agents, password, skills: AGENT_SKILLS, capacity: 5, history: options.history }
            : { agents: [], password };
        const server = await startServer(
          './baton-server-process.ts',
          { ...env, BATON_BENCH_SEED: JSON.stringify(seed) },
          `Baton server ${index + 1}`,
          // --expose-gc only makes `gc()` callable: the bench forces a full collection when it measures memory.
          [
            '--expose-gc',
            ...(options.serverGc === 'single' ? ['--single-threaded-gc'] : []),
            ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
            // Diagnostics: BATON_BENCH_SERVER_ARGS adds Node options to the Baton servers (--trace-gc, …).
            ...(process.env.BATON_BENCH_SERVER_ARGS?.split(/\s+/).filter(Boolean) ?? []),
          ],
        );
        children.push(server.child);
        started.push(server);
      }
      return started;
    };
    // Booting in parallel saves a minute of tsx start-up; everything is idle again before measuring.
    const [loads, bare, servers] = await Promise.all([
      // The load processes are part of the instrument: --cpu-prof profiles them too (in load-process-N/).
      startLoadProcesses(options.loadProcesses, (index) =>
        options.cpuProfileDir
          ? ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfileDir, `load-process-${index + 1}`)}`]
          : [],
      ).then((started) => {
        children.push(...started.map((load) => load.child));
        return started;
      }),
      startServer('./baseline-server-process.ts', {}, 'baseline server').then((started) => {
        children.push(started.child);
        return started;
      }),
      startBaton(),
    ]);
    const customersPer = split(options.conversations, loads.length);
    const batonStarted = Date.now();
    const serverRss = () => {
      let total = 0;
      for (const server of servers) total += residentMb(server.child.pid) ?? 0;
      return total;
    };
    const boot = serverRss();

    let core: CoreBenchResult | undefined;
    if (options.core) {
      // Before any load: the servers and load processes are idle, so the core has a core to itself.
      progress('core micro-bench', { note: 'brief and guard, 10/100/1000 events' });
      core = runCoreBench();
    }

    const baselineRssMb: number[] = [];
    rssTimers.push(
      setInterval(() => {
        const mb = residentMb(bare.child.pid);
        if (mb !== undefined) baselineRssMb.push(mb);
      }, 1000),
    );
    // The bare server: realistic load then saturation now, and the saturation alone again after Baton's.
    const runBaseline = async (label: string, realisticSeconds: number): Promise<BaselineResult[]> => {
      const cpuBefore = cpuMs(bare.child.pid) ?? 0;
      const results = await withProgress(
        progress,
        label,
        realisticSeconds + saturateSeconds,
        loads,
        command(
          loads,
          (index) => ({
            cmd: 'baseline',
            url: bare.url,
            customers: customersPer[index] ?? 0,
            durationMs: Math.round(realisticSeconds * 1000),
            saturateMs: Math.round(saturateSeconds * 1000),
            concurrency: options.concurrency,
            thinkScale: options.thinkScale,
          }),
          (report) => (report.type === 'baseline-result' ? report.result : undefined),
          (realisticSeconds + saturateSeconds) * 1000 + SETUP_TIMEOUT_MS,
          'baseline',
        ),
      );
      baselineCpu += (cpuMs(bare.child.pid) ?? 0) - cpuBefore;
      return results;
    };
    let baselineCpu = 0;
    const baseline = await runBaseline('baseline (bare HTTP + WebSocket)', baselineSeconds);
    const lastBaselineRss = residentMb(bare.child.pid);
    if (lastBaselineRss !== undefined) baselineRssMb.push(lastBaselineRss);
    clearInterval(rssTimers.pop());

    const rssSamples: RssSample[] = [];
    rssTimers.push(
      setInterval(() => rssSamples.push({ t: (Date.now() - batonStarted) / 1000, mb: serverRss() }), 1000),
    );

    progress('probing Baton', { note: 'does the AI answer, does a request for a person hand off?' });
    const probe = await probeServer(servers[0]!.url, loadHandoffRequests()[0]!, {
      email: agents[0]?.email ?? '',
      password,
    });

    await withProgress(
      progress,
      `opening ${options.conversations} conversations, ${options.agents} agents`,
      0,
      loads,
      command(
        loads,
        (index) => ({
          cmd: 'setup',
          urls: servers.map((server) => server.url),
          customers: customersPer[index] ?? 0,
          agents: agents
            .filter((_, agentIndex) => agentIndex % loads.length === index)
            .map((agent) => ({ email: agent.email, password })),
          expectAi: probe.aiReplies,
          handoffMode: probe.handoffMode,
          fetchBrief: probe.briefRoute,
        }),
        (report) => (report.type === 'phase-done' ? true : undefined),
        SETUP_TIMEOUT_MS,
        'setup',
      ),
    );
    const since = () => (Date.now() - batonStarted) / 1000;
    const trace = memoryTrace(servers, since, loads);
    const serverCpu = () => servers.reduce((sum, server) => sum + (cpuMs(server.child.pid) ?? 0), 0);
    const cpuReading = (): CpuReading => ({
      at: performance.now(),
      machineMs: machineBusyMs(),
      serversMs: serverCpu(),
      loadsMs: loads.reduce((sum, load) => sum + (cpuMs(load.child.pid) ?? 0), 0),
      serversWaitMs: servers.reduce((sum, server) => sum + (runQueueWaitMs(server.child.pid) ?? 0), 0),
    });
    // No backlog left on the servers (they answer promptly), then nothing left running on the machine.
    const quiet = async (): Promise<number> =>
      (await drain(servers.map((server) => server.url))) + (await settle(machineBusyMs, settleLimitMs));
    // The warm-up runs the same load unmeasured (caches fill, code is optimised), then the servers' live
    // heap is read after a forced GC; samples count from a moment after that pause.
    const warmupMs = Math.round(options.warmupSeconds * 1000);
    const runStarted = Date.now();
    const measureFrom = warmupMs > 0 ? runStarted + warmupMs + GC_PAUSE_MARGIN_MS : runStarted;
    const heapSamples: HeapSample[] = [];
    let heapStart: HeapSample | undefined;
    let start = serverRss();
    let runReading = cpuReading();
    let runFrom = (Date.now() - batonStarted) / 1000;
    let tracing: ReturnType<NonNullable<typeof trace>['during']> | undefined;
    const markStart = async () => {
      heapStart = await heapAfterGc(servers, since(), trace?.snapshot('start'));
      trace?.record('start', heapStart);
      await sleep(Math.max(0, measureFrom - Date.now()));
      start = serverRss();
      runReading = cpuReading();
      runFrom = (Date.now() - batonStarted) / 1000;
      tracing = trace?.during(heapSamples);
      await serverPauses(servers);
    };
    if (warmupMs === 0) await markStart();
    const realisticMs = measureFrom - runStarted + Math.round(options.durationSeconds * 1000);
    await withProgress(
      progress,
      warmupMs > 0 ? 'Baton: warm-up, then realistic load' : 'Baton: realistic load',
      realisticMs / 1000,
      loads,
      Promise.all([
        command(
          loads,
          () => ({
            cmd: 'run',
            durationMs: realisticMs,
            handoffRate: options.handoffRate / loads.length,
            thinkScale: options.thinkScale,
            measureFrom,
          }),
          (report) => (report.type === 'phase-done' ? true : undefined),
          realisticMs + 60_000,
          'run',
        ),
        warmupMs > 0 ? sleep(warmupMs).then(markStart) : undefined,
      ]),
    );
    const runTo = (Date.now() - batonStarted) / 1000;
    const runEndReading = cpuReading();
    const pauses = await serverPauses(servers);
    await tracing?.stop();
    // An overloaded run leaves a backlog (AI turns, offers); saturating on top of it would measure the
    // backlog, not the capacity. Wait until the servers answer promptly again.
    progress('Baton: draining the backlog', {});
    const drainSeconds = await quiet();
    const runCpuAfter = serverCpu();
    // After the drain, so that queued work still in flight is not mistaken for memory kept.
    const heapEnd = await heapAfterGc(servers, since(), trace?.snapshot('end'));
    trace?.record('end', heapEnd);
    const saturateCpuBefore = serverCpu();
    await withProgress(
      progress,
      'Baton: saturation',
      saturateSeconds,
      loads,
      command(
        loads,
        () => ({ cmd: 'saturate', durationMs: Math.round(saturateSeconds * 1000), concurrency: options.concurrency }),
        (report) => (report.type === 'phase-done' ? true : undefined),
        saturateSeconds * 1000 + 60_000,
        'saturate',
      ),
    );
    const end = serverRss();
    const saturateCpuAfter = serverCpu();
    // The bare server saturated again, once Baton has worked off what the saturation left it, so that
    // Baton's figure is measured between two of the baseline's.
    await quiet();
    const baselineAfter = await runBaseline('baseline: saturation again', 0);
    await stopProcess(bare.child);
    const baton = await command(
      loads,
      () => ({ cmd: 'finish' }),
      (report) => (report.type === 'baton-result' ? report.result : undefined),
      60_000,
      'finish',
    );
    for (const server of servers) {
      if (server.child.exitCode !== null) {
        throw new Error(`Baton server exited during the run: ${recentStderr(server.child).slice(-1500)}`);
      }
    }
    // The handoff path without the load's queueing: the same servers, warm and idle again (the load processes
    // have gone, and with them the consoles), handoffs one at a time. Only where a customer's words hand off.
    let idleHandoffMs: number[] = [];
    if (options.idleHandoffs > 0 && probe.handoffMode === 'message') {
      progress('Baton: idle handoffs', {
        note: `${options.idleHandoffs}, one at a time, after the load: the path alone`,
      });
      await settle(machineBusyMs, settleLimitMs);
      try {
        idleHandoffMs = await idleHandoffs(
          servers.map((server) => server.url),
          loadHandoffRequests()[0]!,
          agents.map((agent) => ({ email: agent.email, password })),
          options.idleHandoffs,
        );
      } catch (error) {
        // A diagnostic: the load's figures stand without it.
        probe.notes.push(
          `handoffs on the idle servers not measured: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    // The tail taken apart: every measured handoff's log says which stage took its time (slowest first).
    let anatomies: HandoffAnatomy[] = [];
    try {
      anatomies = await anatomiseHandoffs(
        servers[0]!.url,
        { email: agents[0]?.email ?? '', password },
        slowestHandoffs(matchHandoffs(baton).samples, probe.briefRoute, Number.POSITIVE_INFINITY),
        probe.briefRoute,
        pauses,
        loadProcessPauses(baton),
      );
    } catch (error) {
      probe.notes.push(`the handoffs not taken apart: ${error instanceof Error ? error.message : String(error)}`);
    }
    return {
      options,
      startedAt,
      baseline,
      baselineAfter,
      baton,
      baselineRssMb,
      rss: { boot, start, end, samples: rssSamples, runWindow: [runFrom, runTo] },
      heapAfterGc: { start: heapStart, end: heapEnd, samples: heapSamples },
      serverPauses: pauses,
      probe,
      serverNodeOptions: servers[0]?.execArgv ?? [],
      idleHandoffMs,
      slowestHandoffs: anatomies.slice(0, SLOWEST_HANDOFFS),
      handoffStages: handoffStages(anatomies),
      core,
      phases: { baselineSeconds, saturateSeconds, drainSeconds },
      cpu: {
        baseline: baselineCpu,
        batonRun: runCpuAfter - runReading.serversMs,
        batonSaturate: saturateCpuAfter - saturateCpuBefore,
      },
      machineCpu: { cores: cpus().length, servers: servers.length, start: runReading, end: runEndReading },
      loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
      wallSeconds: (Date.now() - wallStarted) / 1000,
    };
  } finally {
    for (const timer of rssTimers) clearInterval(timer);
    await Promise.all(children.map((child) => stopProcess(child)));
    // Diagnostics: BATON_BENCH_KEEP_DATA=1 leaves the database behind (the SQLite file, the PostgreSQL schema).
    if (process.env.BATON_BENCH_KEEP_DATA === '1') {
      progress('kept the data', { note: options.store === 'postgres' ? `schema ${schema}` : dataDir });
    } else {
      rmSync(dataDir, { recursive: true, force: true });
      if (options.store === 'postgres') await dropSchema(options.databaseUrl, schema);
    }
  }
}

/**
 * Diagnostics: with BATON_BENCH_MEMORY_TRACE=<dir>, the servers' memory after a forced GC is also sampled
 * every BATON_BENCH_MEMORY_EVERY seconds (default 10) of the realistic phase into <dir>/memory.jsonl;
 * with BATON_BENCH_HEAP_SNAPSHOTS=1 too, heap snapshots are written at its start and end (compare them by
 * constructor in DevTools' Comparison view; writing one inflates the RSS figures that follow). Off by
 * default: each forced GC and snapshot pauses the server whose latency is being measured.
 */
function memoryTrace(servers: readonly { child: ChildProcess }[], since: () => number, loads: LoadProcess[]) {
  const dir = process.env.BATON_BENCH_MEMORY_TRACE;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const everyMs = Math.max(1, Number(process.env.BATON_BENCH_MEMORY_EVERY ?? 10)) * 1000;
  const record = (label: string, sample: HeapSample | undefined) => {
    // With the servers' CPU time and the load's counters: does a message cost more as the run goes on?
    const cpu = servers.reduce((sum, server) => sum + (cpuMs(server.child.pid) ?? 0), 0);
    const line = { label, ...sample, cpuMs: cpu, counters: sumCounters(loads) };
    appendFileSync(join(dir, 'memory.jsonl'), `${JSON.stringify(line)}\n`);
  };
  return {
    record,
    snapshot: (label: string) =>
      process.env.BATON_BENCH_HEAP_SNAPSHOTS === '1'
        ? (index: number) => join(dir, `server-${index + 1}-${label}.heapsnapshot`)
        : undefined,
    during(samples: HeapSample[]) {
      let running = true;
      let wake: () => void = () => undefined;
      const loop = (async () => {
        while (running) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, everyMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          if (!running) break;
          const sample = await heapAfterGc(servers, since());
          record('run', sample);
          if (sample) samples.push(sample);
        }
      })();
      return {
        stop: async () => {
          running = false;
          wake();
          await loop;
        },
      };
    },
  };
}

const DRAIN_LIMIT_MS = 60_000;
const PROMPT_MS = 100;

const SETTLE_WINDOW_MS = 500;
/** CPU time the machine may spend in a window (all cores) and still count as idle: 10% of one core. */
const SETTLE_IDLE_CPU_MS = 50;
/** How long settling may take at most: the run's duration, within 5-30 s (a smoke run on a busy machine). */
const settleLimit = (durationSeconds: number) => clamp(durationSeconds, 5, 30) * 1000;

/**
 * Waits until the machine is idle (`cpu`: its busy time, see `machineBusyMs`): two windows in a row in
 * which it did almost nothing. Answering promptly (`drain`) is not enough on PostgreSQL, where a backlog
 * of AI turns and offers waits on the database while the event loop is free, and the database goes on
 * writing after it: the bare server's second saturation ran at 45% of its first one beside it. Returns
 * the seconds waited (at most `limitMs`; a second where CPU cannot be read).
 */
export async function settle(cpu: () => number, limitMs: number): Promise<number> {
  const started = Date.now();
  let idleWindows = 0;
  let last = cpu();
  while (idleWindows < 2 && Date.now() - started < limitMs) {
    await sleep(SETTLE_WINDOW_MS);
    const now = cpu();
    idleWindows = now - last <= SETTLE_IDLE_CPU_MS ? idleWindows + 1 : 0;
    last = now;
  }
  return (Date.now() - started) / 1000;
}

/** Seconds until every server answered `GET /health` within 100 ms three times in a row (at most a minute). */
async function drain(urls: readonly string[]): Promise<number> {
  const http = new HttpClient(4);
  const started = Date.now();
  try {
    let prompt = 0;
    while (prompt < 3 && Date.now() - started < DRAIN_LIMIT_MS) {
      const checks = await Promise.all(
        urls.map(async (url) => {
          const sent = performance.now();
          const answer = await http.send('GET', `${url}/health`, undefined, {}, 10_000).catch(() => undefined);
          return answer?.status === 200 && performance.now() - sent < PROMPT_MS;
        }),
      );
      prompt = checks.every(Boolean) ? prompt + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return (Date.now() - started) / 1000;
  } finally {
    http.close();
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
  } catch {
    // Cleaning up a scratch schema must not hide the bench's own result.
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function machine(): { cpus: number; cpu_model: string; node: string } {
  const list = cpus();
  return { cpus: list.length, cpu_model: list[0]?.model ?? 'unknown', node: process.version };
}
