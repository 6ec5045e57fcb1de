import { z } from 'zod';
import type { Priority } from './events.ts';

/**
 * Who gets a waiting customer, and how long the others wait. Pure: the server feeds it rows from the
 * database and decides atomically there; the console and the supervisor view reuse the same ordering.
 */

export const Presence = z.enum(['online', 'away', 'offline']);
export type Presence = z.infer<typeof Presence>;

export const Weekday = z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
export type Weekday = z.infer<typeof Weekday>;

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'time must be HH:MM');

export const OpeningWindow = z.object({
  days: z.array(Weekday).min(1),
  open: ClockTime,
  /** Exclusive; `24:00` for the end of the day. A window that closes before it opens runs past midnight. */
  close: ClockTime,
});
export type OpeningWindow = z.infer<typeof OpeningWindow>;

/** Absent hours mean always open. */
export const OpeningHours = z.object({
  /** IANA time zone the windows are written in. */
  timezone: z.string().min(1).default('UTC'),
  windows: z.array(OpeningWindow).max(50),
});
export type OpeningHours = z.infer<typeof OpeningHours>;

export const QueueConfig = z.object({
  id: z
    .string()
    .min(1)
    .max(60)
    .regex(/^[a-z0-9_-]+$/, 'queue id: lowercase letters, digits, - and _'),
  name: z.string().min(1).max(120).optional(),
  /** Every agent offered a handoff from this queue has all of these. */
  skills: z.array(z.string().min(1).max(40)).max(20).default([]),
  languages: z.array(z.string().min(1).max(20)).max(20).default([]),
  hours: OpeningHours.optional(),
  /** Used for wait estimates until enough handoffs have been resolved to measure it. */
  averageHandleSeconds: z.number().positive().max(86_400).default(300),
  /** Overrides the desk-wide wait after which a customer nobody accepted becomes a callback; 0 never. */
  callbackAfterSeconds: z
    .number()
    .nonnegative()
    .max(7 * 86_400)
    .optional(),
});
export type QueueConfig = z.infer<typeof QueueConfig>;
export type QueueConfigInput = z.input<typeof QueueConfig>;

export interface RoutingAgent {
  id: string;
  name?: string;
  skills: readonly string[];
  languages: readonly string[];
  /** Concurrent conversations this agent can own. */
  capacity: number;
  presence: Presence;
  /** Conversations owned plus offers open right now. */
  load: number;
  /** ISO time of the last offer made to this agent, across all handoffs. */
  lastOfferedAt?: string;
}

export interface WaitingHandoff {
  conversationId: string;
  queue: string;
  priority: Priority;
  skills: readonly string[];
  language?: string;
  /** ISO time the customer started waiting (the request or the transfer). */
  waitingSince: string;
  /** Agents who declined this handoff or let its offer expire: never offered it again. */
  excludedAgentIds?: readonly string[];
  /** A transfer to a named agent: offered to that agent only. */
  targetAgentId?: string;
}

export const PRIORITY_RANK: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

/** Queue order: urgent before high before normal before low, then whoever has waited longest. */
export function compareHandoffs(a: WaitingHandoff, b: WaitingHandoff): number {
  const byPriority = PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority];
  if (byPriority !== 0) return byPriority;
  const byTime = Date.parse(a.waitingSince) - Date.parse(b.waitingSince);
  if (byTime !== 0) return byTime;
  return a.conversationId < b.conversationId ? -1 : a.conversationId > b.conversationId ? 1 : 0;
}

export function orderQueue<T extends WaitingHandoff>(handoffs: readonly T[]): T[] {
  return [...handoffs].sort(compareHandoffs);
}

/** 1-based place in its own queue, or undefined when the conversation is not waiting there. */
export function queuePosition(handoffs: readonly WaitingHandoff[], conversationId: string): number | undefined {
  const self = handoffs.find((handoff) => handoff.conversationId === conversationId);
  if (!self) return undefined;
  const ordered = orderQueue(handoffs.filter((handoff) => handoff.queue === self.queue));
  return ordered.findIndex((handoff) => handoff.conversationId === conversationId) + 1;
}

function languageTag(language: string): string {
  return language.toLowerCase().split(/[-_]/)[0] ?? '';
}

export function speaksLanguage(agent: Pick<RoutingAgent, 'languages'>, language: string | undefined): boolean {
  if (!language) return true;
  const wanted = languageTag(language);
  return agent.languages.some((spoken) => languageTag(spoken) === wanted);
}

function freeSlots(agent: RoutingAgent): number {
  return Math.max(0, agent.capacity - agent.load);
}

/** Can this agent take this handoff at all, ignoring how busy they are. */
export function isEligible(agent: RoutingAgent, handoff: WaitingHandoff, queue?: QueueConfig): boolean {
  if (handoff.excludedAgentIds?.includes(agent.id)) return false;
  if (handoff.targetAgentId) return agent.id === handoff.targetAgentId;
  const required = queue?.skills ?? [];
  if (!required.every((skill) => agent.skills.includes(skill))) return false;
  if (queue && queue.languages.length > 0 && !queue.languages.some((language) => speaksLanguage(agent, language))) {
    return false;
  }
  return true;
}

/**
 * The best agent to offer this handoff to now, or undefined. Only online agents with a free slot are
 * considered. Among them: more of the requested skills first, then one who speaks the customer's
 * language, then more free capacity, then whoever was offered something least recently, then the least
 * loaded; ties broken by id so every process picks the same agent.
 */
