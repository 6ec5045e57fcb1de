import { type AggregateMetrics, aggregateMetrics, type HandoffMetrics, handoffMetrics } from '@baton/core';
import type { ConversationService } from '../app/conversation-service.ts';
import type { Store } from '../store/store.ts';
import type { DeskOffer, DeskStore } from './desk-store.ts';

export interface MetricsBucket {
  start: string;
  handoffs: number;
  offers: number;
  accepted: number;
  declined: number;
  expired: number;
  medianSecondsToAccept?: number;
  /** From the record itself (core `handoffMetrics`), for the conversations whose wait began in this bucket. */
  repeatAsks: number;
  repeatActions: number;
  restartPhrases: number;
  customerRestatements: number;
  agentMessages: number;
  cleanAgentMessages: number;
  medianSecondsToFirstAgentMessage?: number;
}

/** The record is replayed for at most this many recent conversations per request: the guard is not free. */
const MAX_REPLAYED = 300;

export interface DeskMetrics {
  since: string;
  until: string;
  bucketMinutes: number;
  totals: Pick<MetricsBucket, 'handoffs' | 'offers' | 'accepted' | 'declined' | 'expired' | 'medianSecondsToAccept'> & {
    p90SecondsToAccept?: number;
    acceptRate?: number;
  };
  buckets: MetricsBucket[];
  /** Core handoff metrics over the same conversations (`aggregateMetrics`). */
  handoff?: AggregateMetrics & { replayed: number; truncated: boolean };
}

/** A conversation's handoff metrics, replayed from its log (undefined when it has none). */
export type MetricsReplay = (conversationId: string) => Promise<HandoffMetrics | undefined>;

/** Conversations whose replayed metrics are kept (a few times `MAX_REPLAYED`: every range a supervisor picks). */
const REPLAYS_KEPT = 2000;

/**
 * Replays each conversation's log once per length of its log: a supervisor's console asks for the charts
 * every few seconds, and re-reading 300 logs each time cost ~80 ms of the server's time per request
 * (measured on a bench database). One indexed read of the conversation's row says whether its log grew.
 */
export function replayOncePerLog(deps: {
  store: Pick<Store, 'getConversation'>;
  service: Pick<ConversationService, 'readEvents'>;
}): MetricsReplay {
  const kept = new Map<string, { lastSeq: number; metrics: HandoffMetrics | undefined }>();
  return async (conversationId) => {
    const record = await deps.store.getConversation(conversationId);
    if (!record) return undefined;
    const hit = kept.get(conversationId);
    if (hit && hit.lastSeq === record.lastSeq) {
      // Most recently used last, so the oldest goes first.
      kept.delete(conversationId);
      kept.set(conversationId, hit);
      return hit.metrics;
    }
    const log = await deps.service.readEvents(conversationId, 0, 5000).catch(() => []);
    const metrics = log.length > 0 ? handoffMetrics(log) : undefined;
    if (kept.size >= REPLAYS_KEPT && !kept.has(conversationId)) {
      const oldest = kept.keys().next();
      if (!oldest.done) kept.delete(oldest.value);
    }
    // Keyed by the seq read before the log: a log that grew in between is replayed again next time.
    kept.delete(conversationId);
    kept.set(conversationId, { lastSeq: record.lastSeq, metrics });
    return metrics;
  };
}

function percentile(values: readonly number[], fraction: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return Math.round(sorted[index]! * 10) / 10;
}

function secondsToAccept(offer: DeskOffer): number | undefined {
  if (offer.state !== 'accepted' || !offer.decidedAt) return undefined;
  return Math.max(0, (Date.parse(offer.decidedAt) - Date.parse(offer.waitingSince)) / 1000);
}

/**
 * The desk's side of the supervisor charts, over fixed time buckets: how many customers asked for a
 * person, how offers went, and how long a customer waited until someone accepted.
 */
