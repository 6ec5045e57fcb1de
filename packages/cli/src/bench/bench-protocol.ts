import { z } from 'zod';

/**
 * What the bench orchestrator and its child processes (servers, load generators) say to each other
 * over IPC. Children are separate processes, so everything is parsed on arrival like any other input.
 */

export const BenchAgentSeed = z.object({
  agents: z.array(z.object({ id: z.string(), email: z.string(), name: z.string() })),
  password: z.string().min(1),
  skills: z.array(z.string()).default([]),
  capacity: z.number().int().positive().default(5),
  /** Past offers to write into the desk before listening (see desk-history-seed.ts). */
  history: z.number().int().nonnegative().default(0),
});
export type BenchAgentSeed = z.infer<typeof BenchAgentSeed>;

/** `execArgv`: the Node options the process runs with, so the report says how the servers were started. */
export const ServerListening = z.object({
  type: z.literal('listening'),
  url: z.string(),
  pid: z.number(),
  execArgv: z.array(z.string()).default([]),
});

/**
 * The orchestrator asks a Baton server process for its memory. With `gc`, the process first runs a full
 * garbage collection (it is started with `--expose-gc`), so `heapUsed` counts live objects only: what a
 * leak would grow, without the garbage a busy heap carries until its next major collection.
 * `snapshot` also writes a V8 heap snapshot to that path (seconds of pause: diagnostics only).
 */
export const MemoryRequest = z.object({
  type: z.literal('memory'),
  id: z.number().int(),
  gc: z.boolean(),
  snapshot: z.string().optional(),
});
export type MemoryRequest = z.infer<typeof MemoryRequest>;

/**
 * Asks a server what held its event loop up since the last such request (`reset` starts a new window
 * without reading one): the loop's delay and V8's garbage-collection pauses, which a client sees as tail latency.
 */
export const PausesRequest = z.object({ type: z.literal('pauses'), id: z.number().int() });
export type PausesRequest = z.infer<typeof PausesRequest>;

/**
 * A stretch in which a server's event loop ran a timer late by at least a few ms. `at` (epoch ms, the
 * machine's clock, as the clients stamp) is when the timer was due, `ms` how late it ran. Over that
 * stretch the loop's thread was on a CPU (`ranMs`: JavaScript, GC, synchronous I/O), ready but waiting for
 * a core (`waitedMs`), or neither, blocked in the kernel (the rest); null where /proc cannot say.
 * `server`: which server process (or load process, for the instrument's own stalls), numbered by the orchestrator.
 */
export const ServerStall = z.object({
  server: z.number().int().nonnegative(),
  at: z.number(),
  ms: z.number().nonnegative(),
  ranMs: z.number().nonnegative().nullable(),
  waitedMs: z.number().nonnegative().nullable(),
});
export type ServerStall = z.infer<typeof ServerStall>;

/** One GC pause: when it began (epoch ms, the machine's clock), how long (ms), in which process (see `ServerStall`). */
export const GcPause = z.object({ server: z.number().int().nonnegative(), at: z.number(), ms: z.number() });

export const PausesReport = z.object({
  type: z.literal('pauses'),
  id: z.number().int(),
  seconds: z.number(),
  /** How late a timer due every few ms ran (ms): the loop was busy or the process off the CPU. */
  loopDelayMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() }),
  /** Stop-the-world GC pauses on the main thread (ms), all kinds. */
  gcPausesMs: z.array(z.number()),
  /** Those of them that ended a full (mark-compact) collection: the long ones, the old space's. */
  gcMajorPausesMs: z.array(z.number()),
  /** When each GC pause began (epoch ms, the machine's clock) and how long it took: to lay beside handoffs. */
  gcTimeline: z.array(GcPause).default([]),
  /** The loop's stalls (see `ServerStall`), oldest first. */
  stalls: z.array(ServerStall).default([]),
});
export type PausesReport = z.infer<typeof PausesReport>;

/** `process.memoryUsage()` of a server process in MB, and how much of `heapUsed` is compiled code. */
export const MemoryUsage = z.object({
  rss: z.number(),
  heapUsed: z.number(),
  heapTotal: z.number(),
  external: z.number(),
  arrayBuffers: z.number(),
  /** V8's code spaces: machine code the JIT compiled, bounded by the program rather than the load. */
  code: z.number(),
});
export type MemoryUsage = z.infer<typeof MemoryUsage>;

/** The answer to a `MemoryRequest`; `gc` says whether a full collection ran first. */
export const MemoryReport = z.object({
  type: z.literal('memory'),
  id: z.number().int(),
  gc: z.boolean(),
  usage: MemoryUsage,
});
export type MemoryReport = z.infer<typeof MemoryReport>;

export const CustomerScript = z.object({
  source: z.string(),
  id: z.string(),
  topic: z.string(),
  /** The industry the conversation is opened in: it decides which playbooks the AI has. */
  industry: z.string().default('ecommerce'),
  lines: z.array(z.string().min(1)).min(1),
});
export type CustomerScript = z.infer<typeof CustomerScript>;

/** How a handoff is triggered: by the customer's words (the AI must notice) or by the handoff route. */
export const HandoffMode = z.enum(['message', 'route']);
export type HandoffMode = z.infer<typeof HandoffMode>;

