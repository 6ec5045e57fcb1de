import { z } from 'zod';
import type { EventBody, StoredEvent } from './events.ts';
import { HandoffTrigger } from './events.ts';
import { digitsOf, normaliseFactValue } from './fact-values.ts';
import { extractFacts, extractFromMessage, factsOnFile } from './facts.ts';
import { ContinuityGuard, type Finding } from './guard.ts';

/**
 * Handoff metrics computed from the record: how fast a human picked the conversation up and whether the
 * customer had to repeat themselves. Works on stored events (with `at` timestamps) and on transcripts
 * (without: the times are then null).
 */

export const HandoffMetrics = z.object({
  handedOff: z.boolean(),
  /** 0-based index of the first handoff request, null when there is none. */
  handoffIndex: z.number().int().nonnegative().nullable(),
  trigger: HandoffTrigger.nullable(),
  timeToAcceptMs: z.number().nonnegative().nullable(),
  timeToFirstAgentMessageMs: z.number().nonnegative().nullable(),
  agentMessages: z.number().int().nonnegative(),
  /** Agent messages after the handoff on which the guard found nothing. */
  cleanAgentMessages: z.number().int().nonnegative(),
  repeatAsks: z.number().int().nonnegative(),
  repeatActions: z.number().int().nonnegative(),
  restartPhrases: z.number().int().nonnegative(),
  /** The customer gave again, after the handoff, a fact they had already given before it. */
  customerRestatements: z.number().int().nonnegative(),
});
export type HandoffMetrics = z.infer<typeof HandoffMetrics>;

export interface MessageFindings {
  /** 0-based index of the agent message. */
  index: number;
  findings: Finding[];
}

export interface GuardReplay {
  handoffIndex: number | null;
  messages: MessageFindings[];
}

/**
 * The guard's findings for every agent message after the first handoff, each judged on everything before
 * it. One pass over the events: the guard state is updated as the replay goes.
 */
export function replayGuard(events: readonly EventBody[]): GuardReplay {
  const handoffIndex = events.findIndex((event) => event.type === 'handoff.requested');
  if (handoffIndex < 0) return { handoffIndex: null, messages: [] };
  const guard = new ContinuityGuard({ handedOff: true });
  const messages: MessageFindings[] = [];
  events.forEach((event, index) => {
    if (index > handoffIndex && event.type === 'message' && event.author === 'agent') {
      messages.push({ index, findings: guard.check(event.text) });
    }
    guard.push(event);
  });
  return { handoffIndex, messages };
}

function timeOf(event: EventBody | StoredEvent | undefined): number | null {
  if (!event || !('at' in event) || typeof event.at !== 'string') return null;
  const time = Date.parse(event.at);
  return Number.isNaN(time) ? null : time;
}

function sameFact(name: string, a: string, b: string): boolean {
  if (name === 'phone') return digitsOf(a).slice(-10) === digitsOf(b).slice(-10);
  const plain = (value: string) =>
    normaliseFactValue(name, value)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]/gu, '');
  return plain(a) === plain(b);
}

function lastQuestionBefore(events: readonly EventBody[], index: number): string | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const event = events[i];
    if (event?.type === 'message') return event.author === 'customer' ? undefined : event.text;
  }
  return undefined;
}

