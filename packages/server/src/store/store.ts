import { BatonError, type ConversationStatus, type EventBodyInput, type Owner, type StoredEvent } from '@baton/core';
import type { RawBuilder } from 'kysely';
import type { SqliteStatements } from './sqlite-fast-path.ts';

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

export type AgentRole = 'agent' | 'supervisor' | 'admin';
export type AgentPresence = 'online' | 'away' | 'offline';

export interface AgentRecord {
  id: string;
  /** Stored trimmed and lower-cased; look-ups are case-insensitive. */
  email: string;
  name: string;
  role: AgentRole;
  skills: string[];
  languages: string[];
  /** How many conversations the agent can own at once. */
  capacity: number;
  presence: AgentPresence;
  /** Why the server last changed `presence` (`console_closed`…); absent when the agent chose it. */
  presenceReason?: string;
  createdAt: string;
}

export interface NewAgent {
  id: string;
  email: string;
  name: string;
  /** Output of the auth module's KDF; the store never sees a password. */
  passwordHash: string;
  role?: AgentRole;
  skills?: string[];
  languages?: string[];
  capacity?: number;
  presence?: AgentPresence;
}

export interface SessionRecord {
  /** sha256 of the session token; the token itself is never stored. */
  tokenHash: string;
  agentId: string;
  expiresAt: string;
}

export interface ApiKeyRecord {
  /** sha256 of the API key; the key itself is never stored. */
  keyHash: string;
  name: string;
  botId: string | null;
  webhookUrl: string | null;
  /** Kept in clear: it signs outgoing webhooks, so it must be readable. */
  webhookSecret: string | null;
  createdAt: string;
}

export type NewApiKey = Omit<ApiKeyRecord, 'createdAt' | 'botId' | 'webhookUrl' | 'webhookSecret'> &
  Partial<Pick<ApiKeyRecord, 'botId' | 'webhookUrl' | 'webhookSecret'>>;

export type AuditActorKind = 'agent' | 'customer' | 'bot' | 'ai' | 'system';

