import type { CoreBenchResult } from './core-bench.ts';
import {
  briefTime,
  type HandoffAnatomy,
  type HandoffStages,
  type HandoffStalls,
  matchHandoffs,
  STALL_MS,
  type StageSummary,
} from './handoff-samples.ts';
import { type LatencySummary, round, summarize } from './latency-histogram.ts';
import { type BenchOptions, type BenchRaw, type HeapSample, machine, type RssSample } from './run-bench.ts';

export interface TargetCheck {
  name: string;
  target: string;
  value: string;
  met: boolean | null;
}

/** The `--json` document. Latencies in milliseconds, from HDR histograms; rates per second. */
export interface BenchReport {
  version: 1;
  started_at: string;
  wall_seconds: number;
  machine: ReturnType<typeof machine>;
  options: BenchOptions;
  server: {
    ai_replies: boolean;
    handoff_trigger: 'customer_message' | 'handoff_route';
    /** The Node options the Baton servers ran with (`--single-threaded-gc` with `--server-gc single`). */
    node_options: string[];
    notes: string[];
  };
  /** Customer message that triggers the handoff → the brief on the offered agent's socket (or fetched). */
  handoff_latency_ms: LatencySummary;
  /** Customer message that triggers the handoff → the offer notice on the agent's socket. */
  handoff_offer_latency_ms: LatencySummary;
  /**
   * `handoff_latency_ms` split by whether the customer was told to wait for a free agent (every slot on the
   * desk taken): those handoffs include queue time, a matter of staffing; the others are the system's own.
   */
  handoff_latency_agent_free_ms: LatencySummary;
  handoff_latency_waited_ms: LatencySummary;
  /**
   * The same trigger → brief, for handoffs one at a time on the servers idle again after the load (`--idle-handoffs`):
   * the path alone, with nothing to wait behind. Not a floor on a virtual machine: an idle one wakes slowly
   * (here the idle p50 came out 1.2-1.4× the loaded one); what the loaded p99 adds to it is waiting behind other work.
   */
  handoff_latency_idle_ms: LatencySummary;
  /**
   * The slowest measured handoffs taken apart from their logs, slowest first: sent → stored → the AI's
   * turn → routed and offered → the brief on the agent's socket (ms). Says which stage makes the tail.
   */
  slowest_handoffs: HandoffAnatomy[];
  /** The same stages over every measured handoff whose log shows it: p50, p90, p99 and max of each (ms). */
  handoff_stages_ms: HandoffStages;
  handoff: {
    triggered: number;
    offered: number;
    accepted: number;
    /** Triggered but never offered to anyone before the run ended. */
    lost: number;
    /** Accepted with success by more than one agent. */
    assigned_twice: number;
    /**
     * Offers for handoffs whose trigger was not measured: those of the setup, the warm-up and the saturation
     * (offers are recorded all along, triggers only in the measured window). The AI's own escalations in the
     * window are triggers like the planned ones (timed from the customer message that led to them).
     */
    other_offers: number;
    /** Triggered handoffs whose customer was told to wait for a free agent. */
    waited_for_agent: number;
    /**
     * Resolves refused because the customer wrote after the last event the agent had seen (`seenSeq`): the
     * agent answered and resolved again. Over the whole run, saturation included.
     */
    resolves_refused: number;
    brief_in_offer: boolean;
  };
  /** Customer message → its delivery on the owning agent's socket. */
  message_latency_ms: LatencySummary;
  /** Customer message → its echo on the customer's own socket (every message, whoever owns it). */
  stream_latency_ms: LatencySummary;
  ai_reply_ms: LatencySummary;
  /** WebSocket ping → pong on Baton's stream. */
  echo_rtt_ms: LatencySummary;
  /** Saturated: customer messages acknowledged (so persisted) per second with every sender busy. */
  messages_per_s: number;
  /**
   * Saturated: AI replies per second reaching the customers meanwhile. Fewer than `messages_per_s` when the
   * AI falls behind: one turn answers every message its conversation received while it was busy.
   */
  saturated_ai_replies_per_s: number;
  /** Every message persisted per second (customer, AI, agent) under the realistic load. */
  realistic_messages_per_s: number;
  baseline_echo_rtt_ms: LatencySummary;
  /** Bare `POST /deliver` → the frame on the target socket: the floor for message and handoff latency. */
  baseline_delivery_ms: LatencySummary;
  /** The mean of the bare server's two saturations, measured just before and just after Baton's phases. */
  baseline_messages_per_s: number;
  /** Each of the two: apart by more than the noise, the machine's speed changed during the run. */
  baseline_messages_per_s_runs: { before: number; after: number | null };
  baseline_realistic_messages_per_s: number;
  /** Server CPU time per customer message: what a busy, shared machine cannot distort. */
  server_cpu_ms_per_message: { realistic: number | null; saturated: number | null; baseline: number | null };
  load_average: { start: number; end: number };
  /**
   * The machine over the measured realistic phase: how busy all its cores were (`busy_pct`), and the CPU
   * each part used, in cores (CPU-seconds per second): the Baton servers, the load processes, and the rest
   * (the database, Redis, the kernel's share of loopback traffic not charged to a process, the bench).
   * Near 100% busy, every latency includes waiting for a core. Null where /proc cannot be read.
   */
  machine_cpu: MachineCpu | null;
  /**
   * The realistic load exceeded what the server could serve (requests timed out, or its WebSocket ping
   * round trip was 20× the baseline's at the median): latencies then measure queueing, not service time.
   */
  overloaded: boolean;
  /** Seconds the server needed after the realistic phase to answer promptly again. */
  drain_seconds: number;
  /** Worst event-loop delay of the load processes in the realistic phase: latency the client itself added. */
  load_process_loop_delay_ms: { p99: number; max: number };
  /**
   * The Baton servers over the measured realistic phase: how late their event loop ran (the slowest server's
   * figures) and their GC pauses. Where a handoff's tail comes from the server itself, it shows here.
   */
  server_pauses: {
    loop_delay_ms: { p50: number; p99: number; max: number };
    gc: {
      count: number;
      per_s: number;
      total_ms: number;
      p99_ms: number;
      max_ms: number;
      /** Full (mark-compact) collections among them: their final pauses are most of the long ones. */
      major: { count: number; total_ms: number; max_ms: number };
    };
  } | null;
  ratios: {
    cpu_per_message_vs_baseline: number | null;
    handoff_p99_vs_baseline_delivery_p99: number | null;
    /** The loaded handoff p99 over the idle servers' p50: how much of it is queueing, not the path. */
    handoff_p99_vs_idle_p50: number | null;
    message_p99_vs_baseline_delivery_p99: number | null;
    stream_p99_vs_baseline_delivery_p99: number | null;
    echo_rtt_p99_vs_baseline: number | null;
    messages_per_s_vs_baseline: number | null;
  };
  rss_mb: {
    boot: number;
    start: number;
    end: number;
    peak: number;
    baseline_peak: number;
    /** Least-squares slope over the second half of the realistic phase. */
    slope_mb_per_min: number;
    /** The verdict on memory growth: `heap_after_gc_mb.grows` when measured, else the RSS slope rule. */
    grows: boolean;
    /** The old rule, RSS slope > 10 MB/min and end > 1.15 × start: shown, no longer the verdict. */
    rss_rule_grows: boolean;
  };
  /**
   * V8 heap used by live objects (a forced full GC first), summed over the server processes, when the
   * realistic phase starts and once it has ended and drained its backlog; null when the servers could not
   * collect. `growth` is what decides `grows`: see `heapVerdict`.
   */
  heap_after_gc_mb: {
    start: number | null;
    end: number | null;
    /** Of which machine code compiled by the JIT. */
    code_start: number | null;
    code_end: number | null;
    /** Memory outside the V8 heap that V8 accounts for (Buffers), after the same GCs. */
    external_start: number | null;
    external_end: number | null;
    /** Growth of live data: heap used less compiled code, plus external. */
    growth: number | null;
    slope_mb_per_min: number | null;
    tolerance_mb: number | null;
    grows: boolean | null;
  };
  errors: number;
  error_kinds: Record<string, number>;
  error_samples: string[];
  core: CoreBenchResult | null;
  targets: TargetCheck[];
}

