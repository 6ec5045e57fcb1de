import { type AggregateMetrics, aggregateMetrics, type HandoffMetrics, handoffMetrics } from '@baton/core';
import type { ConversationService } from '../app/conversation-service.ts';
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
  service?: ConversationService;
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
  if (input.service) {
    for (const [conversationId, waitingSince] of recent.slice(0, MAX_REPLAYED)) {
      const log = await input.service.readEvents(conversationId, 0, 5000).catch(() => []);
      if (log.length === 0) continue;
      const metrics = handoffMetrics(log);
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
    ...(input.service
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
