import {
  BatonError,
  type ConversationState,
  type ConversationStatus,
  EventBody,
  type EventBodyInput,
  initialState,
  type Owner,
  reduce,
  type StoredEvent,
} from '@baton/core';
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import {
  type AgentsTable,
  type ApiKeysTable,
  type AuditLogTable,
  type ConversationsTable,
  createDatabase,
  type Database,
  type DatabaseConfig,
  type DatabaseHandle,
  readJson,
} from './database.ts';
import { migrateToLatest } from './migrate.ts';
import type { BatonMigration } from './migrations/index.ts';
import type {
  AgentPresence,
  AgentRecord,
  AgentRole,
  ApiKeyRecord,
  AppendOptions,
  AuditActorKind,
  AuditEntry,
  ConversationRecord,
  NewAgent,
  NewApiKey,
  NewAuditEntry,
  NewConversation,
  SessionRecord,
  Store,
} from './store.ts';

const DEFAULT_READ_LIMIT = 1000;
const MAX_READ_LIMIT = 10_000;
const DEFAULT_LIST_LIMIT = 100;
/** Keeps one insert under SQLite's 32,766 bound parameters (5 per event). */
const INSERT_CHUNK = 1000;

const EventBatch = z.array(EventBody);
const StringList = z.array(z.string());

export interface SqlStoreOptions {
  /** Migrations to run on `migrate()`; default the shared registry. */
  migrations?: Record<string, BatonMigration>;
}

/**
 * The Store over Kysely: one set of queries for SQLite and PostgreSQL. `handle.db` is public so
 * modules with their own tables (routing, auth) share the same connection pool.
 */
export class SqlStore implements Store {
  readonly dialect: DatabaseHandle['dialect'];
  readonly handle: DatabaseHandle;
  private readonly db: Kysely<Database>;
  private readonly migrations: Record<string, BatonMigration> | undefined;