function ratio(value: number, base: number): number | null {
  return base > 0 ? round(value / base, 2) : null;
}

function slope(samples: readonly RssSample[]): number {
  if (samples.length < 3) return 0;
  const n = samples.length;
  const meanT = samples.reduce((sum, s) => sum + s.t, 0) / n;
  const meanMb = samples.reduce((sum, s) => sum + s.mb, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const sample of samples) {
    numerator += (sample.t - meanT) * (sample.mb - meanMb);
    denominator += (sample.t - meanT) ** 2;
  }
  return denominator > 0 ? (numerator / denominator) * 60 : 0;
}

function mb(value: number | undefined): number | null {
  return value === undefined ? null : round(value, 1);
}

/** Absolute part of the tolerance: what is still in flight after the drain (sockets, a few queued turns). */
const TOLERANCE_MB = 2;
/** Relative part, for larger heaps (several server processes). */
const TOLERANCE_FRACTION = 0.05;

/**
 * Does the server's memory grow? Not judged from RSS: in a run this short V8 may not run a single major
 * GC, so RSS carries the garbage of the run and the heap V8 grew to absorb the load (measured at the
 * default load: RSS slopes of -100 to +140 MB/min from run to run while the live data grew 6-10 MB).
 * Judged from the live data after a forced full GC at both ends of the realistic phase: heap used, less
 * the machine code the JIT compiled (it grows as functions get hot, bounded by the program, not by the
 * load), plus external memory (Buffers). Growth beyond the tolerance says GROWS, whatever its cause: it
 * also counts bounded caches still filling as the run's conversations age (the agent runtime's kept logs
 * go from none to 1,000 during the phase; conversation states, verified tokens, the core's memos). From
 * two points a leak and a cache short of its bound look the same; heap snapshots of a longer run (see
 * `memoryTrace`) tell them apart, and a cache that is smaller or full from the start lets this say flat.
 */
