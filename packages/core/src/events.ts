import { z } from 'zod';

/**
 * The conversation record. Every event kind is defined once here and used by the API, the store and
 * the UI. An event is immutable once appended; everything else is a view computed from the log.
 */

export const MAX_TEXT_LENGTH = 8000;

export const Author = z.enum(['customer', 'ai', 'agent', 'bot', 'system']);
export type Author = z.infer<typeof Author>;

export const ActionOutcome = z.enum(['succeeded', 'failed', 'blocked']);
export type ActionOutcome = z.infer<typeof ActionOutcome>;

export const Redaction = z.object({
  kind: z.string().min(1).max(40),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
});
export type Redaction = z.infer<typeof Redaction>;

export const SystemError = z.object({
  system: z.string().min(1).max(80).default('unknown'),
  code: z.string().min(1).max(120),
  message: z.string().max(2000).default(''),
});
export type SystemError = z.infer<typeof SystemError>;

const JsonRecord = z.record(z.string(), z.unknown());

export const MessageEvent = z.object({
  type: z.literal('message'),
  author: Author,
  text: z.string().trim().min(1, 'text must not be empty').max(MAX_TEXT_LENGTH),
  /** Who wrote it: an agent id, a bot id; absent for the customer and the AI. */
  authorId: z.string().max(120).optional(),
  authorName: z.string().max(120).optional(),
  redactions: z.array(Redaction).max(200).optional(),
});
export type MessageEvent = z.infer<typeof MessageEvent>;

export const ActionEvent = z.object({
  type: z.literal('action'),
  name: z.string().min(1).max(80),
  /** Who performed it. */
  actor: z.enum(['ai', 'bot', 'agent', 'system']).default('ai'),
  actorId: z.string().max(120).optional(),
  input: JsonRecord.optional(),
  outcome: ActionOutcome,
  result: JsonRecord.optional(),
  error: SystemError.optional(),
});
export type ActionEvent = z.infer<typeof ActionEvent>;

export const FactVia = z.enum(['extracted', 'bot', 'system', 'agent']);
export const FactEvent = z.object({
  type: z.literal('fact'),
  name: z.string().min(1).max(60),
  value: z.string().min(1).max(500),
  /** Sequence number (or transcript index) of the event the fact came from. */
  source: z.number().int().nonnegative().optional(),
  via: FactVia.default('system'),
});
export type FactEvent = z.infer<typeof FactEvent>;

export const IdentityEvent = z.object({
  type: z.literal('identity'),
  method: z.string().min(1).max(60),
  result: z.enum(['verified', 'failed', 'pending']),
  subject: z.string().max(200).optional(),
});
export type IdentityEvent = z.infer<typeof IdentityEvent>;

export const HandoffTrigger = z.enum([
  'customer_request',
  'frustration',
  'repeated_failure',
  'not_understood',
  'policy',
  'bot_request',
  'agent_transfer',
  'error',
  'manual',
]);
export type HandoffTrigger = z.infer<typeof HandoffTrigger>;

export const Priority = z.enum(['low', 'normal', 'high', 'urgent']);
export type Priority = z.infer<typeof Priority>;

export const HandoffRequested = z.object({
  type: z.literal('handoff.requested'),
  trigger: HandoffTrigger.default('manual'),
  reason: z.string().max(500).optional(),
  priority: Priority.default('normal'),
  skills: z.array(z.string().min(1).max(40)).max(20).default([]),
  queue: z.string().max(60).optional(),
  language: z.string().max(20).optional(),
});
export type HandoffRequested = z.infer<typeof HandoffRequested>;

