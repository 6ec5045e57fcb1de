import type { StoredEvent } from '@baton/core';

/** A message on the bus. Conversation events go to `conversation:<id>`; desk-wide notices to `desk`. */
export type BusMessage =
  | { kind: 'event'; event: StoredEvent }
  | { kind: 'desk'; name: string; payload: Record<string, unknown> };

/**
 * Fan-out between server processes. Delivery is best effort: the store is the source of truth and a
 * client that misses a bus message catches up from the store by sequence number.
 */
export interface Bus {
  /** Whether other server processes publish on this bus too (their messages arrive by `subscribe`). */
  readonly shared: boolean;
  publish(topic: string, message: BusMessage): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(topic: string, handler: (message: BusMessage) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