function heapVerdict(heap: BenchRaw['heapAfterGc']): BenchReport['heap_after_gc_mb'] {
  const { start, end } = heap;
  const data = (sample: HeapSample) => sample.heapUsed - sample.code + sample.external;
  const measured = start && end ? { start, end } : undefined;
  const growth = measured ? data(measured.end) - data(measured.start) : undefined;
  const tolerance = measured ? Math.max(TOLERANCE_MB, TOLERANCE_FRACTION * data(measured.start)) : undefined;
  const minutes = measured ? Math.max(measured.end.t - measured.start.t, 1) / 60 : 1;
  return {
    start: mb(start?.heapUsed),
    end: mb(end?.heapUsed),
    code_start: mb(start?.code),
    code_end: mb(end?.code),
    external_start: mb(start?.external),
    external_end: mb(end?.external),
    growth: mb(growth),
    slope_mb_per_min: growth === undefined ? null : round(growth / minutes, 1),
    tolerance_mb: mb(tolerance),
    grows: growth === undefined || tolerance === undefined ? null : growth > tolerance,
  };
}

function mergeErrors(raw: BenchRaw): { total: number; kinds: Record<string, number>; samples: string[] } {
  const kinds: Record<string, number> = {};
  const samples: string[] = [];
  for (const result of [...raw.baseline, ...raw.baselineAfter, ...raw.baton]) {
    for (const [kind, count] of Object.entries(result.errors)) kinds[kind] = (kinds[kind] ?? 0) + count;
    samples.push(...result.errorSamples);
  }
  return { total: Object.values(kinds).reduce((sum, count) => sum + count, 0), kinds, samples: samples.slice(0, 20) };
}

/** Messages per second of one saturation phase, summed over the load processes that drove it. */
function saturatedRate(results: readonly { saturation: { messages: number; seconds: number } }[]): number {
  const seconds = Math.max(...results.map((result) => result.saturation.seconds), 0.001);
  return results.reduce((sum, result) => sum + result.saturation.messages, 0) / seconds;
}

/** "baseline 9667.5 msg/s before Baton, 10725.2 after: 11% apart": how far the machine moved meanwhile. */
function bracketText({ before, after }: BenchReport['baseline_messages_per_s_runs']): string {
  if (after === null) return `baseline ${before} msg/s`;
  const apart = Math.round((100 * Math.abs(after - before)) / Math.max(Math.min(before, after), 0.001));
  return `baseline ${before} msg/s before Baton, ${after} after: ${apart}% apart`;
}

/**
 * The two baseline saturations this far apart (as a fraction of the slower) say the machine's speed moved
 * under the run by more than a ratio can absorb: it is then reported but not judged. Seen here: 11% apart
 * on a quiet SQLite run, 2.3× on a PostgreSQL run whose database was still busy after Baton's saturation.
 */
const BASELINE_MOVED = 0.3;

/** The throughput target's line: the ratio against the baselines' mean, judged only if they agree. */
export function throughputVerdict(
  ratio: number | null,
  runs: BenchReport['baseline_messages_per_s_runs'],
): { value: string; met: boolean | null } {
  const { before, after } = runs;
  const moved = after !== null && Math.abs(after - before) > BASELINE_MOVED * Math.min(before, after);
  return {
    value: `${ratio ?? '-'}× (${bracketText(runs)}${moved ? ': the machine changed speed under the measurement, not judged' : ''})`,
    met: ratio === null || moved ? null : ratio >= 0.25,
  };
}

