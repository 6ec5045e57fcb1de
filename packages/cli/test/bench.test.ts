import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type BenchReport, renderReport } from '../src/bench/bench-report.ts';
import { HANDOFF_STAGES } from '../src/bench/handoff-samples.ts';

const run = promisify(execFile);
const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));

const Latency = z.object({
  count: z.number().int().nonnegative(),
  p50: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  p999: z.number().nonnegative(),
  max: z.number().nonnegative(),
  // How far the p99 can be trusted: the high end stays open until there are enough samples.
  p99_ci95: z.object({ low: z.number().nonnegative(), high: z.number().nonnegative().nullable() }).optional(),
});
const HandoffStalls = z.object({
  ms: z.number().nonnegative(),
  ran_ms: z.number().nonnegative().nullable(),
  waited_ms: z.number().nonnegative().nullable(),
  blocked_ms: z.number().nonnegative().nullable(),
  gc_ms: z.number().nonnegative(),
});

const Report = z.object({
  handoff_latency_ms: Latency,
  handoff_latency_idle_ms: Latency,
  message_latency_ms: Latency,
  stream_latency_ms: Latency,
  messages_per_s: z.number().positive(),
  // The AI answers during saturation too (it may answer several messages in one turn, never none at all).
  saturated_ai_replies_per_s: z.number().positive(),
  baseline_echo_rtt_ms: Latency,
  baseline_messages_per_s: z.number().positive(),
  // The bare server saturated twice, before and after Baton's phases.
  baseline_messages_per_s_runs: z.object({ before: z.number().positive(), after: z.number().positive() }),
  rss_mb: z.object({ start: z.number().positive(), end: z.number().positive(), grows: z.boolean() }),
  // Measured inside the server after a forced GC: the figure that decides whether memory grows.
  heap_after_gc_mb: z.object({
    start: z.number().positive(),
    end: z.number().positive(),
    growth: z.number(),
    grows: z.boolean(),
  }),
  // The servers' own loop delay and GC pauses over the measured phase: where a tail comes from the server.
  server_pauses: z.object({
    loop_delay_ms: z.object({ p50: z.number().nonnegative(), p99: z.number().nonnegative(), max: z.number() }),
    gc: z.object({
      count: z.number().int().nonnegative(),
      per_s: z.number(),
      total_ms: z.number(),
      max_ms: z.number(),
      major: z.object({ count: z.number().int().nonnegative(), total_ms: z.number(), max_ms: z.number() }),
    }),
  }),
  // Who used the machine over the measured phase: a loaded run's Baton servers and load processes both work.
  machine_cpu: z.object({
    cores: z.number().int().positive(),
    busy_pct: z.number().min(0).max(100),
    baton_servers_cores: z.number().positive(),
    load_processes_cores: z.number().positive(),
    rest_cores: z.number().nonnegative(),
    server_thread_waited_pct: z.number().min(0).max(100),
  }),
  slowest_handoffs: z.array(
    z.object({
      conversation_id: z.string(),
      ms: z.number(),
      sent_to_stored_ms: z.number(),
      ai_turn_ms: z.number().nonnegative(),
      routing_ms: z.number().nonnegative(),
      offer_to_agent_ms: z.number(),
      server_stalls: HandoffStalls.nullable(),
      client_stalls: HandoffStalls.nullable(),
    }),
  ),
  handoff_stages_ms: z.object({
    count: z.number().int().nonnegative(),
    sent_to_stored_ms: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
    ai_turn_ms: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
    routing_ms: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
    offer_to_agent_ms: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() }),
  }),
  errors: z.number().int(),
  error_kinds: z.record(z.string(), z.number()),
  handoff: z.object({
    triggered: z.number(),
    offered: z.number(),
    lost: z.number(),
    assigned_twice: z.number(),
    resolves_refused: z.number().int().nonnegative(),
  }),
  core: z.object({ brief_ms: z.record(z.string(), Latency), guard_draft_ms: z.record(z.string(), Latency) }),
  targets: z.array(z.object({ name: z.string(), met: z.boolean().nullable() })),
  options: z.object({ history: z.number().int().nonnegative(), serverGc: z.enum(['single', 'parallel']) }),
  server: z.object({ node_options: z.array(z.string()) }),
});

