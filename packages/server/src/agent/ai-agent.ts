import type { Brief, ConversationState, EventBody, HandoffTrigger, Priority, StoredEvent } from '@baton/core';
import type { ToolRegistry } from './tools.ts';

/** A fact the context engine already knows; agents read these and never ask for them again. */
export interface AgentFact {
  name: string;
  value: string;
  source?: number;
}

export interface HandoffRequest {
  trigger: HandoffTrigger;
  reason?: string;
  priority: Priority;
  skills: string[];
}

export interface AgentInput {
  conversation: { id: string; industry: string; customerName?: string | null };
  /**
   * The whole log so far, in order. Customer messages carry what the customer typed, secrets included
   * (a one-time code to check): agents must never write such a value into an event or a reply.
   */
  events: readonly StoredEvent[];
  state: ConversationState;
  /** Facts extracted by the context engine from `events` (latest value per name). */
  facts: readonly AgentFact[];
  /** The brief, when a human handed the conversation back (S7) or while the customer waits for one (S9). */
  brief?: Brief;
  /**
   * Why the agent is asked to speak: a customer message while the AI owns the conversation, a human
   * handing it back, or a customer writing while waiting in a queue (keep them company, collect only
   * what is still missing, call no tools, never hand off again).
   */
  cause: 'customer_message' | 'handoff_returned' | 'customer_waiting';
  tools: ToolRegistry;
}

/**
 * What an agent produces while it works, in order. `events` are appended to the record as they come
 * (tool calls become `action`, `identity` and `fact` events; replies are `message` events by the AI);
 * `text-delta` previews a reply being generated and is never stored; `handoff` asks for a human, the
 * runtime checks it against the escalation policy and appends `handoff.requested`.
 */
export type AgentStep =
  | { type: 'events'; events: EventBody[] }
  | { type: 'text-delta'; delta: string }
  | { type: 'handoff'; request: HandoffRequest };

/**
 * The AI side of a conversation, version 1. An agent answers one turn: it may call tools from the
 * registry it is given, reply, and ask for a handoff. It must not throw for an expected failure (a tool
 * error, a provider outage): it reports it as events and a `handoff` step with trigger `error`, so the
 * customer is never left in silence. It stops promptly when `signal` aborts.
 */
export interface AiAgent {
  readonly name: string;
  respond(input: AgentInput, signal: AbortSignal): AsyncIterable<AgentStep>;
}

/** Latest value of each fact, by name. */
export function factMap(facts: readonly AgentFact[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const fact of facts) map.set(fact.name, fact.value);
  return map;
}