export function buildReport(raw: BenchRaw): BenchReport {
  const baton = raw.baton;
  const { samples, lost, otherOffers } = matchHandoffs(baton);
  const handoffMs: number[] = [];
  const agentFreeMs: number[] = [];
  const waitedMs: number[] = [];
  const offerMs: number[] = [];
  for (const sample of samples) {
    offerMs.push(sample.offerAt - sample.triggerAt);
    const briefAt = briefTime(sample, raw.probe.briefRoute);
    if (briefAt === undefined) continue;
    handoffMs.push(briefAt - sample.triggerAt);
    (sample.waited ? waitedMs : agentFreeMs).push(briefAt - sample.triggerAt);
  }
  const acceptedBy = new Map<string, number>();
  for (const accept of baton.flatMap((result) => result.accepts)) {
    if (accept.status < 300) acceptedBy.set(accept.conversationId, (acceptedBy.get(accept.conversationId) ?? 0) + 1);
  }
  const assignedTwice = [...acceptedBy.values()].filter((count) => count > 1).length;

  const receipts = new Map<string, number>();
  for (const receipt of baton.flatMap((result) => result.ownerReceipts)) {
    receipts.set(`${receipt.conversationId}#${receipt.seq}`, receipt.at);
  }
  const messageMs: number[] = [];
  let undelivered = 0;
  const undeliveredSamples: string[] = [];
  const seenSeqs = new Map<string, number[]>();
  for (const receipt of baton.flatMap((result) => result.ownerReceipts)) {
    seenSeqs.set(receipt.conversationId, [...(seenSeqs.get(receipt.conversationId) ?? []), receipt.seq]);
  }
  const runEnd = Math.max(...baton.flatMap((result) => result.ownerSends.map((sent) => sent.at)), 0);
  for (const sent of baton.flatMap((result) => result.ownerSends)) {
    const at = receipts.get(`${sent.conversationId}#${sent.seq}`);
    if (at !== undefined) {
      messageMs.push(at - sent.at);
      continue;
    }
    undelivered += 1;
    if (undeliveredSamples.length < 5) {
      undeliveredSamples.push(
        `message_not_delivered_to_owner: ${sent.conversationId} seq ${sent.seq} sent ${round((runEnd - sent.at) / 1000, 1)} s ` +
          `before the last owner send; owner saw seqs [${(seenSeqs.get(sent.conversationId) ?? []).join(',')}]`,
      );
    }
  }

  const realisticSeconds = Math.max(...baton.map((result) => result.realisticSeconds), 0.001);
  const persisted = baton.reduce((sum, r) => sum + r.persisted.customer + r.persisted.ai + r.persisted.agent, 0);
  const saturatedSeconds = Math.max(...baton.map((result) => result.saturation.seconds), 0.001);
  const messagesPerSecond = saturatedRate(baton);
  const aiRepliesPerSecond = baton.reduce((sum, r) => sum + r.saturation.aiReplies, 0) / saturatedSeconds;
  const baselineBefore = saturatedRate(raw.baseline);
  const baselineAfter = raw.baselineAfter.length > 0 ? saturatedRate(raw.baselineAfter) : undefined;
  const baselinePerSecond = baselineAfter === undefined ? baselineBefore : (baselineBefore + baselineAfter) / 2;
  const baselineRealistic = raw.baseline.reduce((sum, r) => sum + r.realisticMessages, 0) / raw.phases.baselineSeconds;

  const customerMessages = baton.reduce((sum, r) => sum + r.persisted.customer, 0);
  const saturatedMessages = baton.reduce((sum, r) => sum + r.saturation.messages, 0);
  const baselineMessages = [...raw.baseline, ...raw.baselineAfter].reduce(
    (sum, r) => sum + r.realisticMessages + r.saturation.messages,
    0,
  );
  const perMessage = (cpu: number, messages: number) => (messages > 0 ? round(cpu / messages, 3) : null);
  const cpuPerMessage = {
    realistic: perMessage(raw.cpu.batonRun, customerMessages),
    saturated: perMessage(raw.cpu.batonSaturate, saturatedMessages),
    baseline: perMessage(raw.cpu.baseline, baselineMessages),
  };
  const handoff = summarize(handoffMs);
  const idle = summarize(raw.idleHandoffMs);
  const message = summarize(messageMs);
  const stream = summarize(baton.flatMap((result) => result.streamMs));
  const aiReply = summarize(baton.flatMap((result) => result.aiReplyMs));
  const echo = summarize(baton.flatMap((result) => result.echoRttMs));
  const baselineEcho = summarize(raw.baseline.flatMap((result) => result.echoRttMs));
  const baselineDelivery = summarize(raw.baseline.flatMap((result) => result.deliveryMs));

  const [runFrom, runTo] = raw.rss.runWindow;
  const steady = raw.rss.samples.filter((s) => s.t >= runFrom + (runTo - runFrom) / 2 && s.t <= runTo);
  const rssSlope = slope(steady);
  const peak = Math.max(raw.rss.end, raw.rss.start, ...raw.rss.samples.map((s) => s.mb));
  const rssRuleGrows = rssSlope > 10 && raw.rss.end > raw.rss.start * 1.15;
  const heap = heapVerdict(raw.heapAfterGc);
  const grows = heap.grows ?? rssRuleGrows;

  const errors = mergeErrors(raw);
  if (lost > 0) errors.kinds.handoff_lost = lost;
  if (assignedTwice > 0) errors.kinds.handoff_assigned_twice = assignedTwice;
  if (undelivered > 0) errors.kinds.message_not_delivered_to_owner = undelivered;
  errors.samples.push(...undeliveredSamples);
  const errorTotal = errors.total + lost + assignedTwice + undelivered;

  const report: BenchReport = {
    version: 1,
    started_at: raw.startedAt,
    wall_seconds: round(raw.wallSeconds, 1),
    machine: machine(),
    options: raw.options,
    server: {
      ai_replies: raw.probe.aiReplies,
      handoff_trigger: raw.probe.handoffMode === 'message' ? 'customer_message' : 'handoff_route',
      node_options: raw.serverNodeOptions,
      notes: raw.probe.notes,
    },
    handoff_latency_ms: handoff,
    handoff_offer_latency_ms: summarize(offerMs),
    handoff_latency_idle_ms: idle,
    slowest_handoffs: raw.slowestHandoffs,
    handoff_stages_ms: raw.handoffStages,
    handoff_latency_agent_free_ms: summarize(agentFreeMs),
    handoff_latency_waited_ms: summarize(waitedMs),
    handoff: {
      triggered: samples.length + lost,
      offered: samples.length,
      accepted: samples.filter((sample) => acceptedBy.has(sample.conversationId)).length,
      other_offers: otherOffers,
      waited_for_agent: samples.filter((sample) => sample.waited).length,
      lost,
      assigned_twice: assignedTwice,
      resolves_refused: baton.reduce((sum, result) => sum + result.resolvesRefused, 0),
      brief_in_offer: baton.some((result) => result.offers.some((offer) => offer.briefInOffer)),
    },
    message_latency_ms: message,
    stream_latency_ms: stream,
    ai_reply_ms: aiReply,
    echo_rtt_ms: echo,
    messages_per_s: round(messagesPerSecond, 1),
    saturated_ai_replies_per_s: round(aiRepliesPerSecond, 1),
    realistic_messages_per_s: round(persisted / realisticSeconds, 1),
    baseline_echo_rtt_ms: baselineEcho,
    baseline_delivery_ms: baselineDelivery,
    baseline_messages_per_s: round(baselinePerSecond, 1),
    baseline_messages_per_s_runs: {
      before: round(baselineBefore, 1),
      after: baselineAfter === undefined ? null : round(baselineAfter, 1),
    },
    baseline_realistic_messages_per_s: round(baselineRealistic, 1),
    server_cpu_ms_per_message: cpuPerMessage,
    load_average: { start: round(raw.loadAverage.start, 2), end: round(raw.loadAverage.end, 2) },
    machine_cpu: machineShare(raw.machineCpu),
    overloaded: (errors.kinds.request_failed ?? 0) > 0 || (baselineEcho.p50 > 0 && echo.p50 > 20 * baselineEcho.p50),
    drain_seconds: round(raw.phases.drainSeconds, 1),
    load_process_loop_delay_ms: {
      p99: round(Math.max(0, ...baton.map((r) => r.loopDelayMs.p99)), 1),
      max: round(Math.max(0, ...baton.map((r) => r.loopDelayMs.max)), 1),
    },
    server_pauses: serverPauses(raw.serverPauses),
    ratios: {
      cpu_per_message_vs_baseline:
        cpuPerMessage.saturated !== null && cpuPerMessage.baseline
          ? ratio(cpuPerMessage.saturated, cpuPerMessage.baseline)
          : null,
      handoff_p99_vs_baseline_delivery_p99: ratio(handoff.p99, baselineDelivery.p99),
      handoff_p99_vs_idle_p50: idle.count > 0 ? ratio(handoff.p99, idle.p50) : null,
      message_p99_vs_baseline_delivery_p99: ratio(message.p99, baselineDelivery.p99),
      stream_p99_vs_baseline_delivery_p99: ratio(stream.p99, baselineDelivery.p99),
      echo_rtt_p99_vs_baseline: ratio(echo.p99, baselineEcho.p99),
      messages_per_s_vs_baseline: ratio(messagesPerSecond, baselinePerSecond),
    },
    rss_mb: {
      boot: round(raw.rss.boot, 1),
      start: round(raw.rss.start, 1),
      end: round(raw.rss.end, 1),
      peak: round(peak, 1),
      baseline_peak: round(Math.max(0, ...raw.baselineRssMb), 1),
      slope_mb_per_min: round(rssSlope, 1),
      grows,
      rss_rule_grows: rssRuleGrows,
    },
    heap_after_gc_mb: heap,
    errors: errorTotal,
    error_kinds: errors.kinds,
    error_samples: errors.samples,
    core: raw.core ?? null,
    targets: [],
  };
  report.targets = checkTargets(report);
  return report;
}

