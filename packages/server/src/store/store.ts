import type { EventBody, Owner, StoredEvent } from '@baton/core';

export interface ConversationRecord {
  id: string;
  industry: string;
  channel: 'widget' | 'api' | 'demo';
  /** Bot integration that created it, when any. */
  botId: string | null;
  customerName: string | null;
  /** Denormalised from the log for listing and routing; the log stays the source of truth. */
  status: string;
  owner: Owner;
  lastSeq: number;
  createdAt: string;
  updatedAt: string;
}

export interface NewConversation {
  id: string;
  industry: string;
  channel: ConversationRecord['channel'];
  botId?: string | null;
  customerName?: string | null;
  /** sha256 of the customer's per-conversation token. */
  customerTokenHash: string;
  owner: Owner;
}

export interface AppendOptions {
  /**
   * Optimistic concurrency: append only if the log's last seq is exactly this. A mismatch throws a
   * BatonError('conflict'). Omit to append after whatever is there.
   */
  expectedLastSeq?: number;
}

/**
 * The conversation record's durable home. Appends are atomic: a batch of events gets consecutive
 * sequence numbers, with no gaps and no duplicates even under concurrent writers across processes,
 * or nothing is written at all.
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  createConversation(input: NewConversation): Promise<ConversationRecord>;
  getConversation(id: string): Promise<ConversationRecord | undefined>;
  listConversations(filter?: { status?: string[]; limit?: number }): Promise<ConversationRecord[]>;
  verifyCustomerToken(conversationId: string, tokenHash: string): Promise<boolean>;

  /** Appends events in order; returns them as stored. Updates the conversation's owner/status/lastSeq. */
  append(conversationId: string, events: EventBody[], options?: AppendOptions): Promise<StoredEvent[]>;
  /** Events with seq > after, in order, at most `limit` (default 1000). */
  readEvents(conversationId: string, after?: number, limit?: number): Promise<StoredEvent[]>;
}