export async function deskMetrics(input: {
  desk: DeskStore;
  /** Without it, the charts have no record-based figures (`handoff`, repeat asks, first replies). */
  replay?: MetricsReplay;
  hours: number;
  bucketMinutes: number;
  now?: Date;
}): Promise<DeskMetrics> {
  const until = input.now ?? new Date();
  const bucketMs = input.bucketMinutes * 60_000;
  const end = Math.ceil(until.getTime() / bucketMs) * bucketMs;
  const count = Math.max(1, Math.ceil((input.hours * 3600_000) / bucketMs));
  const start = end - count * bucketMs;
  const since = new Date(start).toISOString();
  const offers = await input.desk.offersSince(since);
  const handoffs = await input.desk.handoffsSince(since);

  const episodes = new Map<string, string>();
  for (const offer of offers) episodes.set(`${offer.conversationId}#${offer.episode}`, offer.waitingSince);
  for (const handoff of handoffs) episodes.set(`${handoff.conversationId}#${handoff.episode}`, handoff.waitingSince);

  const buckets = Array.from({ length: count }, (_, index) => ({
    start: new Date(start + index * bucketMs).toISOString(),
    handoffs: 0,
    offers: 0,
    accepted: 0,
    declined: 0,
    expired: 0,
    repeatAsks: 0,
    repeatActions: 0,
    restartPhrases: 0,
    customerRestatements: 0,
    agentMessages: 0,
    cleanAgentMessages: 0,
    waits: [] as number[],
    firstReplies: [] as number[],
  }));
  const bucketOf = (at: string) => buckets[Math.floor((Date.parse(at) - start) / bucketMs)];
  for (const waitingSince of episodes.values()) {
    const bucket = bucketOf(waitingSince);
    if (bucket) bucket.handoffs += 1;
  }
  for (const offer of offers) {
    const bucket = bucketOf(offer.createdAt);
    if (!bucket) continue;
    bucket.offers += 1;
    if (offer.state === 'accepted') bucket.accepted += 1;
    if (offer.state === 'declined') bucket.declined += 1;
    if (offer.state === 'expired' || offer.state === 'cancelled') bucket.expired += 1;
    const wait = secondsToAccept(offer);
    if (wait !== undefined) bucket.waits.push(wait);
  }

  // Each conversation counts once, in the bucket where its latest wait began.
  const started = new Map<string, string>();
  for (const [key, waitingSince] of episodes) {
    const conversationId = key.slice(0, key.lastIndexOf('#'));
    const previous = started.get(conversationId);
    if (!previous || previous < waitingSince) started.set(conversationId, waitingSince);
  }
  const recent = [...started].sort((a, b) => (a[1] < b[1] ? 1 : -1));
  const replayed: HandoffMetrics[] = [];
  if (input.replay) {
    for (const [conversationId, waitingSince] of recent.slice(0, MAX_REPLAYED)) {
      const metrics = await input.replay(conversationId);
      if (!metrics) continue;
      replayed.push(metrics);
      const bucket = bucketOf(waitingSince);
      if (!bucket) continue;
      bucket.repeatAsks += metrics.repeatAsks;
      bucket.repeatActions += metrics.repeatActions;
      bucket.restartPhrases += metrics.restartPhrases;
      bucket.customerRestatements += metrics.customerRestatements;
      bucket.agentMessages += metrics.agentMessages;
      bucket.cleanAgentMessages += metrics.cleanAgentMessages;
      if (metrics.timeToFirstAgentMessageMs !== null)
        bucket.firstReplies.push(metrics.timeToFirstAgentMessageMs / 1000);
    }
  }

  const allWaits = buckets.flatMap((bucket) => bucket.waits);
  const sum = (key: 'handoffs' | 'offers' | 'accepted' | 'declined' | 'expired') =>
    buckets.reduce((total, bucket) => total + bucket[key], 0);
  const median = percentile(allWaits, 0.5);
  const p90 = percentile(allWaits, 0.9);
  const totalOffers = sum('offers');
  return {
    since,
    until: new Date(end).toISOString(),
    bucketMinutes: input.bucketMinutes,
    totals: {
      handoffs: sum('handoffs'),
      offers: totalOffers,
      accepted: sum('accepted'),
      declined: sum('declined'),
      expired: sum('expired'),
      ...(median !== undefined ? { medianSecondsToAccept: median } : {}),
      ...(p90 !== undefined ? { p90SecondsToAccept: p90 } : {}),
      ...(totalOffers > 0 ? { acceptRate: Math.round((sum('accepted') / totalOffers) * 1000) / 1000 } : {}),
    },
    buckets: buckets.map(({ waits, firstReplies, ...bucket }) => {
      const bucketMedian = percentile(waits, 0.5);
      const firstReply = percentile(firstReplies, 0.5);
      return {
        ...bucket,
        ...(bucketMedian !== undefined ? { medianSecondsToAccept: bucketMedian } : {}),
        ...(firstReply !== undefined ? { medianSecondsToFirstAgentMessage: firstReply } : {}),
      };
    }),
    ...(input.replay
      ? {
          handoff: {
            ...aggregateMetrics(replayed),
            replayed: replayed.length,
            truncated: recent.length > MAX_REPLAYED,
          },
        }
      : {}),
  };
}

/** How long one computation of the charts answers every supervisor who asks for the same range. */
export const METRICS_SHARED_MS = 2000;
/** Ranges kept at once (the console offers four; anything else is an API caller's own). */
const RANGES_KEPT = 32;

/**
 * The charts, computed at most once per range every `METRICS_SHARED_MS` and shared: each supervisor's
 * console reloads them on desk notices and on a timer, so ten consoles open on a busy desk would each
 * have paid for the same reads and replays several times a second. A request during a computation
 * waits for it; one that failed is not kept.
 */
export class SharedDeskMetrics {
  readonly #deps: { desk: DeskStore; replay?: MetricsReplay; now?: () => number };
  readonly #ranges = new Map<string, { at: number; metrics: Promise<DeskMetrics> }>();

  constructor(deps: { desk: DeskStore; replay?: MetricsReplay; now?: () => number }) {
    this.#deps = deps;
  }

  get(range: { hours: number; bucketMinutes: number }): Promise<DeskMetrics> {
    const now = this.#deps.now?.() ?? Date.now();
    const key = `${range.hours}/${range.bucketMinutes}`;
    const kept = this.#ranges.get(key);
    if (kept && now - kept.at < METRICS_SHARED_MS) return kept.metrics;
    for (const [other, entry] of this.#ranges) {
      if (now - entry.at >= METRICS_SHARED_MS || this.#ranges.size >= RANGES_KEPT) this.#ranges.delete(other);
    }
    const metrics = deskMetrics({
      desk: this.#deps.desk,
      ...(this.#deps.replay ? { replay: this.#deps.replay } : {}),
      ...range,
      now: new Date(now),
    });
    const entry = { at: now, metrics };
    this.#ranges.set(key, entry);
    metrics.catch(() => {
      if (this.#ranges.get(key) === entry) this.#ranges.delete(key);
    });
    return metrics;
  }
}
