import type { ConversationStatus, EventBodyInput, Owner, StoredEvent } from '@baton/core';

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