export function handoffMetrics(events: readonly (EventBody | StoredEvent)[], replay?: GuardReplay): HandoffMetrics {
  const bodies = events as readonly EventBody[];
  const guard = replay ?? replayGuard(bodies);
  const handoffIndex = guard.handoffIndex;
  const metrics: HandoffMetrics = {
    handedOff: handoffIndex !== null,
    handoffIndex,
    trigger: null,
    timeToAcceptMs: null,
    timeToFirstAgentMessageMs: null,
    agentMessages: guard.messages.length,
    cleanAgentMessages: guard.messages.filter((message) => message.findings.length === 0).length,
    repeatAsks: 0,
    repeatActions: 0,
    restartPhrases: 0,
    customerRestatements: 0,
  };
  for (const message of guard.messages) {
    for (const finding of message.findings) {
      if (finding.kind === 'repeat_ask') metrics.repeatAsks++;
      else if (finding.kind === 'repeat_action') metrics.repeatActions++;
      else metrics.restartPhrases++;
    }
  }
  if (handoffIndex === null) return metrics;
  const handoff = bodies[handoffIndex];
  if (handoff?.type === 'handoff.requested') metrics.trigger = handoff.trigger;

  const requestedAt = timeOf(events[handoffIndex]);
  const accepted = bodies.findIndex((event, index) => index > handoffIndex && event.type === 'handoff.accepted');
  const firstAgent = bodies.findIndex(
    (event, index) => index > handoffIndex && event.type === 'message' && event.author === 'agent',
  );
  const acceptedAt = accepted >= 0 ? timeOf(events[accepted]) : null;
  const firstAgentAt = firstAgent >= 0 ? timeOf(events[firstAgent]) : null;
  if (requestedAt !== null && acceptedAt !== null) metrics.timeToAcceptMs = Math.max(0, acceptedAt - requestedAt);
  if (requestedAt !== null && firstAgentAt !== null) {
    metrics.timeToFirstAgentMessageMs = Math.max(0, firstAgentAt - requestedAt);
  }

  const before = bodies.slice(0, handoffIndex);
  const given = [...factsOnFile(before), ...extractFacts(before)];
  if (given.length > 0) {
    for (let i = handoffIndex + 1; i < bodies.length; i++) {
      const event = bodies[i];
      if (event?.type !== 'message' || event.author !== 'customer') continue;
      const question = lastQuestionBefore(bodies, i);
      const values = extractFromMessage(event.text, question === undefined ? {} : { previousQuestion: question });
      const restated = new Set<string>();
      for (const value of values) {
        if (restated.has(value.name)) continue;
        if (given.some((fact) => fact.name === value.name && sameFact(value.name, fact.value, value.value))) {
          restated.add(value.name);
        }
      }
      metrics.customerRestatements += restated.size;
    }
  }
  return metrics;
}

export const AggregateMetrics = z.object({
  conversations: z.number().int().nonnegative(),
  handedOff: z.number().int().nonnegative(),
  agentMessages: z.number().int().nonnegative(),
  cleanAgentMessages: z.number().int().nonnegative(),
  repeatAsks: z.number().int().nonnegative(),
  repeatActions: z.number().int().nonnegative(),
  restartPhrases: z.number().int().nonnegative(),
  customerRestatements: z.number().int().nonnegative(),
  /** Share of handed-off conversations with at least one finding or restatement. */
  conversationsWithRepeats: z.number().int().nonnegative(),
  timeToAcceptMs: z.object({ median: z.number().nullable(), p90: z.number().nullable(), mean: z.number().nullable() }),
  timeToFirstAgentMessageMs: z.object({
    median: z.number().nullable(),
    p90: z.number().nullable(),
    mean: z.number().nullable(),
  }),
});
export type AggregateMetrics = z.infer<typeof AggregateMetrics>;

function summarise(values: number[]): { median: number | null; p90: number | null; mean: number | null } {
  if (values.length === 0) return { median: null, p90: null, mean: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
  return { median: at(0.5), p90: at(0.9), mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length };
}

export function aggregateMetrics(all: readonly HandoffMetrics[]): AggregateMetrics {
  const sum = (pick: (metrics: HandoffMetrics) => number) => all.reduce((total, item) => total + pick(item), 0);
  return {
    conversations: all.length,
    handedOff: all.filter((item) => item.handedOff).length,
    agentMessages: sum((item) => item.agentMessages),
    cleanAgentMessages: sum((item) => item.cleanAgentMessages),
    repeatAsks: sum((item) => item.repeatAsks),
    repeatActions: sum((item) => item.repeatActions),
    restartPhrases: sum((item) => item.restartPhrases),
    customerRestatements: sum((item) => item.customerRestatements),
    conversationsWithRepeats: all.filter(
      (item) => item.repeatAsks + item.repeatActions + item.restartPhrases + item.customerRestatements > 0,
    ).length,
    timeToAcceptMs: summarise(all.flatMap((item) => (item.timeToAcceptMs === null ? [] : [item.timeToAcceptMs]))),
    timeToFirstAgentMessageMs: summarise(
      all.flatMap((item) => (item.timeToFirstAgentMessageMs === null ? [] : [item.timeToFirstAgentMessageMs])),
    ),
  };
}
