import type { EventBody, HandoffTrigger, Priority, StoredEvent } from './events.ts';

/**
 * Who speaks to the customer. Exactly one owner at a time; it changes only through handoff events.
 * `queue` means nobody: the conversation waits for a human.
 */
export type Owner =
  | { kind: 'ai' }
  | { kind: 'bot'; id: string }
  | { kind: 'agent'; id: string; name?: string }
  | { kind: 'queue'; queue?: string }
  | { kind: 'none' };

export type ConversationStatus = 'active' | 'queued' | 'offered' | 'assigned' | 'resolved' | 'callback';

export interface PendingHandoff {
  trigger: HandoffTrigger;
  reason?: string;
  priority: Priority;
  skills: string[];
  queue?: string;
  requestedSeq: number;
  requestedAt?: string;
  offeredTo?: string;
}

export interface ConversationState {
  /** The number of events reduced so far (the last seq, for a stored log). */
  lastSeq: number;
  owner: Owner;
  status: ConversationStatus;
  handoff?: PendingHandoff;
  /** Every agent who has owned the conversation, in order. */
  agents: string[];
  messageCount: number;
  customerMessageCount: number;
  lastCustomerMessageAt?: string;
  /** The seq of the customer's last message: whether they wrote after what an agent had seen. */
  lastCustomerMessageSeq?: number;
  /**
   * The last thing the AI, a bot or an agent said to the customer: it tells what a bare answer is
   * ("4321" after "What's your PIN?"), so secrets can be redacted before a message is stored.
   */
  lastPrompt?: string;
  startedAt?: string;
  updatedAt?: string;
}

export function initialState(owner: Owner = { kind: 'ai' }): ConversationState {
  return { lastSeq: 0, owner, status: 'active', agents: [], messageCount: 0, customerMessageCount: 0 };
}

/**
 * Applies one event. Pure: the same log always gives the same state. `seq` defaults to lastSeq + 1 so
 * transcripts without sequence numbers reduce the same way as stored logs.
 */
export function reduce(state: ConversationState, event: EventBody | StoredEvent): ConversationState {
  const seq = 'seq' in event && typeof event.seq === 'number' ? event.seq : state.lastSeq + 1;
  const at = 'at' in event && typeof event.at === 'string' ? event.at : undefined;
  const next: ConversationState = {
    ...state,
    lastSeq: seq,
    startedAt: state.startedAt ?? at,
    updatedAt: at ?? state.updatedAt,
  };
  switch (event.type) {
    case 'message':
      next.messageCount += 1;
      if (event.author === 'customer') {
        next.customerMessageCount += 1;
        next.lastCustomerMessageAt = at ?? next.lastCustomerMessageAt;
        next.lastCustomerMessageSeq = seq;
      } else if (event.author !== 'system') {
        next.lastPrompt = event.text;
      }
      return next;
    case 'handoff.requested':
      next.owner = { kind: 'queue', ...(event.queue ? { queue: event.queue } : {}) };
      next.status = 'queued';
      next.handoff = {
        trigger: event.trigger,
        priority: event.priority,
        skills: event.skills,
        requestedSeq: seq,
        ...(event.reason ? { reason: event.reason } : {}),
        ...(event.queue ? { queue: event.queue } : {}),
        ...(at ? { requestedAt: at } : {}),
      };
      return next;
    case 'handoff.queued':
      next.owner = { kind: 'queue', queue: event.queue };
      next.status = 'queued';
      if (next.handoff) next.handoff = { ...next.handoff, queue: event.queue, offeredTo: undefined };
      return next;
    case 'handoff.offered':
      next.status = 'offered';
      if (next.handoff) next.handoff = { ...next.handoff, offeredTo: event.agentId };
      return next;
    case 'handoff.declined':
    case 'handoff.expired':
      if (next.status === 'offered') next.status = 'queued';
      if (next.handoff) next.handoff = { ...next.handoff, offeredTo: undefined };
      return next;
    case 'handoff.accepted':
      next.owner = { kind: 'agent', id: event.agentId, ...(event.agentName ? { name: event.agentName } : {}) };
      next.status = 'assigned';
      if (!next.agents.includes(event.agentId)) next.agents = [...next.agents, event.agentId];
      return next;
    case 'handoff.transferred':
      if (event.toAgentId && !event.queue) {
        next.status = 'queued';
        next.owner = { kind: 'queue' };
      } else {
        next.owner = { kind: 'queue', ...(event.queue ? { queue: event.queue } : {}) };
        next.status = 'queued';
      }
      next.handoff = {
        trigger: 'agent_transfer',
        priority: next.handoff?.priority ?? 'normal',
        skills: event.skills,
        requestedSeq: seq,
        ...(event.queue ? { queue: event.queue } : {}),
        ...(event.note ? { reason: event.note } : {}),
        ...(at ? { requestedAt: at } : {}),
      };
      return next;
    case 'handoff.returned':
      next.owner = { kind: 'ai' };
      next.status = 'active';
      next.handoff = undefined;
      return next;
    case 'handoff.resolved':
      next.owner = { kind: 'none' };
      next.status = 'resolved';
      next.handoff = undefined;
      return next;
    case 'handoff.callback':
      next.owner = { kind: 'none' };
      next.status = 'callback';
      return next;
    default:
      return next;
  }
}

export function reduceAll(events: readonly (EventBody | StoredEvent)[], from?: ConversationState): ConversationState {
  let state = from ?? initialState();
  for (const event of events) state = reduce(state, event);
  return state;
}

/**
 * Only the owner speaks to the customer. One exception: while the conversation waits in a queue (no
 * owner), the AI may keep the customer company and collect what is still missing (S9); the moment an
 * agent accepts, the AI is silent again.
 */
export function canSpeak(state: ConversationState, author: { kind: 'ai' | 'bot' | 'agent'; id?: string }): boolean {
  const owner = state.owner;
  if (owner.kind === 'queue' && author.kind === 'ai') return true;
  if (owner.kind !== author.kind) return false;
  if (owner.kind === 'agent' || owner.kind === 'bot') return owner.id === author.id;
  return true;
}