describe('baton bench', () => {
  it('refuses an option it does not know with the option named and no stack trace (exit 2)', async () => {
    const failed = await run(process.execPath, [baton, 'bench', '--database-url', 'postgres://x'], {
      timeout: 60_000,
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/^baton bench: Unknown option '--database-url'.*see baton bench --help/);
    expect(failed?.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('refuses a negative history with the option named (exit 1, as for any value out of range)', async () => {
    const failed = await run(process.execPath, [baton, 'bench', '--history=-5'], { timeout: 60_000 }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/^baton bench: --history must be 0 or more\n$/);
  }, 60_000);

  // A smoke run: tiny load, a few seconds. It checks the instrument works, never how fast anything is.
  it('runs against a real server and a bare baseline and reports well-formed JSON with 0 errors', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        baton,
        'bench',
        '--json',
        '--conversations=12',
        '--agents=3',
        '--handoff-rate=1',
        '--duration=4',
        '--warmup=1',
        '--load-processes=1',
        '--concurrency=4',
        '--think-scale=0.2',
        // A desk with a past (written before the run): a few thousand offers keep the smoke run short.
        '--history=2000',
        '--idle-handoffs=5',
        // Not the default on this one process: the option must reach the server's command line.
        '--server-gc=single',
      ],
      { timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      // A non-zero exit (errors > 0) still prints the report: show it rather than a bare exit code.
      if (error.stdout) return { stdout: error.stdout };
      throw error;
    });
    const report = Report.parse(JSON.parse(stdout));
    expect(report.error_kinds).toEqual({});
    expect(report.errors).toBe(0);
    expect(report.options.history).toBe(2000);
    expect(report.options.serverGc).toBe('single');
    expect(report.server.node_options).toContain('--single-threaded-gc');
    expect(report.stream_latency_ms.count).toBeGreaterThan(0);
    expect(report.baseline_echo_rtt_ms.count).toBeGreaterThan(0);
    const { before, after } = report.baseline_messages_per_s_runs;
    expect(report.baseline_messages_per_s).toBeCloseTo((before + after) / 2, 0);
    expect(report.handoff.triggered).toBeGreaterThan(0);
    expect(report.handoff.offered).toBe(report.handoff.triggered);
    expect(report.handoff_latency_ms.count).toBe(report.handoff.triggered);
    // The path alone: handoffs one at a time on the server idle again after the load, each offered with its brief.
    expect(report.handoff_latency_idle_ms.count).toBe(5);
    expect(report.handoff_latency_idle_ms.p50).toBeGreaterThan(0);
    // A smoke run's few handoffs: the interval's low end is one of them, its high end open.
    expect(report.handoff_latency_ms.p99_ci95?.low).toBeLessThanOrEqual(report.handoff_latency_ms.max);
    expect(report.handoff_latency_ms.p99_ci95?.high).toBeNull();
    expect(Object.keys(report.core.brief_ms)).toEqual(['10', '100', '1000']);
    // The slowest handoffs taken apart from their logs: the stages add up to the whole, slowest first.
    expect(report.slowest_handoffs.length).toBe(Math.min(5, report.handoff_latency_ms.count));
    // The histogram keeps 3 significant digits: its max is the slowest one's within that.
    const { max } = report.handoff_latency_ms;
    expect(Math.abs((report.slowest_handoffs[0]?.ms ?? 0) - max)).toBeLessThanOrEqual(max * 0.01 + 0.1);
    // Every measured handoff taken apart, each stage's figures in order; the slowest are among them.
    const allStages = report.handoff_stages_ms;
    expect(allStages.count).toBe(report.handoff_latency_ms.count);
    for (const name of HANDOFF_STAGES) {
      const { p50, p90, p99, max } = allStages[name];
      expect(p50).toBeLessThanOrEqual(p90);
      expect(p90).toBeLessThanOrEqual(p99);
      expect(p99).toBeLessThanOrEqual(max);
      expect(Math.max(...report.slowest_handoffs.map((h) => h[name]))).toBeLessThanOrEqual(max);
    }
    // The text report says it beside the slowest ones.
    expect(renderReport(JSON.parse(stdout) as BenchReport)).toContain(
      `each stage over all ${allStages.count} handoffs taken apart, ms p50 / p90 / p99 / max: sent → stored`,
    );
    for (const handoff of report.slowest_handoffs) {
      const stages = handoff.sent_to_stored_ms + handoff.ai_turn_ms + handoff.routing_ms + handoff.offer_to_agent_ms;
      expect(Math.abs(stages - handoff.ms)).toBeLessThan(0.3);
      // The server's stalls inside it, from its timeline: never longer than the handoff, and on Linux
      // split into running, waiting for a core and blocked.
      expect(handoff.server_stalls).not.toBeNull();
      expect(handoff.server_stalls?.ms).toBeLessThanOrEqual(handoff.ms + 0.2);
      // The load processes' own (the instrument's), the same way.
      expect(handoff.client_stalls).not.toBeNull();
      for (const split of [handoff.server_stalls, handoff.client_stalls]) {
        expect(split?.ms).toBeLessThanOrEqual(handoff.ms + 0.2);
        if (split && split.ran_ms !== null) {
          expect(split.ran_ms + (split.waited_ms ?? 0) + (split.blocked_ms ?? 0)).toBeCloseTo(split.ms, 0);
        }
      }
    }
    const cpu = report.machine_cpu;
    expect(cpu.baton_servers_cores + cpu.load_processes_cores + cpu.rest_cores).toBeLessThanOrEqual(cpu.cores + 0.05);
    expect(report.server_pauses.loop_delay_ms.max).toBeGreaterThanOrEqual(report.server_pauses.loop_delay_ms.p50);
    // Full collections are among the pauses, never more of them nor longer.
    expect(report.server_pauses.gc.major.count).toBeLessThanOrEqual(report.server_pauses.gc.count);
    expect(report.server_pauses.gc.major.max_ms).toBeLessThanOrEqual(report.server_pauses.gc.max_ms);
  }, 180_000);
});