export function chooseAgent(
  handoff: WaitingHandoff,
  agents: readonly RoutingAgent[],
  _now: Date = new Date(),
  queue?: QueueConfig,
): RoutingAgent | undefined {
  const candidates = agents.filter(
    (agent) => agent.presence === 'online' && freeSlots(agent) > 0 && isEligible(agent, handoff, queue),
  );
  const skillScore = (agent: RoutingAgent) => handoff.skills.filter((skill) => agent.skills.includes(skill)).length;
  const lastOffered = (agent: RoutingAgent) => (agent.lastOfferedAt ? Date.parse(agent.lastOfferedAt) : 0);
  candidates.sort(
    (a, b) =>
      skillScore(b) - skillScore(a) ||
      Number(speaksLanguage(b, handoff.language)) - Number(speaksLanguage(a, handoff.language)) ||
      freeSlots(b) - freeSlots(a) ||
      lastOffered(a) - lastOffered(b) ||
      a.load - b.load ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return candidates[0];
}

export interface Assignment {
  conversationId: string;
  agentId: string;
}

/**
 * Matches waiting handoffs (those without an open offer) to agents in queue order, one offer per
 * handoff, counting each new offer against the agent's capacity so one pass never overbooks anyone.
 */
export function planOffers(
  waiting: readonly WaitingHandoff[],
  agents: readonly RoutingAgent[],
  queues: readonly QueueConfig[],
  now: Date = new Date(),
): Assignment[] {
  const pool = agents.map((agent) => ({ ...agent }));
  const byId = new Map(queues.map((queue) => [queue.id, queue]));
  const assignments: Assignment[] = [];
  for (const handoff of orderQueue(waiting)) {
    const queue = byId.get(handoff.queue);
    if (queue && !isOpen(queue.hours, now)) continue;
    const agent = chooseAgent(handoff, pool, now, queue);
    if (!agent) continue;
    agent.load += 1;
    agent.lastOfferedAt = now.toISOString();
    assignments.push({ conversationId: handoff.conversationId, agentId: agent.id });
  }
  return assignments;
}

/**
 * Which queue a new handoff goes to: the one named, else the queue whose skills cover the most of the
 * requested skills (and nothing the request lacks), else the first queue.
 */
export function resolveQueue(
  request: { queue?: string; skills: readonly string[] },
  queues: readonly QueueConfig[],
): QueueConfig | undefined {
  if (request.queue) {
    const named = queues.find((queue) => queue.id === request.queue);
    if (named) return named;
  }
  let best: QueueConfig | undefined;
  let bestScore = 0;
  for (const queue of queues) {
    if (queue.skills.length === 0 || !queue.skills.every((skill) => request.skills.includes(skill))) continue;
    if (queue.skills.length > bestScore) {
      best = queue;
      bestScore = queue.skills.length;
    }
  }
  return best ?? queues.find((queue) => queue.skills.length === 0) ?? queues[0];
}

export interface WaitEstimateInput {
  /** 1-based place in the queue. */
  position: number;
  /** Online agents who could take this queue. */
  eligibleAgents: readonly RoutingAgent[];
  averageHandleSeconds: number;
}

/**
 * Seconds until an agent is likely free for this customer: customers ahead use free slots first, then
 * each round of slots frees up about every average handle time. Undefined when nobody who could
 * answer is online, since any number would be a guess.
 */
export function estimateWaitSeconds(input: WaitEstimateInput): number | undefined {
  const online = input.eligibleAgents.filter((agent) => agent.presence === 'online');
  const slots = online.reduce((sum, agent) => sum + Math.max(0, agent.capacity), 0);
  if (slots === 0) return undefined;
  const free = online.reduce((sum, agent) => sum + freeSlots(agent), 0);
  const ahead = input.position - 1;
  if (ahead < free) return 0;
  const rounds = Math.floor((ahead - free) / slots) + 1;
  return Math.round(rounds * input.averageHandleSeconds);
}

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function minutes(clock: string): number {
  const [hours, mins] = clock.split(':').map(Number);
  return (hours ?? 0) * 60 + (mins ?? 0);
}

function localTime(now: Date, timezone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const part = (type: string) => parts.find((entry) => entry.type === type)?.value ?? '';
  const day = Weekday.catch('sun').parse(part('weekday').toLowerCase().slice(0, 3));
  return { day, minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

/** Whether a queue with these hours takes customers at `now`. No hours: always open. */
export function isOpen(hours: OpeningHours | undefined, now: Date = new Date()): boolean {
  if (!hours) return true;
  const { day, minute } = localTime(now, hours.timezone);
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] ?? day;
  return hours.windows.some((window) => {
    const open = minutes(window.open);
    const close = minutes(window.close);
    if (open < close) return window.days.includes(day) && minute >= open && minute < close;
    // Overnight window: the evening part belongs to the day it opens, the morning part to the next day.
    return (window.days.includes(day) && minute >= open) || (window.days.includes(yesterday) && minute < close);
  });
}

/** The queues every deployment starts with; replaced wholesale by configuration. */
export const DEFAULT_QUEUES: readonly QueueConfigInput[] = [
  { id: 'general', name: 'General' },
  { id: 'billing', name: 'Billing', skills: ['billing'] },
  { id: 'technical', name: 'Technical support', skills: ['technical'] },
  { id: 'nurse', name: 'Nurse line', skills: ['clinical'] },
];
