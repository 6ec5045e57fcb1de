import { type AggregateMetrics, aggregateMetrics, type HandoffMetrics, handoffMetrics } from '@baton/core';
import type { ConversationService } from '../app/conversation-service.ts';
import type { Store } from '../store/store.ts';
import type { ChartBucket, DeskStore } from './desk-store.ts';

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

/**
 * Buckets of the charts that can no longer change, by width and start: every offer made in them has
 * been decided (an offer lives `offerTtlMs`) and every wait that began in them has its row. The charts
 * add up only the buckets still moving, and the settled ones missing here, so the "Last 24 hours" of a
 * busy desk costs its latest minutes, not the whole day, after the first time.
 */
export class SettledBuckets {
  readonly settleMs: number;
  readonly #kept = new Map<string, ChartBucket>();
  readonly #limit: number;

  constructor(options: { settleMs: number; limit?: number }) {
    this.settleMs = options.settleMs;
    this.#limit = options.limit ?? 50_000;
  }

  get(bucketMs: number, startMs: number): ChartBucket | undefined {
    return this.#kept.get(`${bucketMs}@${startMs}`);
  }

  set(bucketMs: number, startMs: number, bucket: ChartBucket): void {
    const key = `${bucketMs}@${startMs}`;
    this.#kept.delete(key);
    if (this.#kept.size >= this.#limit) {
      const oldest = this.#kept.keys().next();
      if (!oldest.done) this.#kept.delete(oldest.value);
    }
    this.#kept.set(key, bucket);
  }
}

/** The buckets of the window, the settled ones from `settled` where kept, the rest added up in one read. */
async function addedUp(
  desk: DeskStore,
  settled: SettledBuckets | undefined,
  window: { start: number; bucketMs: number; count: number; now: number },
): Promise<ChartBucket[]> {
  const { start, bucketMs, count } = window;
  const settledCount = settled
    ? Math.min(count, Math.max(0, Math.floor((window.now - settled.settleMs - start) / bucketMs)))
    : 0;
  const result: (ChartBucket | undefined)[] = [];
  let from = settledCount;
  for (let index = 0; index < settledCount; index++) {
    result[index] = settled?.get(bucketMs, start + index * bucketMs);
    if (!result[index] && from === settledCount) from = index;
  }
  const read = await desk.chartBuckets({ startMs: start + from * bucketMs, bucketMs, count: count - from });
  for (let index = from; index < count; index++) {
    const bucket = read.get(index - from) ?? {
      waits: 0,
      offers: 0,
      accepted: 0,
      declined: 0,
      expired: 0,
      acceptSeconds: [],
    };
    if (index < settledCount) settled?.set(bucketMs, start + index * bucketMs, bucket);
    result[index] = bucket;
  }
  return result as ChartBucket[];
}

/**
 * The desk's side of the supervisor charts, over fixed time buckets: how many customers asked for a
 * person, how offers went, and how long a customer waited until someone accepted.
 */
export async function deskMetrics(input: {
  desk: DeskStore;
  /** Without it, the charts have no record-based figures (`handoff`, repeat asks, first replies). */
  replay?: MetricsReplay;
  /** Buckets kept once they can no longer change; without it every bucket is added up each time. */
  settled?: SettledBuckets;
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
  const [added, recent] = await Promise.all([
    addedUp(input.desk, input.settled, { start, bucketMs, count, now: until.getTime() }),
    input.desk.latestWaits(since, MAX_REPLAYED + 1),
  ]);

  const buckets = added.map((added, index) => ({
    start: new Date(start + index * bucketMs).toISOString(),
    handoffs: added.waits,
    offers: added.offers,
    accepted: added.accepted,
    declined: added.declined,
    expired: added.expired,
    acceptSeconds: added.acceptSeconds,
    repeatAsks: 0,
    repeatActions: 0,
    restartPhrases: 0,
    customerRestatements: 0,
    agentMessages: 0,
    cleanAgentMessages: 0,
    firstReplies: [] as number[],
  }));
  const bucketOf = (at: string) => buckets[Math.floor((Date.parse(at) - start) / bucketMs)];

  // Each conversation counts once, in the bucket where its latest wait began.
  const replayed: HandoffMetrics[] = [];
  if (input.replay) {
    for (const { conversationId, waitingSince } of recent.slice(0, MAX_REPLAYED)) {
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

  const sum = (key: 'handoffs' | 'offers' | 'accepted' | 'declined' | 'expired') =>
    buckets.reduce((total, bucket) => total + bucket[key], 0);
  const allWaits = buckets.flatMap((bucket) => bucket.acceptSeconds);
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
    buckets: buckets.map(({ acceptSeconds, firstReplies, ...bucket }) => {
      const bucketMedian = percentile(acceptSeconds, 0.5);
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

/**
 * How long one computation of the charts answers every supervisor who asks for the same range: 2 s, or
 * longer for wide buckets (a 360th of one: 10 s for hourly buckets), whose bars barely move in that time.
 */
export const METRICS_SHARED_MS = 2000;
const sharedFor = (bucketMinutes: number) => Math.max(METRICS_SHARED_MS, (bucketMinutes * 60_000) / 360);
/** Ranges kept at once (the console offers four; anything else is an API caller's own). */
const RANGES_KEPT = 32;

/**
 * The charts, computed at most once per range every `METRICS_SHARED_MS` (or more) and shared: each supervisor's
 * console reloads them on desk notices and on a timer, so ten consoles open on a busy desk would each
 * have paid for the same reads and replays several times a second. A request during a computation
 * waits for it; one that failed is not kept.
 */
export class SharedDeskMetrics {
  readonly #deps: { desk: DeskStore; replay?: MetricsReplay; now?: () => number };
  readonly #ranges = new Map<string, { at: number; sharedMs: number; metrics: Promise<DeskMetrics> }>();
  readonly #settled: SettledBuckets;

  /** `offerTtlMs`: how long an offer can stay open; a bucket settles a minute after its last could close. */
  constructor(deps: { desk: DeskStore; replay?: MetricsReplay; now?: () => number; offerTtlMs?: number }) {
    this.#deps = deps;
    this.#settled = new SettledBuckets({ settleMs: Math.max(5 * 60_000, (deps.offerTtlMs ?? 30_000) + 60_000) });
  }

  get(range: { hours: number; bucketMinutes: number }): Promise<DeskMetrics> {
    const now = this.#deps.now?.() ?? Date.now();
    const key = `${range.hours}/${range.bucketMinutes}`;
    const kept = this.#ranges.get(key);
    if (kept && now - kept.at < kept.sharedMs) return kept.metrics;
    for (const [other, entry] of this.#ranges) {
      if (now - entry.at >= entry.sharedMs || this.#ranges.size >= RANGES_KEPT) this.#ranges.delete(other);
    }
    const metrics = deskMetrics({
      desk: this.#deps.desk,
      ...(this.#deps.replay ? { replay: this.#deps.replay } : {}),
      settled: this.#settled,
      ...range,
      now: new Date(now),
    });
    const entry = { at: now, sharedMs: sharedFor(range.bucketMinutes), metrics };
    this.#ranges.set(key, entry);
    metrics.catch(() => {
      if (this.#ranges.get(key) === entry) this.#ranges.delete(key);
    });
    return metrics;
  }
}