export const LoadCommand = z.discriminatedUnion('cmd', [
  z.object({
    cmd: z.literal('baseline'),
    url: z.string(),
    customers: z.number().int().nonnegative(),
    /** Realistic load first, then the saturation; 0 runs the saturation alone (the run after Baton's). */
    durationMs: z.number().int().nonnegative(),
    saturateMs: z.number().int().positive(),
    concurrency: z.number().int().positive(),
    thinkScale: z.number().positive(),
  }),
  z.object({
    cmd: z.literal('setup'),
    urls: z.array(z.string()).min(1),
    customers: z.number().int().nonnegative(),
    agents: z.array(z.object({ email: z.string(), password: z.string() })),
    expectAi: z.boolean(),
    handoffMode: HandoffMode,
    /** Whether `GET /v1/conversations/:id/brief` exists: agents fetch the brief when the offer has none. */
    fetchBrief: z.boolean(),
  }),
  z.object({
    cmd: z.literal('run'),
    durationMs: z.number().int().positive(),
    /** Handoffs per second this process triggers. */
    handoffRate: z.number().nonnegative(),
    thinkScale: z.number().positive(),
    /**
     * Wall-clock ms (epoch) from which samples count: what starts before it is the warm-up (caches filling,
     * code being optimised, the orchestrator's forced GC for the memory reading) and is left out.
     */
    measureFrom: z.number().default(0),
  }),
  z.object({ cmd: z.literal('saturate'), durationMs: z.number().int().positive(), concurrency: z.number().int() }),
  z.object({ cmd: z.literal('finish') }),
]);
export type LoadCommand = z.infer<typeof LoadCommand>;

export const Counters = z.object({
  sent: z.number(),
  aiReplies: z.number(),
  handoffs: z.number(),
  offers: z.number(),
  accepted: z.number(),
  resolved: z.number(),
  errors: z.number(),
});
export type Counters = z.infer<typeof Counters>;

const Samples = z.array(z.number());
const ErrorCounts = z.record(z.string(), z.number());

export const BaselineResult = z.object({
  echoRttMs: Samples,
  deliveryMs: Samples,
  realisticMessages: z.number(),
  saturation: z.object({ messages: z.number(), seconds: z.number() }),
  errors: ErrorCounts,
  errorSamples: z.array(z.string()),
});
export type BaselineResult = z.infer<typeof BaselineResult>;

export const Timed = z.object({ conversationId: z.string(), at: z.number() });

export const BatonResult = z.object({
  aiReplyMs: Samples,
  /** Customer message to its echo on the customer's own socket: what any subscriber sees. */
  streamMs: Samples,
  echoRttMs: Samples,
  triggers: z.array(Timed),
  /**
   * Conversations whose customer was told to wait for a free agent (a `handoff.queued` with a wait estimate
   * other than 0): every slot on the desk was taken, so their handoff latency includes queue time.
   */
  waitedForAgent: z.array(z.string()).default([]),
  /** Resolves the server refused because the customer wrote after what the agent had seen (then answered). */
  resolvesRefused: z.number().default(0),
  offers: z.array(Timed.extend({ agentEmail: z.string(), briefAt: z.number().optional(), briefInOffer: z.boolean() })),
  accepts: z.array(Timed.extend({ agentEmail: z.string(), status: z.number() })),
  /** Customer messages sent while an agent owns the conversation: joined with agent receipts by seq. */
  ownerSends: z.array(Timed.extend({ seq: z.number() })),
  ownerReceipts: z.array(Timed.extend({ seq: z.number() })),
  /** Messages the server acknowledged (so persisted), by author, in the realistic phase. */
  persisted: z.object({ customer: z.number(), ai: z.number(), agent: z.number() }),
  realisticSeconds: z.number(),
  /** `aiReplies`: AI messages that reached the customers' sockets during the saturation phase. */
  saturation: z.object({ messages: z.number(), seconds: z.number(), aiReplies: z.number().default(0) }),
  setupSeconds: z.number(),
  /** This load process's own event-loop delay during the realistic phase (p99, max; ms): client-side noise. */
  loopDelayMs: z.object({ p99: z.number(), max: z.number() }),
  /**
   * This load process's own stalls and GC pauses over the realistic phase (see loop-stalls.ts): a client
   * that is busy or paused when a frame arrives stamps it late, so the slowest handoffs are checked
   * against them too. `server` in each entry is 0; the orchestrator numbers the load processes.
   */
  pauses: z
    .object({ stalls: z.array(ServerStall), gcTimeline: z.array(GcPause) })
    .default({ stalls: [], gcTimeline: [] }),
  errors: ErrorCounts,
  errorSamples: z.array(z.string()),
});
export type BatonResult = z.infer<typeof BatonResult>;

export const LoadReport = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('progress'), counters: Counters }),
  z.object({ type: z.literal('phase-done'), phase: z.string() }),
  z.object({ type: z.literal('baseline-result'), result: BaselineResult }),
  z.object({ type: z.literal('baton-result'), result: BatonResult }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
]);
export type LoadReport = z.infer<typeof LoadReport>;
