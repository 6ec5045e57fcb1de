import type { BatonResult, PausesReport, ServerStall } from './bench-protocol.ts';
import { round } from './latency-histogram.ts';

/** One measured handoff: its trigger sent, its offer (and brief) received, as the load processes saw them. */
export interface HandoffSample {
  conversationId: string;
  /** Epoch ms, the clients' clock (the machine's). */
  triggerAt: number;
  offerAt: number;
  /** When the brief was on the agent's screen: with the offer, or fetched after it; undefined if never. */
  briefAt: number | undefined;
  waited: boolean;
  /** The load processes (by index) of the customer who sent the trigger and of the agent offered it. */
  loadProcesses?: number[];
}

/**
 * Pairs each measured trigger (the first per conversation) with the first offer of its conversation, from
 * every load process (the customer and the offered agent may be in different ones). `lost`: triggers
 * whose conversation was never offered; `otherOffers`: conversations offered without a measured trigger.
 */
export function matchHandoffs(results: readonly BatonResult[]): {
  samples: HandoffSample[];
  lost: number;
  otherOffers: number;
} {
  const triggers = new Map<string, { at: number; process: number }>();
  results.forEach((result, process) => {
    for (const trigger of result.triggers) {
      if (!triggers.has(trigger.conversationId)) triggers.set(trigger.conversationId, { at: trigger.at, process });
    }
  });
  const offers = new Map<string, { at: number; briefAt: number | undefined; process: number }>();
  results.forEach((result, process) => {
    for (const offer of result.offers) {
      const known = offers.get(offer.conversationId);
      if (!known || offer.at < known.at) {
        offers.set(offer.conversationId, { at: offer.at, briefAt: offer.briefAt, process });
      }
    }
  });
  const waited = new Set(results.flatMap((result) => result.waitedForAgent));
  const samples: HandoffSample[] = [];
  let lost = 0;
  for (const [conversationId, trigger] of triggers) {
    const offer = offers.get(conversationId);
    if (!offer) {
      lost += 1;
      continue;
    }
    samples.push({
      conversationId,
      triggerAt: trigger.at,
      offerAt: offer.at,
      briefAt: offer.briefAt,
      waited: waited.has(conversationId),
      loadProcesses: [...new Set([trigger.process, offer.process])],
    });
  }
  return { samples, lost, otherOffers: [...offers.keys()].filter((id) => !triggers.has(id)).length };
}

/** When the brief reached the agent: the offer itself when it carries the brief, else the fetch after it. */
export function briefTime(sample: HandoffSample, briefRoute: boolean): number | undefined {
  return briefRoute ? sample.briefAt : sample.offerAt;
}

/** The `n` slowest handoffs, trigger to brief, slowest first. */
export function slowestHandoffs(samples: readonly HandoffSample[], briefRoute: boolean, n: number): HandoffSample[] {
  const timed = samples.filter((sample) => briefTime(sample, briefRoute) !== undefined);
  const took = (sample: HandoffSample) => (briefTime(sample, briefRoute) as number) - sample.triggerAt;
  return timed.sort((a, b) => took(b) - took(a)).slice(0, n);
}

/** What a conversation's log says, as far as the anatomy of its handoff needs. */
export interface LoggedEvent {
  seq: number;
  type: string;
  at: string;
  author?: string | undefined;
}

/**
 * Where one handoff's time went, in ms: the customer's message sent → stored (the request reaching the
 * server, its validation and write) → the AI's turn (its reply and request for a person stored) →
 * routed (an agent chosen, the offer stored) → the offer with its brief on the agent's socket (the brief
 * built, the frame sent and read). From the log's timestamps (ms) and the clients' clocks (same machine),
 * so each stage is good to a millisecond. Undefined if the log does not show the handoff.
 */
export interface HandoffAnatomy {
  conversation_id: string;
  ms: number;
  sent_to_stored_ms: number;
  ai_turn_ms: number;
  routing_ms: number;
  offer_to_agent_ms: number;
  /** The server stalls inside it (see `stallsWithin`); null when no timeline was recorded. */
  server_stalls: HandoffStalls | null;
  /**
   * The stalls inside it of the load processes it went through (its customer's, its agent's), the same
   * way: the instrument's delay (a client busy or paused when the frame arrived stamps it late). Null when
   * no timeline was recorded.
   */
  client_stalls: HandoffStalls | null;
}

export function handoffAnatomy(
  sample: HandoffSample,
  briefRoute: boolean,
  events: readonly LoggedEvent[],
  pauses?: Pick<PausesReport, 'stalls' | 'gcTimeline'>,
  clientPauses?: Pick<PausesReport, 'stalls' | 'gcTimeline'>,
): HandoffAnatomy | undefined {
  const briefAt = briefTime(sample, briefRoute);
  if (briefAt === undefined) return undefined;
  // The log's times are whole ms: an event stored within the trigger's millisecond reads as up to 1 ms before it.
  const requested = events.find(
    (event) => event.type === 'handoff.requested' && Date.parse(event.at) >= sample.triggerAt - 1,
  );
  if (!requested) return undefined;
  const message = events.findLast(
    (event) => event.type === 'message' && event.author === 'customer' && event.seq < requested.seq,
  );
  const offered = events.find((event) => event.type === 'handoff.offered' && event.seq > requested.seq);
  if (!message || !offered) return undefined;
  const stored = Date.parse(message.at);
  const asked = Date.parse(requested.at);
  const routed = Date.parse(offered.at);
  return {
    conversation_id: sample.conversationId,
    ms: round(briefAt - sample.triggerAt, 1),
    sent_to_stored_ms: round(stored - sample.triggerAt, 1),
    ai_turn_ms: asked - stored,
    routing_ms: routed - asked,
    offer_to_agent_ms: round(briefAt - routed, 1),
    server_stalls: stallsWithin(sample.triggerAt, briefAt, pauses),
    client_stalls: stallsWithin(sample.triggerAt, briefAt, involved(clientPauses, sample.loadProcesses)),
  };
}