export interface MachineCpu {
  cores: number;
  busy_pct: number;
  baton_servers_cores: number;
  load_processes_cores: number;
  rest_cores: number;
  /**
   * Share of the measured time a Baton server's event-loop thread was ready to run but waited for a core
   * (the mean over the servers): the machine's share of every latency, not the server's own work.
   */
  server_thread_waited_pct: number;
}

/** Above this share of the machine busy, the latency targets' values say that requests waited for a core. */
export const MACHINE_BUSY_PCT = 80;

/** What the machine and each part of the bench used between two readings (see `BenchRaw.machineCpu`). */
export function machineShare(readings: BenchRaw['machineCpu']): MachineCpu | null {
  if (!readings) return null;
  const { cores, servers: serverCount, start, end } = readings;
  const wallMs = end.at - start.at;
  const busyMs = end.machineMs - start.machineMs;
  if (wallMs <= 0 || busyMs <= 0 || cores <= 0) return null;
  const servers = Math.max(0, end.serversMs - start.serversMs);
  const loads = Math.max(0, end.loadsMs - start.loadsMs);
  return {
    cores,
    busy_pct: round(Math.min(100, (100 * busyMs) / (wallMs * cores)), 0),
    baton_servers_cores: round(servers / wallMs, 2),
    load_processes_cores: round(loads / wallMs, 2),
    rest_cores: round(Math.max(0, busyMs - servers - loads) / wallMs, 2),
    server_thread_waited_pct: round(
      (100 * Math.max(0, end.serversWaitMs - start.serversWaitMs)) / (wallMs * Math.max(1, serverCount)),
      1,
    ),
  };
}

function machineText(cpu: MachineCpu): string {
  return (
    `${cpu.busy_pct}% of ${cpu.cores} cores busy: Baton servers ${cpu.baton_servers_cores} cores, load processes ` +
    `${cpu.load_processes_cores}, the rest (database, Redis, kernel, bench) ${cpu.rest_cores}; a server's event loop ` +
    `waited for a core ${cpu.server_thread_waited_pct}% of the time`
  );
}

function signed(value: number | null): string {
  return value === null ? '-' : value >= 0 ? `+${value}` : String(value);
}