export const HandoffQueued = z.object({
  type: z.literal('handoff.queued'),
  queue: z.string().min(1).max(60),
  position: z.number().int().positive().optional(),
  estimatedWaitSeconds: z.number().nonnegative().optional(),
});
export const HandoffOffered = z.object({
  type: z.literal('handoff.offered'),
  agentId: z.string().min(1).max(120),
  agentName: z.string().max(120).optional(),
  expiresAt: z.string().datetime().optional(),
});
export const HandoffAccepted = z.object({
  type: z.literal('handoff.accepted'),
  agentId: z.string().min(1).max(120),
  agentName: z.string().max(120).optional(),
});
export const HandoffDeclined = z.object({
  type: z.literal('handoff.declined'),
  agentId: z.string().min(1).max(120),
  reason: z.string().max(500).optional(),
});
export const HandoffExpired = z.object({
  type: z.literal('handoff.expired'),
  agentId: z.string().min(1).max(120),
});
export const HandoffTransferred = z.object({
  type: z.literal('handoff.transferred'),
  fromAgentId: z.string().max(120).optional(),
  queue: z.string().max(60).optional(),
  toAgentId: z.string().max(120).optional(),
  skills: z.array(z.string().min(1).max(40)).max(20).default([]),
  note: z.string().max(4000).optional(),
});
export const HandoffReturned = z.object({
  type: z.literal('handoff.returned'),
  fromAgentId: z.string().max(120).optional(),
  note: z.string().max(4000).optional(),
});
export const HandoffResolved = z.object({
  type: z.literal('handoff.resolved'),
  byAgentId: z.string().max(120).optional(),
  summary: z.string().max(4000).optional(),
});
export const HandoffCallback = z.object({
  type: z.literal('handoff.callback'),
  reason: z.string().max(500).optional(),
  phone: z.string().max(40).optional(),
});

export const NoteEvent = z.object({
  type: z.literal('note'),
  authorId: z.string().max(120).optional(),
  authorName: z.string().max(120).optional(),
  text: z.string().trim().min(1).max(MAX_TEXT_LENGTH),
});
export const FeedbackEvent = z.object({
  type: z.literal('feedback'),
  rating: z.number().int().min(1).max(5),
  comment: z.string().max(2000).optional(),
});

/** The body of an event, before the store gives it a place in the log. */
export const EventBody = z.discriminatedUnion('type', [
  MessageEvent,
  ActionEvent,
  FactEvent,
  IdentityEvent,
  HandoffRequested,
  HandoffQueued,
  HandoffOffered,
  HandoffAccepted,
  HandoffDeclined,
  HandoffExpired,
  HandoffTransferred,
  HandoffReturned,
  HandoffResolved,
  HandoffCallback,
  NoteEvent,
  FeedbackEvent,
]);
export type EventBody = z.infer<typeof EventBody>;
export type EventBodyInput = z.input<typeof EventBody>;
export type EventType = EventBody['type'];
export type EventOf<T extends EventType> = Extract<EventBody, { type: T }>;

/** What the store adds to a body: its conversation, its place in the log (1, 2, 3… with no gaps) and its time. */
const STORED_FIELDS = {
  conversationId: z.string().min(1),
  seq: z.number().int().positive(),
  at: z.string(),
};

function stored<Shape extends z.ZodRawShape>(body: z.ZodObject<Shape>) {
  return z.object({ ...STORED_FIELDS, ...body.shape });
}

/**
 * An event as stored. One union of whole objects rather than the stored fields intersected with
 * `EventBody`: the same values and the same output, but zod merges the two halves of an intersection
 * key by key on every parse, which made each event 6 times dearer to validate or encode (every
 * response, bus message and WebSocket frame carries events).
 */
export const StoredEvent = z.discriminatedUnion('type', [
  stored(MessageEvent),
  stored(ActionEvent),
  stored(FactEvent),
  stored(IdentityEvent),
  stored(HandoffRequested),
  stored(HandoffQueued),
  stored(HandoffOffered),
  stored(HandoffAccepted),
  stored(HandoffDeclined),
  stored(HandoffExpired),
  stored(HandoffTransferred),
  stored(HandoffReturned),
  stored(HandoffResolved),
  stored(HandoffCallback),
  stored(NoteEvent),
  stored(FeedbackEvent),
]);
export type StoredEvent = EventBody & { conversationId: string; seq: number; at: string };

export const Industry = z.enum(['finance', 'ecommerce', 'healthcare', 'other']);
export type Industry = z.infer<typeof Industry>;

/**
 * Transcript format (JSON Lines, one conversation a line) used by import, `baton eval` and benchmarks.
 * Same event kinds without sequence numbers; `{"type":"handoff", ...}` is accepted as the short form
 * of `handoff.requested` and marks the moment of handoff.
 */
export const TranscriptEvent = z.preprocess((value) => {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'handoff') {
    return { ...(value as object), type: 'handoff.requested' };
  }
  return value;
}, EventBody);

export const Transcript = z.object({
  id: z.string().min(1).max(200),
  industry: z.string().max(40).optional(),
  events: z.array(TranscriptEvent).max(20000),
});
export type Transcript = z.infer<typeof Transcript>;

export function isHandoffEvent(event: EventBody): boolean {
  return event.type.startsWith('handoff.');
}