  constructor(handle: DatabaseHandle, options: SqlStoreOptions = {}) {
    this.handle = handle;
    this.db = handle.db;
    this.dialect = handle.dialect;
    this.migrations = options.migrations;
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.handle, this.migrations);
  }

  close(): Promise<void> {
    return this.handle.destroy();
  }

  async createConversation(input: NewConversation): Promise<ConversationRecord> {
    const now = new Date().toISOString();
    const row: Selectable<ConversationsTable> = {
      id: input.id,
      industry: input.industry,
      channel: input.channel,
      bot_id: input.botId ?? null,
      customer_name: input.customerName ?? null,
      customer_token_hash: input.customerTokenHash,
      status: 'active',
      owner: JSON.stringify(input.owner),
      last_seq: 0,
      created_at: now,
      updated_at: now,
    };
    await this.translateErrors(() => this.db.insertInto('conversations').values(row).execute(), {
      unique_violation: () => new BatonError('conflict', `conversation ${input.id} already exists`),
    });
    return toConversation(row);
  }

  async getConversation(id: string): Promise<ConversationRecord | undefined> {
    const row = await this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toConversation(row) : undefined;
  }

  async listConversations(filter: { status?: string[]; limit?: number } = {}): Promise<ConversationRecord[]> {
    let query = this.db
      .selectFrom('conversations')
      .selectAll()
      .orderBy('updated_at', 'desc')
      .orderBy('id')
      .limit(clampLimit(filter.limit, DEFAULT_LIST_LIMIT));
    if (filter.status) {
      if (filter.status.length === 0) return [];
      query = query.where('status', 'in', filter.status);
    }
    return (await query.execute()).map(toConversation);
  }

  async verifyCustomerToken(conversationId: string, tokenHash: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('conversations')
      .select('customer_token_hash')
      .where('id', '=', conversationId)
      .executeTakeFirst();
    return row !== undefined && timingSafeEqualText(row.customer_token_hash, tokenHash);
  }

  async append(conversationId: string, events: EventBodyInput[], options: AppendOptions = {}): Promise<StoredEvent[]> {
    const parsed = EventBatch.safeParse(events);
    if (!parsed.success) {
      throw new BatonError('invalid_input', `invalid event: ${z.prettifyError(parsed.error)}`, {
        details: { issues: parsed.error.issues },
      });
    }
    const bodies = parsed.data;
    const count = bodies.length;
    return this.writeTransaction(async (trx) => {
      // Claiming the seqs first takes the row lock (PostgreSQL) or is already under the write lock
      // (SQLite), so concurrent appenders queue here and each gets its own consecutive range.
      const at = new Date().toISOString();
      const claimed = await trx
        .updateTable('conversations')
        .set((eb) => ({ last_seq: eb('last_seq', '+', count), updated_at: count > 0 ? at : eb.ref('updated_at') }))
        .where('id', '=', conversationId)
        .returning(['last_seq', 'owner', 'status'])
        .executeTakeFirst();
      if (!claimed) throw new BatonError('not_found', `conversation ${conversationId} not found`);
      const previousSeq = claimed.last_seq - count;
      const current = {
        ...initialState(readJson(claimed.owner) as Owner),
        status: claimed.status as ConversationStatus,
        lastSeq: previousSeq,
      };
      if (options.expectedLastSeq !== undefined && options.expectedLastSeq !== previousSeq) {
        throw new BatonError(
          'conflict',
          `conversation ${conversationId} is at seq ${previousSeq}, not ${options.expectedLastSeq}`,
          { details: { lastSeq: previousSeq, expectedLastSeq: options.expectedLastSeq } },
        );
      }
      options.precondition?.({ lastSeq: previousSeq, owner: current.owner, status: current.status });
      if (count === 0) return [];

      // Owner and status follow from the stored owner/status and the new events alone.
      let state: ConversationState = current;
      const stored = bodies.map((body, index): StoredEvent => {
        const event: StoredEvent = { ...body, conversationId, seq: previousSeq + index + 1, at };
        state = reduce(state, event);
        return event;
      });
      for (let start = 0; start < stored.length; start += INSERT_CHUNK) {
        await trx
          .insertInto('events')
          .values(
            stored.slice(start, start + INSERT_CHUNK).map((event, index) => ({
              conversation_id: conversationId,
              seq: event.seq,
              type: event.type,
              at,
              body: JSON.stringify(bodies[start + index]),
            })),
          )
          .execute();
      }
      // Most appends are messages: skip the second write when ownership did not move.
      if (state.status !== current.status || !sameOwner(state.owner, current.owner)) {
        await trx
          .updateTable('conversations')
          .set({ owner: JSON.stringify(state.owner), status: state.status })
          .where('id', '=', conversationId)
          .execute();
      }
      return stored;
    });
  }

  async readEvents(conversationId: string, after = 0, limit?: number): Promise<StoredEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['seq', 'at', 'body'])
      .where('conversation_id', '=', conversationId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(clampLimit(limit, DEFAULT_READ_LIMIT))
      .execute();
    // Our own writes, validated on append: read back without a second parse on the hot path.
    return rows.map((row) => ({ ...(readJson(row.body) as EventBody), conversationId, seq: row.seq, at: row.at }));
  }

  async createAgent(input: NewAgent): Promise<AgentRecord> {
    const row: Selectable<AgentsTable> = {
      id: input.id,
      email: normalizeEmail(input.email),
      name: input.name,
      password_hash: input.passwordHash,
      role: input.role ?? 'agent',
      skills: JSON.stringify(input.skills ?? []),
      languages: JSON.stringify(input.languages ?? []),
      capacity: input.capacity ?? 3,
      presence: input.presence ?? 'offline',
      created_at: new Date().toISOString(),
    };
    await this.translateErrors(() => this.db.insertInto('agents').values(row).execute(), {
      unique_violation: () => new BatonError('conflict', `an agent with id ${input.id} or that email already exists`),
    });
    return toAgent(row);
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    const row = await this.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAgent(row) : undefined;
  }

  async findAgentByEmail(email: string): Promise<(AgentRecord & { passwordHash: string }) | undefined> {
    const row = await this.db
      .selectFrom('agents')
      .selectAll()
      .where('email', '=', normalizeEmail(email))
      .executeTakeFirst();
    return row ? { ...toAgent(row), passwordHash: row.password_hash } : undefined;
  }

  async listAgents(): Promise<AgentRecord[]> {
    const rows = await this.db.selectFrom('agents').selectAll().orderBy('name').orderBy('id').execute();
    return rows.map(toAgent);
  }

  async setAgentPresence(id: string, presence: AgentPresence): Promise<AgentRecord> {
    const row = await this.db
      .updateTable('agents')
      .set({ presence })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new BatonError('not_found', `agent ${id} not found`);
    return toAgent(row);
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.translateErrors(
      () =>
        this.db
          .insertInto('sessions')
          .values({
            token_hash: session.tokenHash,
            agent_id: session.agentId,
            expires_at: toIsoTime(session.expiresAt),
          })
          .execute(),
      {
        foreign_key_violation: () => new BatonError('not_found', `agent ${session.agentId} not found`),
        unique_violation: () => new BatonError('conflict', 'session already exists'),
      },
    );
  }

  async getValidSession(tokenHash: string, now = new Date()): Promise<SessionRecord | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('expires_at', '>', now.toISOString())
      .executeTakeFirst();
    return row ? { tokenHash: row.token_hash, agentId: row.agent_id, expiresAt: row.expires_at } : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  async createApiKey(input: NewApiKey): Promise<ApiKeyRecord> {
    const row: Selectable<ApiKeysTable> = {
      key_hash: input.keyHash,
      name: input.name,
      bot_id: input.botId ?? null,
      webhook_url: input.webhookUrl ?? null,
      webhook_secret: input.webhookSecret ?? null,
      created_at: new Date().toISOString(),
    };
    await this.translateErrors(() => this.db.insertInto('api_keys').values(row).execute(), {
      unique_violation: () => new BatonError('conflict', 'api key already exists'),
    });
    return toApiKey(row);
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return row ? toApiKey(row) : undefined;
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const row = await this.db
      .insertInto('audit_log')
      .values({
        at: new Date().toISOString(),
        actor_kind: entry.actorKind,
        actor_id: entry.actorId ?? null,
        action: entry.action,
        conversation_id: entry.conversationId ?? null,
        detail: JSON.stringify(entry.detail ?? {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAudit(row);
  }

  async listAudit(conversationId: string, limit?: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('id')
      .limit(clampLimit(limit, DEFAULT_READ_LIMIT))
      .execute();
    return rows.map(toAudit);
  }

  /**
   * One transaction on one connection; on SQLite it begins immediate (see sqlite-dialect.ts), and
   * holding the single connection holds Kysely's mutex, so no other async caller in this process can
   * interleave statements with ours.
   */
  private writeTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.translateErrors(() => this.db.transaction().execute(work));
  }

  private async translateErrors<T>(
    work: () => Promise<T>,
    translations: Partial<Record<'unique_violation' | 'foreign_key_violation', () => BatonError>> = {},
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (BatonError.is(error)) throw error;
      const kind = this.handle.classifyError(error);
      if (kind === 'busy') {
        throw new BatonError('unavailable', 'the database is busy, try again', { cause: error, isRetryable: true });
      }
      const translate = kind ? translations[kind] : undefined;
      if (translate) {
        const translated = translate();
        throw new BatonError(translated.code, translated.message, { cause: error });
      }
      throw error;
    }
  }
}

/** Opens the database from config (see `createDatabase`); call `migrate()` before use. */
export function createStore(config: DatabaseConfig = {}, options: SqlStoreOptions = {}): SqlStore {
  return new SqlStore(createDatabase(config), options);
}

function sameOwner(left: Owner, right: Owner): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function clampLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(Math.max(Math.trunc(limit), 1), MAX_READ_LIMIT);
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toIsoTime(value: string): string {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new BatonError('invalid_input', `invalid time: ${value}`);
  return time.toISOString();
}

/** Hashes are fixed-length hex, but compare without an early exit anyway. */
function timingSafeEqualText(left: string, right: string): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index += 1) difference |= left.charCodeAt(index) ^ right.charCodeAt(index);
  return difference === 0;
}

function toConversation(row: Selectable<ConversationsTable>): ConversationRecord {
  return {
    id: row.id,
    industry: row.industry,
    channel: row.channel as ConversationRecord['channel'],
    botId: row.bot_id,
    customerName: row.customer_name,
    status: row.status,
    owner: readJson(row.owner) as Owner,
    lastSeq: row.last_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toAgent(row: Selectable<AgentsTable>): AgentRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role as AgentRole,
    skills: StringList.parse(readJson(row.skills)),
    languages: StringList.parse(readJson(row.languages)),
    capacity: row.capacity,
    presence: row.presence as AgentPresence,
    createdAt: row.created_at,
  };
}

function toApiKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    keyHash: row.key_hash,
    name: row.name,
    botId: row.bot_id,
    webhookUrl: row.webhook_url,
    webhookSecret: row.webhook_secret,
    createdAt: row.created_at,
  };
}

function toAudit(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actorKind: row.actor_kind as AuditActorKind,
    actorId: row.actor_id,
    action: row.action,
    conversationId: row.conversation_id,
    detail: z.record(z.string(), z.unknown()).parse(readJson(row.detail)),
  };
}