function checkTargets(report: BenchReport): TargetCheck[] {
  const { options } = report;
  const heap = report.heap_after_gc_mb;
  const postgres = options.store === 'postgres' && options.processes > 1;
  const limit = postgres ? 20 : 10;
  const busy = report.machine_cpu && report.machine_cpu.busy_pct >= MACHINE_BUSY_PCT ? report.machine_cpu : undefined;
  const checks: TargetCheck[] = [
    {
      name: `handoff latency p99 (${postgres ? 'PostgreSQL + Redis, 2 processes' : 'embedded'})`,
      target: `<= ${limit} ms`,
      value: report.handoff_latency_ms.count
        ? `${report.handoff_latency_ms.p99} ms` +
          ` (${ciText(report.handoff_latency_ms)})` +
          (report.handoff.waited_for_agent > 0
            ? ` (${report.handoff.waited_for_agent} waited for a free agent; with an agent free: ` +
              `${report.handoff_latency_agent_free_ms.p99} ms)`
            : '') +
          (busy ? ` (the machine was ${busy.busy_pct}% busy under the load: handoffs waited for a core too)` : '')
        : 'not measured',
      met: report.handoff_latency_ms.count ? report.handoff_latency_ms.p99 <= limit : null,
    },
    { name: 'errors', target: '0', value: String(report.errors), met: report.errors === 0 },
    {
      name: 'handoffs lost or assigned twice',
      target: '0',
      value: `${report.handoff.lost} lost, ${report.handoff.assigned_twice} twice`,
      met: report.handoff.lost === 0 && report.handoff.assigned_twice === 0,
    },
    {
      name: 'memory flat over the run',
      target: 'no steady growth',
      value:
        heap.grows === null
          ? `RSS ${report.rss_mb.start} → ${report.rss_mb.end} MB (${report.rss_mb.slope_mb_per_min} MB/min; heap after GC not measured)`
          : `live data after GC ${signed(heap.growth)} MB (tolerance ${heap.tolerance_mb}); heap after GC ` +
            `${heap.start} → ${heap.end} MB; RSS ${report.rss_mb.start} → ${report.rss_mb.end} MB`,
      met: !report.rss_mb.grows,
    },
    {
      name: 'throughput vs bare baseline',
      target: '>= 0.25×',
      ...throughputVerdict(report.ratios.messages_per_s_vs_baseline, report.baseline_messages_per_s_runs),
    },
  ];
  const brief = report.core?.brief_ms['1000'];
  const draft = report.core?.guard_draft_ms['1000'];
  checks.push(
    {
      name: 'brief of a 1,000-event conversation (p50)',
      target: '< 2 ms',
      value: brief ? `${brief.p50} ms` : 'not measured',
      met: brief ? brief.p50 < 2 : null,
    },
    {
      name: 'guard on a draft, 1,000 events (p50)',
      target: '< 1 ms',
      value: draft ? `${draft.p50} ms` : 'not measured',
      met: draft ? draft.p50 < 1 : null,
    },
  );
  if (options.conversations < 1000 || options.agents < 50) {
    for (const check of checks) if (check.name.startsWith('handoff latency')) check.met = null;
  }
  return checks;
}

// -------------------------------------------------------------------------------------------------
// Text rendering.