/** One stage's distribution over the handoffs taken apart, in ms (nearest rank: each figure is a handoff's). */
export interface StageSummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Each stage of `HandoffAnatomy` over every measured handoff whose log shows it, not just the slowest: which
 * stage the tail comes from in this run (the log's times are whole ms, so are the middle stages').
 */
export interface HandoffStages {
  count: number;
  sent_to_stored_ms: StageSummary;
  ai_turn_ms: StageSummary;
  routing_ms: StageSummary;
  offer_to_agent_ms: StageSummary;
}

export const HANDOFF_STAGES = ['sent_to_stored_ms', 'ai_turn_ms', 'routing_ms', 'offer_to_agent_ms'] as const;

export function handoffStages(anatomies: readonly HandoffAnatomy[]): HandoffStages {
  const summary = (values: number[]): StageSummary => {
    const sorted = values.sort((a, b) => a - b);
    // Nearest rank: the smallest value with at least q of the values at or below it.
    const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
  };
  const [sent, ai, routing, offer] = HANDOFF_STAGES.map((stage) => summary(anatomies.map((a) => a[stage])));
  return {
    count: anatomies.length,
    sent_to_stored_ms: sent as StageSummary,
    ai_turn_ms: ai as StageSummary,
    routing_ms: routing as StageSummary,
    offer_to_agent_ms: offer as StageSummary,
  };
}

/** Of the load processes' timelines, those of the processes a handoff went through (all when not known). */
function involved(
  pauses: Pick<PausesReport, 'stalls' | 'gcTimeline'> | undefined,
  processes: readonly number[] | undefined,
): Pick<PausesReport, 'stalls' | 'gcTimeline'> | undefined {
  if (!pauses || !processes) return pauses;
  return {
    stalls: pauses.stalls.filter((stall) => processes.includes(stall.server)),
    gcTimeline: pauses.gcTimeline.filter((pause) => processes.includes(pause.server)),
  };
}

/** A server's loop counts as stalled when a timer runs this late (ms) or later. */
export const STALL_MS = 4;

/**
 * How a server's loop thread spent a stall of `late` ms, from its schedule read at the start and end of
 * the timer's period: on a CPU (JavaScript, GC, synchronous I/O), then ready but waiting for a core. The
 * readings span the whole period; before the timer was due the loop was mostly idle, so what the thread
 * ran and waited is laid in the late part first. Null where the schedule could not be read.
 */
export function stallSchedule(
  late: number,
  before: { ranMs: number; waitedMs: number } | undefined,
  after: { ranMs: number; waitedMs: number } | undefined,
): Pick<ServerStall, 'ranMs' | 'waitedMs'> {
  if (!before || !after) return { ranMs: null, waitedMs: null };
  const ranMs = Math.min(late, Math.max(0, after.ranMs - before.ranMs));
  const waitedMs = Math.min(late - ranMs, Math.max(0, after.waitedMs - before.waitedMs));
  return { ranMs, waitedMs };
}

/**
 * The server stalls inside one handoff, in ms: how long a server's loop stood still between the trigger
 * and the brief on the agent's screen, and of that, how long its thread ran (a long task), waited for a
 * core, or was blocked in the kernel; and the GC pauses in the same stretch. Of the servers, the one
 * that stood still longest. Null when no timeline was recorded.
 */
export interface HandoffStalls {
  ms: number;
  ran_ms: number | null;
  waited_ms: number | null;
  blocked_ms: number | null;
  gc_ms: number;
}

export function stallsWithin(
  from: number,
  to: number,
  pauses: Pick<PausesReport, 'stalls' | 'gcTimeline'> | undefined,
): HandoffStalls | null {
  if (!pauses) return null;
  const overlap = (at: number, ms: number) => Math.max(0, Math.min(to, at + ms) - Math.max(from, at));
  const servers = new Set([...pauses.stalls, ...pauses.gcTimeline].map((entry) => entry.server));
  let worst: HandoffStalls = { ms: 0, ran_ms: 0, waited_ms: 0, blocked_ms: 0, gc_ms: 0 };
  for (const server of servers) {
    let ms = 0;
    let ran: number | null = 0;
    let waited: number | null = 0;
    for (const stall of pauses.stalls) {
      const inside = stall.server === server ? overlap(stall.at, stall.ms) : 0;
      if (inside === 0) continue;
      ms += inside;
      const share = inside / stall.ms;
      ran = ran === null || stall.ranMs === null ? null : ran + stall.ranMs * share;
      waited = waited === null || stall.waitedMs === null ? null : waited + stall.waitedMs * share;
    }
    const gc = pauses.gcTimeline
      .filter((pause) => pause.server === server)
      .reduce((sum, pause) => sum + overlap(pause.at, pause.ms), 0);
    if (ms > worst.ms || (ms === worst.ms && gc > worst.gc_ms)) {
      worst = {
        ms: round(ms, 1),
        ran_ms: ran === null ? null : round(ran, 1),
        waited_ms: waited === null ? null : round(waited, 1),
        blocked_ms: ran === null || waited === null ? null : round(Math.max(0, ms - ran - waited), 1),
        gc_ms: round(gc, 1),
      };
    }
  }
  return worst;
}
