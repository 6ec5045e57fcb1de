import type { BatonResult } from './bench-protocol.ts';
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
  const triggers = new Map<string, number>();
  for (const trigger of results.flatMap((result) => result.triggers)) {
    if (!triggers.has(trigger.conversationId)) triggers.set(trigger.conversationId, trigger.at);
  }
  const offers = new Map<string, { at: number; briefAt: number | undefined }>();
  for (const offer of results.flatMap((result) => result.offers)) {
    const known = offers.get(offer.conversationId);
    if (!known || offer.at < known.at) offers.set(offer.conversationId, { at: offer.at, briefAt: offer.briefAt });
  }
  const waited = new Set(results.flatMap((result) => result.waitedForAgent));
  const samples: HandoffSample[] = [];
  let lost = 0;
  for (const [conversationId, triggerAt] of triggers) {
    const offer = offers.get(conversationId);
    if (!offer) {
      lost += 1;
      continue;
    }
    samples.push({
      conversationId,
      triggerAt,
      offerAt: offer.at,
      briefAt: offer.briefAt,
      waited: waited.has(conversationId),
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
}

export function handoffAnatomy(
  sample: HandoffSample,
  briefRoute: boolean,
  events: readonly LoggedEvent[],
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
  };
}