/** The p99's 95% interval in words, with how many samples it rests on. */
function ciText(value: LatencySummary): string {
  const ci = value.p99_ci95;
  if (!ci) return `${value.count} samples`;
  return ci.high === null
    ? `95% interval ${ms(ci.low)} ms and up: ${value.count} samples cannot bound a p99 from above (a longer --duration can)`
    : `95% interval ${ms(ci.low)}–${ms(ci.high)} ms over ${value.count} samples`;
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function latencyRow(label: string, value: LatencySummary, base: LatencySummary | undefined): string[] {
  if (value.count === 0) return [label, 'not measured', '', '', '', '', base ? `${ms(base.p99)}` : '', ''];
  return [
    label,
    String(value.count),
    ms(value.p50),
    ms(value.p99),
    ms(value.p999),
    ms(value.max),
    base?.count ? ms(base.p99) : '',
    base?.count && base.p99 > 0 ? `${(value.p99 / base.p99).toFixed(1)}×` : '',
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  '),
    )
    .join('\n');
}

function stallText(stalls: HandoffStalls): string {
  const parts =
    stalls.ran_ms === null
      ? []
      : [
          `ran ${ms(stalls.ran_ms)}`,
          `waited for a core ${ms(stalls.waited_ms ?? 0)}`,
          `blocked ${ms(stalls.blocked_ms ?? 0)}`,
        ];
  if (stalls.gc_ms > 0) parts.push(`GC ${ms(stalls.gc_ms)}`);
  return parts.length > 0 ? `${ms(stalls.ms)} (${parts.join(', ')})` : ms(stalls.ms);
}

function serverPauses(pauses: BenchRaw['serverPauses']): BenchReport['server_pauses'] {
  if (!pauses) return null;
  const gc = summarize(pauses.gcPausesMs);
  return {
    loop_delay_ms: {
      p50: round(pauses.loopDelayMs.p50, 2),
      p99: round(pauses.loopDelayMs.p99, 2),
      max: round(pauses.loopDelayMs.max, 2),
    },
    gc: {
      count: gc.count,
      per_s: round(gc.count / Math.max(pauses.seconds, 0.001), 1),
      total_ms: round(
        pauses.gcPausesMs.reduce((sum, ms) => sum + ms, 0),
        1,
      ),
      p99_ms: gc.p99,
      max_ms: gc.max,
      major: {
        count: pauses.gcMajorPausesMs.length,
        total_ms: round(
          pauses.gcMajorPausesMs.reduce((sum, ms) => sum + ms, 0),
          1,
        ),
        max_ms: round(Math.max(0, ...pauses.gcMajorPausesMs), 2),
      },
    },
  };
}

export function renderReport(report: BenchReport): string {
  const { options } = report;
  const lines: string[] = [];
  lines.push(
    `Baton bench: ${options.conversations} conversations, ${options.agents} agents, ${options.handoffRate} handoffs/s, ` +
      `${options.durationSeconds} s, ${options.store}, ${options.processes} server process(es), ` +
      `${options.loadProcesses} load processes, ${options.history.toLocaleString('en-US')} past offers on the desk, ` +
      `${options.serverGc === 'single' ? 'single-threaded' : 'parallel'} GC in the servers`,
  );
  lines.push(
    `machine: ${report.machine.cpus} × ${report.machine.cpu_model}, Node ${report.machine.node}; ` +
      `load average ${report.load_average.start} at start, ${report.load_average.end} at end; wall ${report.wall_seconds} s`,
  );
  lines.push(
    `load processes' own event-loop delay: p99 ${report.load_process_loop_delay_ms.p99} ms, max ${report.load_process_loop_delay_ms.max} ms`,
  );
  if (report.machine_cpu) lines.push(`machine under the measured load: ${machineText(report.machine_cpu)}`);
  const pauses = report.server_pauses;
  if (pauses) {
    lines.push(
      `server event loop (realistic phase): late by p50 ${pauses.loop_delay_ms.p50} / p99 ${pauses.loop_delay_ms.p99} / ` +
        `max ${pauses.loop_delay_ms.max} ms; GC pauses ${pauses.gc.count} (${pauses.gc.per_s}/s, ${pauses.gc.total_ms} ms in all, ` +
        `p99 ${pauses.gc.p99_ms} ms, max ${pauses.gc.max_ms} ms; ${pauses.gc.major.count} full, ` +
        `${pauses.gc.major.total_ms} ms in all, max ${pauses.gc.major.max_ms} ms)`,
    );
  }
  for (const note of report.server.notes) lines.push(`note: ${note}`);
  if (report.overloaded) {
    lines.push(
      `OVERLOADED: the realistic load exceeded what the server could serve on this machine; latencies below are ` +
        `mostly queueing (it needed ${report.drain_seconds} s to drain afterwards). Try fewer --conversations.`,
    );
  }
  lines.push('');
  lines.push('Latency (ms, HDR histogram)                  baseline = bare HTTP+WebSocket server, same run');
  lines.push(
    table([
      ['', 'count', 'p50', 'p99', 'p99.9', 'max', 'base p99', 'ratio'],
      latencyRow('handoff: trigger → brief on agent', report.handoff_latency_ms, report.baseline_delivery_ms),
      latencyRow('handoff: trigger → offer on agent', report.handoff_offer_latency_ms, report.baseline_delivery_ms),
      latencyRow('  … an agent was free', report.handoff_latency_agent_free_ms, report.baseline_delivery_ms),
      latencyRow('  … waited for a free agent', report.handoff_latency_waited_ms, report.baseline_delivery_ms),
      latencyRow('  … idle server, one at a time', report.handoff_latency_idle_ms, report.baseline_delivery_ms),
      latencyRow('message → owning agent socket', report.message_latency_ms, report.baseline_delivery_ms),
      latencyRow('message → customer stream', report.stream_latency_ms, report.baseline_delivery_ms),
      latencyRow('AI reply time', report.ai_reply_ms, report.baseline_delivery_ms),
      latencyRow('WebSocket ping RTT', report.echo_rtt_ms, report.baseline_echo_rtt_ms),
      latencyRow('baseline: POST → other socket', report.baseline_delivery_ms, undefined),
      latencyRow('baseline: WebSocket echo RTT', report.baseline_echo_rtt_ms, undefined),
    ]),
  );
  if (report.handoff_latency_ms.count > 0) {
    // A p99 of a few hundred samples is a handful of the worst ones: say how far it can be trusted.
    lines.push(`handoff p99: ${ciText(report.handoff_latency_ms)}`);
    const idle = report.handoff_latency_idle_ms;
    if (idle.count > 0) {
      lines.push(
        `handoff on the idle server${report.options.processes > 1 ? 's' : ''}: p50 ${ms(idle.p50)} ms, max ${ms(idle.max)} ms ` +
          `(${idle.count}, one at a time, after the load); the loaded p99 is ${report.ratios.handoff_p99_vs_idle_p50}× that p50`,
      );
    }
    if (report.slowest_handoffs.length > 0) {
      lines.push(
        'slowest handoffs, ms = sent → stored + AI turn + routed and offered + brief on the agent: ' +
          report.slowest_handoffs
            .map(
              (h) =>
                `${ms(h.ms)} = ${ms(h.sent_to_stored_ms)} + ${ms(h.ai_turn_ms)} + ${ms(h.routing_ms)} + ${ms(h.offer_to_agent_ms)}`,
            )
            .join('; '),
      );
      const stages = report.handoff_stages_ms;
      const stage = (summary: StageSummary) =>
        `${ms(summary.p50)} / ${ms(summary.p90)} / ${ms(summary.p99)} / ${ms(summary.max)}`;
      lines.push(
        `each stage over all ${stages.count} handoffs taken apart, ms p50 / p90 / p99 / max: ` +
          `sent → stored ${stage(stages.sent_to_stored_ms)}; AI turn ${stage(stages.ai_turn_ms)}; ` +
          `routed and offered ${stage(stages.routing_ms)}; brief on the agent ${stage(stages.offer_to_agent_ms)}`,
      );
      const stalled = report.slowest_handoffs.filter((h) => h.server_stalls !== null);
      if (stalled.length > 0) {
        lines.push(
          `the server's loop stood still within them (stalls of ${STALL_MS} ms or more), ms: ` +
            stalled.map((h) => `${ms(h.ms)}: ${stallText(h.server_stalls as HandoffStalls)}`).join('; '),
        );
      }
      const clientStalled = report.slowest_handoffs.filter((h) => h.client_stalls !== null);
      if (clientStalled.length > 0) {
        lines.push(
          `the loops of the load processes they went through (the instrument) stood still within them, ms: ` +
            clientStalled.map((h) => `${ms(h.ms)}: ${stallText(h.client_stalls as HandoffStalls)}`).join('; '),
        );
      }
    }
  }
  lines.push('');
  lines.push(
    table([
      ['Throughput (messages/s)', 'Baton', 'baseline', 'ratio'],
      [
        'saturated, every message persisted',
        String(report.messages_per_s),
        String(report.baseline_messages_per_s),
        `${report.ratios.messages_per_s_vs_baseline ?? '-'}×`,
      ],
      ['  … AI replies meanwhile (a turn answers all new messages)', String(report.saturated_ai_replies_per_s), '', ''],
      [
        'realistic load (all authors)',
        String(report.realistic_messages_per_s),
        String(report.baseline_realistic_messages_per_s),
        '',
      ],
    ]),
  );
  lines.push(
    `The ratio is against the mean of the bare server's two saturations: ${bracketText(report.baseline_messages_per_s_runs)}.`,
  );
  const cpu = report.server_cpu_ms_per_message;
  lines.push(
    `Server CPU per customer message (ms): ${cpu.saturated ?? '-'} saturated, ${cpu.realistic ?? '-'} realistic; ` +
      `baseline ${cpu.baseline ?? '-'}; ratio ${report.ratios.cpu_per_message_vs_baseline ?? '-'}×`,
  );
  lines.push('');
  const h = report.handoff;
  lines.push(
    `Handoffs: ${h.triggered} triggered (${report.server.handoff_trigger.replace('_', ' ')}), ${h.offered} offered, ` +
      `${h.accepted} accepted, ${h.lost} lost, ${h.assigned_twice} assigned twice, ${h.waited_for_agent} waited for ` +
      `a free agent; ${h.other_offers} other offers ` +
      `(handoffs outside the measured window: setup, warm-up, saturation); brief ${h.brief_in_offer ? 'in the offer' : 'fetched after the offer'}; ` +
      `${h.resolves_refused} resolve(s) refused because the customer wrote meanwhile (answered, then resolved)`,
  );
  const r = report.rss_mb;
  const heap = report.heap_after_gc_mb;
  const verdict = r.grows ? 'GROWS' : 'flat';
  lines.push(
    `Server RSS: ${r.boot} MB at boot, ${r.start} MB at start of load, ${r.end} MB at end, peak ${r.peak} MB ` +
      `(baseline server peak ${r.baseline_peak} MB); ${r.slope_mb_per_min} MB/min in the second half` +
      (heap.grows === null ? `: ${verdict}` : ' (garbage not yet collected counts too: not the verdict)'),
  );
  if (heap.grows !== null) {
    lines.push(
      `Server heap after a forced GC: ${heap.start} MB at start of load, ${heap.end} MB at end (compiled code ` +
        `${heap.code_start} → ${heap.code_end} MB, external ${heap.external_start} → ${heap.external_end} MB); ` +
        `live data ${signed(heap.growth)} MB (${heap.slope_mb_per_min} MB/min), tolerance ${heap.tolerance_mb} MB: ${verdict}`,
    );
  }
  lines.push(`Errors: ${report.errors}${report.errors ? ` ${JSON.stringify(report.error_kinds)}` : ''}`);
  for (const sample of report.error_samples.slice(0, 5)) lines.push(`  ${sample}`);
  if (report.core) {
    lines.push('');
    const core = report.core;
    const sizes = Object.keys(core.brief_ms);
    lines.push(
      table([
        ['Core alone (ms, p50 / p99)', ...sizes.map((size) => `${size} events`)],
        ['buildBrief', ...sizes.map((size) => pair(core.brief_ms[size]))],
        ['prepareGuard', ...sizes.map((size) => pair(core.guard_prepare_ms[size]))],
        ['guard(draft)', ...sizes.map((size) => pair(core.guard_draft_ms[size]))],
      ]),
    );
  }
  lines.push('');
  lines.push('Targets (issue 6)');
  for (const check of report.targets) {
    const mark = check.met === null ? ' -- ' : check.met ? ' ok ' : 'MISS';
    lines.push(`  [${mark}] ${check.name}: ${check.value} (target ${check.target})`);
  }
  return lines.join('\n');
}

function pair(value: LatencySummary | undefined): string {
  return value ? `${value.p50.toFixed(3)} / ${value.p99.toFixed(3)}` : '-';
}
