import { type ConversationState, initialState, reduce, type StoredEvent } from '@baton/core';
import { useSyncExternalStore } from 'react';
import type { BatonStream } from './stream.ts';

export interface ConversationLog {
  events: readonly StoredEvent[];
  state: ConversationState;
}

const EMPTY: ConversationLog = { events: [], state: initialState() };

/**
 * Every event the stream delivered, per conversation, with the reduced state kept alongside. The
 * stream already guarantees order and uniqueness; the log only appends and notifies React.
 */
export class EventLog {
  private readonly logs = new Map<string, ConversationLog>();
  private readonly subscribers = new Set<() => void>();
  private version = 0;

  constructor(stream: BatonStream) {
    stream.listen({ event: (event) => this.append(event) });
  }

  append(event: StoredEvent): void {
    const current = this.logs.get(event.conversationId) ?? EMPTY;
    const last = current.events[current.events.length - 1];
    if (last && event.seq <= last.seq) return;
    this.logs.set(event.conversationId, { events: [...current.events, event], state: reduce(current.state, event) });
    this.version += 1;
    for (const notify of this.subscribers) notify();
  }

  get(conversationId: string | null | undefined): ConversationLog {
    if (!conversationId) return EMPTY;
    return this.logs.get(conversationId) ?? EMPTY;
  }

  all(): ReadonlyMap<string, ConversationLog> {
    return this.logs;
  }

  getVersion = (): number => this.version;

  subscribe = (notify: () => void): (() => void) => {
    this.subscribers.add(notify);
    return () => this.subscribers.delete(notify);
  };
}

/** Re-renders on every appended event; cheap enough for a desk of a few hundred conversations. */
export function useEventLog(log: EventLog): number {
  return useSyncExternalStore(log.subscribe, log.getVersion, log.getVersion);
}