export interface AuditEntry {
  id: number;
  at: string;
  actorKind: AuditActorKind;
  actorId: string | null;
  /** Noun then verb, e.g. `conversation.viewed`. */
  action: string;
  conversationId: string | null;
  detail: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at' | 'actorId' | 'conversationId' | 'detail'> &
  Partial<Pick<AuditEntry, 'actorId' | 'conversationId' | 'detail'>>;

export interface AppendOptions {
  /**
   * Optimistic concurrency: append only if the log's last seq is exactly this. A mismatch throws a
   * BatonError('conflict'). Omit to append after whatever is there.
   */
  expectedLastSeq?: number;
  /**
   * Runs inside the append's transaction with the conversation as stored, before anything is
   * written; throw (a BatonError) to abort. Serialised with every other append to the conversation,
   * so a check like "only the owner may speak" cannot race a concurrent handoff.
   */
  precondition?: (current: ConversationSnapshot) => void;
  /**
   * What the caller believes is stored (its cached state). A store may use it to write in one statement
   * guarded by it; when it no longer holds, the append goes the general way, so the result is the same.
   */
  snapshot?: ConversationSnapshot;
  /** A write to another table the append depends on, made with it (see `AppendGate`). */
  gate?: AppendGate;
  /** A write to another table that one of the appended events starts, made with it (see `AppendFollow`). */
  follow?: AppendFollow;
}

/**
 * A write to another table that an append depends on, made in the append's transaction and before it:
 * when the gate writes nothing (its condition no longer holds), or its write breaks a unique index, the
 * append writes nothing either and throws `AppendGateClosed`. On PostgreSQL, when the caller's snapshot
 * holds, the gate, the claim of the seqs and the inserts are one statement: one round trip for both
 * writes. The desk's offer and its `handoff.offered` event are written this way.
 */
export interface AppendGate {
  /**
   * PostgreSQL: the write as common table expressions (`a as (…), gate as (…)`), the last named `gate`
   * and returning a row when it wrote. Run alone or ahead of the append's own expressions.
   */
  postgres: RawBuilder<unknown>;
  /** SQLite, inside the append's transaction, before the append: whether it wrote. */
  sqlite(statements: SqliteStatements): boolean;
}

/**
 * A write to another table that one of the appended events starts, made with the events and after them,
 * with that event's seq and time: when the events are not written, neither is it; when it fails, so does
 * the append. The store sets `wrote` once the append is done, and leaves it undefined where it did not
 * make the write: the caller then makes it on its own. SQLite: in the append's transaction. PostgreSQL:
 * in the append's one statement when the caller's snapshot holds (one round trip for both writes); not on
 * the general path, whose claim would lock the conversation before the other table's row (see `postgresLock`).
 * A request for a person starts its wait on the desk this way.
 */
export interface AppendFollow {
  /** Which appended event starts the write: its index in the batch. */
  index: number;
  /**
   * PostgreSQL: a common table expression named `follow_lock` that locks the rows the write may change.
   * The statement takes it before the conversation's row, the order the other writers of those rows keep
   * (an offer locks its handoff, then appends), so the two never wait for each other.
   */
  postgresLock: RawBuilder<unknown>;
  /**
   * PostgreSQL: the write as common table expressions over `appended_event (seq, at)`, which has the
   * event's row when the events were written and none otherwise; the last named `follow`, returning a
   * row when it wrote.
   */
  postgres: RawBuilder<unknown>;
  /** SQLite, inside the append's transaction, after the events: whether it wrote. */
  sqlite(statements: SqliteStatements, event: StoredEvent): boolean;
  /** Whether it wrote: set by the store when the append is done (undefined until then). */
  wrote?: boolean;
}

/** The append's gate wrote nothing (see `AppendGate`): nothing was written. */
export class AppendGateClosed extends BatonError {
  constructor(conversationId: string, cause?: unknown) {
    super('conflict', `conversation ${conversationId}: the write this append depends on did not happen`, {
      ...(cause === undefined ? {} : { cause }),
    });
    this.name = 'AppendGateClosed';
  }
}

export interface ConversationSnapshot {
  lastSeq: number;
  owner: Owner;
  status: ConversationStatus;
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

  /**
   * Appends events in order; returns them as stored (schema defaults applied). Updates the
   * conversation's owner/status/lastSeq in the same transaction. Throws BatonError `invalid_input`
   * (an event fails the schema), `not_found`, `conflict` (expectedLastSeq), or whatever the
   * precondition throws; on any error nothing is written.
   */
  append(conversationId: string, events: EventBodyInput[], options?: AppendOptions): Promise<StoredEvent[]>;
  /** Events with seq > after, in order, at most `limit` (default 1000). */
  readEvents(conversationId: string, after?: number, limit?: number): Promise<StoredEvent[]>;

  /** A duplicate id or email throws BatonError('conflict'). */
  createAgent(input: NewAgent): Promise<AgentRecord>;
  getAgent(id: string): Promise<AgentRecord | undefined>;
  /** With the password hash, for login only. */
  findAgentByEmail(email: string): Promise<(AgentRecord & { passwordHash: string }) | undefined>;
  listAgents(): Promise<AgentRecord[]>;
  /** Unknown agent throws BatonError('not_found'). */
  /** Sets presence; `reason` when the server changes it for the agent, none when they chose it. */
  setAgentPresence(id: string, presence: AgentPresence, reason?: string): Promise<AgentRecord>;

  createSession(session: SessionRecord): Promise<void>;
  /** The session only while `now` is before its expiry. */
  getValidSession(tokenHash: string, now?: Date): Promise<SessionRecord | undefined>;
  /** The agent a valid session belongs to, in one read (what every agent request checks). */
  getSessionAgent(tokenHash: string, now?: Date): Promise<AgentRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;

  createApiKey(input: NewApiKey): Promise<ApiKeyRecord>;
  findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined>;

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Oldest first. */
  listAudit(conversationId: string, limit?: number): Promise<AuditEntry[]>;
}
