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
import { type Kysely, type Selectable, sql } from 'kysely';
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
  type EventsTable,
  readJson,
  type SessionsTable,
} from './database.ts';
import { migrateToLatest } from './migrate.ts';
import type { BatonMigration } from './migrations/index.ts';
import type { SqliteFastPath } from './sqlite-fast-path.ts';
import type {
  AgentPresence,
  AgentRecord,
  AgentRole,
  ApiKeyRecord,
  AppendGate,
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
import { AppendGateClosed } from './store.ts';

const DEFAULT_READ_LIMIT = 1000;
const MAX_READ_LIMIT = 10_000;
const DEFAULT_LIST_LIMIT = 100;
/** Keeps one insert under SQLite's 32,766 bound parameters (5 per event). */
const INSERT_CHUNK = 1000;

const EventBatch = z.array(EventBody);
const StringList = z.array(z.string());

/**
 * The hot queries as SQLite runs them on the fast path, each the same as the Kysely query it stands in
 * for in the method that uses it (PostgreSQL runs those).
 */
const SQLITE = {
  insertConversation:
    'insert into conversations (id, industry, channel, bot_id, customer_name, customer_token_hash, status, owner, last_seq, created_at, updated_at, active_minute) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  getConversation: 'select * from conversations where id = ?',
  customerTokenHash: 'select customer_token_hash from conversations where id = ?',
  /**
   * An append's claim, in the minute of the conversation's last one: no indexed column in the statement, so
   * SQLite writes no index (see migration 006). When the minute has turned, the next statement sets it.
   */
  claimSeqsSameMinute:
    'update conversations set last_seq = last_seq + ?, updated_at = ? where id = ? and active_minute = ? returning last_seq, owner, status',
  claimSeqs:
    'update conversations set last_seq = last_seq + ?, updated_at = ?, active_minute = ? where id = ? returning last_seq, owner, status',
  currentSeq: 'select last_seq, owner, status from conversations where id = ?',
  insertEvent: 'insert into events (conversation_id, seq, type, at, body) values (?, ?, ?, ?, ?)',
  setOwnerAndStatus: 'update conversations set owner = ?, status = ? where id = ?',
  readEvents: 'select seq, at, body from events where conversation_id = ? and seq > ? order by seq limit ?',
  getAgent: 'select * from agents where id = ?',
  listAgents: 'select * from agents order by name, id',
  validSession: 'select * from sessions where token_hash = ? and expires_at > ?',
  sessionAgent:
    'select agents.* from sessions join agents on agents.id = sessions.agent_id where sessions.token_hash = ? and sessions.expires_at > ?',
  findApiKey: 'select * from api_keys where key_hash = ?',
  insertAudit:
    'insert into audit_log (at, actor_kind, actor_id, action, conversation_id, detail) values (?, ?, ?, ?, ?, ?) returning *',
} as const;

export interface SqlStoreOptions {
  /** Migrations to run on `migrate()`; default the shared registry. */
  migrations?: Record<string, BatonMigration>;
}

/**
 * The Store over Kysely: one set of queries for SQLite and PostgreSQL. `handle.db` is public so
 * modules with their own tables (routing, auth) share the same connection pool. On SQLite the hot
 * methods skip Kysely and run prepared statements synchronously on the same connection (see
 * sqlite-fast-path.ts): Kysely's per-query machinery cost several times what SQLite did.
 */
export class SqlStore implements Store {
  readonly dialect: DatabaseHandle['dialect'];
  readonly handle: DatabaseHandle;
  private readonly db: Kysely<Database>;
  private readonly fast: SqliteFastPath | undefined;
  private readonly migrations: Record<string, BatonMigration> | undefined;

  constructor(handle: DatabaseHandle, options: SqlStoreOptions = {}) {
    this.handle = handle;
    this.db = handle.db;
    this.fast = handle.sqliteFastPath;
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
      active_minute: activeMinute(now),
    };
    const { fast } = this;
    const insert: () => Promise<unknown> = fast
      ? () =>
          fast.execute((sqlite) =>
            sqlite.run(
              SQLITE.insertConversation,
              row.id,
              row.industry,
              row.channel,
              row.bot_id,
              row.customer_name,
              row.customer_token_hash,
              row.status,
              row.owner as string,
              row.last_seq,
              row.created_at,
              row.updated_at,
              row.active_minute,
            ),
          )
      : () => this.db.insertInto('conversations').values(row).execute();
    await this.translateErrors(insert, {
      unique_violation: () => new BatonError('conflict', `conversation ${input.id} already exists`),
    });
    return toConversation(row);
  }

  async getConversation(id: string): Promise<ConversationRecord | undefined> {
    const row = this.fast
      ? await this.fast.execute((sqlite) => sqlite.get<Selectable<ConversationsTable>>(SQLITE.getConversation, id))
      : await this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toConversation(row) : undefined;
  }

  async listConversations(filter: { status?: string[]; limit?: number } = {}): Promise<ConversationRecord[]> {
    // By minute of activity through its index, then each minute by the instant: the order of `updated_at`.
    // The bound says the index is usable as a range (SQLite's planner would otherwise sort the whole table).
    let query = this.db
      .selectFrom('conversations')
      .selectAll()
      .where('active_minute', '>=', '')
      .orderBy('active_minute', 'desc')
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
    const row = this.fast
      ? await this.fast.execute((sqlite) =>
          sqlite.get<Pick<ConversationsTable, 'customer_token_hash'>>(SQLITE.customerTokenHash, conversationId),
        )
      : await this.db
          .selectFrom('conversations')
          .select('customer_token_hash')
          .where('id', '=', conversationId)
          .executeTakeFirst();
    return row !== undefined && timingSafeEqualText(row.customer_token_hash, tokenHash);
  }

  async append(conversationId: string, events: EventBodyInput[], options: AppendOptions = {}): Promise<StoredEvent[]> {
    // ~0.5-1 µs an event, so kept even for callers that parsed already: the store never trusts its input.
    const parsed = EventBatch.safeParse(events);
    if (!parsed.success) {
      throw new BatonError('invalid_input', `invalid event: ${z.prettifyError(parsed.error)}`, {
        details: { issues: parsed.error.issues },
      });
    }
    const bodies = parsed.data;
    const count = bodies.length;
    const { fast } = this;
    const { follow } = options;
    if (follow) {
      if (!Number.isInteger(follow.index) || follow.index < 0 || follow.index >= count) {
        throw new Error(`an append's follow names event ${follow.index} of ${count}`);
      }
      follow.wrote = undefined;
    }
    // A gate's write that breaks a unique index closes it: nothing was written (the transaction is gone).
    const gated = <T>(work: () => Promise<T>) =>
      options.gate
        ? work().catch((error: unknown) => {
            if (error instanceof AppendGateClosed) throw error;
            if (this.handle.classifyError(error) === 'unique_violation') {
              throw new AppendGateClosed(conversationId, error);
            }
            throw error;
          })
        : work();
    if (fast) {
      return this.translateErrors(() =>
        gated(() =>
          fast.transaction((sqlite) => {
            if (options.gate && !options.gate.sqlite(sqlite)) throw new AppendGateClosed(conversationId);
            // Under the write lock (begin immediate) from here to commit, so times follow seqs.
            const at = new Date().toISOString();
            const minute = activeMinute(at);
            const claimed =
              count > 0
                ? (sqlite.get<ClaimedSeqs>(SQLITE.claimSeqsSameMinute, count, at, conversationId, minute) ??
                  sqlite.get<ClaimedSeqs>(SQLITE.claimSeqs, count, at, minute, conversationId))
                : sqlite.get<ClaimedSeqs>(SQLITE.currentSeq, conversationId);
            const plan = planAppend(conversationId, bodies, claimed, at, options);
            for (const row of plan.rows) {
              sqlite.run(SQLITE.insertEvent, row.conversation_id, row.seq, row.type, row.at, row.body);
            }
            if (plan.moved) sqlite.run(SQLITE.setOwnerAndStatus, plan.moved.owner, plan.moved.status, conversationId);
            const followed = follow ? follow.sqlite(sqlite, plan.stored[follow.index] as StoredEvent) : undefined;
            return { stored: plan.stored, followed };
          }),
        ).then(({ stored, followed }) => {
          if (follow) follow.wrote = followed;
          return stored;
        }),
      );
    }
    let gate = options.gate;
    if (gate && this.handle.dialect !== 'postgres') {
      throw new Error('an append gate needs PostgreSQL or the SQLite fast path');
    }
    // With a gate, only where the general way cannot refuse the events once the gate has written alone
    // (no expected seq, no precondition): so the gate's write is never left without them.
    const guardable = !options.precondition && !(gate && options.expectedLastSeq !== undefined);
    if (options.snapshot && guardable && count > 0 && this.handle.dialect === 'postgres') {
      const guarded = await this.translateErrors(() =>
        gated(() => this.appendGuarded(conversationId, bodies, options)),
      );
      if (guarded.stored) {
        if (follow) follow.wrote = guarded.followed;
        return guarded.stored;
      }
      // The gate has written (with its statement): the events follow the general way, without it.
      gate = undefined;
    }
    return this.writeTransaction((trx) =>
      gated(async () => {
        if (gate) {
          if (!(await runGateAlone(trx, gate))) throw new AppendGateClosed(conversationId);
        }
        // Claiming the seqs first takes the row lock (PostgreSQL) or is already under the write lock
        // (SQLite), so concurrent appenders queue here and each gets its own consecutive range.
        const at = new Date().toISOString();
        const claimed = await trx
          .updateTable('conversations')
          .set((eb) =>
            count > 0
              ? { last_seq: eb('last_seq', '+', count), updated_at: at, active_minute: activeMinute(at) }
              : { last_seq: eb('last_seq', '+', count) },
          )
          .where('id', '=', conversationId)
          .returning(['last_seq', 'owner', 'status'])
          .executeTakeFirst();
        const plan = planAppend(conversationId, bodies, claimed, at, options);
        for (let start = 0; start < plan.rows.length; start += INSERT_CHUNK) {
          await trx
            .insertInto('events')
            .values(plan.rows.slice(start, start + INSERT_CHUNK))
            .execute();
        }
        if (plan.moved) {
          await trx.updateTable('conversations').set(plan.moved).where('id', '=', conversationId).execute();
        }
        // No follow here: the claim has locked the conversation first (see `AppendFollow`); its caller writes it.
        return plan.stored;
      }),
    );
  }

  /**
   * PostgreSQL, when the caller's snapshot is what is stored: the claim, the inserts and the owner change
   * in one statement (one round trip instead of begin, claim, insert, commit), guarded by the snapshot
   * (last seq, owner, status), so it writes nothing if anyone appended since. `stored` is undefined then,
   * and the caller takes the general path, which reads what is stored and decides with it. With a gate,
   * the gate's expressions lead the statement and the claim waits for the gate's row: a closed gate throws
   * `AppendGateClosed` (nothing written); a gate that wrote on a stale snapshot has written alone.
   */
  private async appendGuarded(
    conversationId: string,
    bodies: EventBody[],
    options: AppendOptions,
  ): Promise<{ stored: StoredEvent[] | undefined; followed?: boolean }> {
    const snapshot = options.snapshot;
    if (!snapshot) return { stored: undefined };
    if (options.expectedLastSeq !== undefined && options.expectedLastSeq !== snapshot.lastSeq) {
      return { stored: undefined };
    }
    const count = bodies.length;
    const at = new Date().toISOString();
    const owner = JSON.stringify(snapshot.owner);
    const plan = planAppend(
      conversationId,
      bodies,
      { last_seq: snapshot.lastSeq + count, owner, status: snapshot.status },
      at,
      options,
    );
    const { gate, follow } = options;
    const moved = plan.moved ? sql`, owner = ${plan.moved.owner}::jsonb, status = ${plan.moved.status}` : sql``;
    const result = await sql<{ gated: number; appended: number; followed: number }>`
      with ${gate ? sql`${gate.postgres},` : sql``} ${follow ? sql`${follow.postgresLock},` : sql``}
      claimed as (
        update conversations set last_seq = last_seq + ${count}, updated_at = ${at},
          active_minute = ${activeMinute(at)}${moved}
        where id = ${conversationId} and last_seq = ${snapshot.lastSeq}
          and owner = ${owner}::jsonb and status = ${snapshot.status}
          ${gate ? sql`and exists (select 1 from gate)` : sql``}
          ${follow ? sql`and (select count(*) from follow_lock) >= 0` : sql``}
        returning last_seq
      ),
      inserted as (
        insert into events (conversation_id, seq, type, at, body)
        select ${conversationId}, claimed.last_seq - ${count} + v.ord::int, v.type, ${at}, v.body::jsonb
        from claimed, unnest(${plan.rows.map((row) => row.type)}::text[], ${plan.rows.map((row) => row.body)}::text[])
          with ordinality as v(type, body, ord)
        returning seq
      )${
        follow
          ? sql`,
      appended_event as (
        select claimed.last_seq - ${count - 1 - follow.index}::int as seq, ${at}::text as at from claimed
      ),
      ${follow.postgres}`
          : sql``
      }
      select ${gate ? sql`(select count(*) from gate)::int` : sql`1`} as gated,
        (select count(*) from inserted)::int as appended,
        ${follow ? sql`(select count(*) from follow)::int` : sql`0`} as followed`.execute(this.db);
    const row = result.rows[0];
    if (gate && !row?.gated) throw new AppendGateClosed(conversationId);
    return {
      stored: row?.appended === count ? plan.stored : undefined,
      ...(follow ? { followed: (row?.followed ?? 0) > 0 } : {}),
    };
  }

  async readEvents(conversationId: string, after = 0, limit?: number): Promise<StoredEvent[]> {
    const rowLimit = clampLimit(limit, DEFAULT_READ_LIMIT);
    const rows = this.fast
      ? await this.fast.execute((sqlite) =>
          sqlite.all<Pick<EventsTable, 'seq' | 'at' | 'body'>>(SQLITE.readEvents, conversationId, after, rowLimit),
        )
      : await this.db
          .selectFrom('events')
          .select(['seq', 'at', 'body'])
          .where('conversation_id', '=', conversationId)
          .where('seq', '>', after)
          .orderBy('seq')
          .limit(rowLimit)
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
      presence_reason: null,
      created_at: new Date().toISOString(),
      last_offered_at: null,
    };
    await this.translateErrors(() => this.db.insertInto('agents').values(row).execute(), {
      unique_violation: () => new BatonError('conflict', `an agent with id ${input.id} or that email already exists`),
    });
    return toAgent(row);
  }

  async getAgent(id: string): Promise<AgentRecord | undefined> {
    const row = this.fast
      ? await this.fast.execute((sqlite) => sqlite.get<Selectable<AgentsTable>>(SQLITE.getAgent, id))
      : await this.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
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
    const rows = this.fast
      ? await this.fast.execute((sqlite) => sqlite.all<Selectable<AgentsTable>>(SQLITE.listAgents))
      : await this.db.selectFrom('agents').selectAll().orderBy('name').orderBy('id').execute();
    return rows.map(toAgent);
  }

  async setAgentPresence(id: string, presence: AgentPresence, reason?: string): Promise<AgentRecord> {
    const row = await this.db
      .updateTable('agents')
      .set({ presence, presence_reason: reason ?? null })
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
    const row = this.fast
      ? await this.fast.execute((sqlite) =>
          sqlite.get<Selectable<SessionsTable>>(SQLITE.validSession, tokenHash, now.toISOString()),
        )
      : await this.db
          .selectFrom('sessions')
          .selectAll()
          .where('token_hash', '=', tokenHash)
          .where('expires_at', '>', now.toISOString())
          .executeTakeFirst();
    return row ? { tokenHash: row.token_hash, agentId: row.agent_id, expiresAt: row.expires_at } : undefined;
  }

  async getSessionAgent(tokenHash: string, now = new Date()): Promise<AgentRecord | undefined> {
    const row = this.fast
      ? await this.fast.execute((sqlite) =>
          sqlite.get<Selectable<AgentsTable>>(SQLITE.sessionAgent, tokenHash, now.toISOString()),
        )
      : await this.db
          .selectFrom('sessions')
          .innerJoin('agents', 'agents.id', 'sessions.agent_id')
          .selectAll('agents')
          .where('sessions.token_hash', '=', tokenHash)
          .where('sessions.expires_at', '>', now.toISOString())
          .executeTakeFirst();
    return row ? toAgent(row) : undefined;
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
    const row = this.fast
      ? await this.fast.execute((sqlite) => sqlite.get<Selectable<ApiKeysTable>>(SQLITE.findApiKey, keyHash))
      : await this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return row ? toApiKey(row) : undefined;
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    const values = {
      at: new Date().toISOString(),
      actor_kind: entry.actorKind,
      actor_id: entry.actorId ?? null,
      action: entry.action,
      conversation_id: entry.conversationId ?? null,
      detail: JSON.stringify(entry.detail ?? {}),
    };
    const row = this.fast
      ? await this.fast.execute((sqlite) =>
          sqlite.get<Selectable<AuditLogTable>>(
            SQLITE.insertAudit,
            values.at,
            values.actor_kind,
            values.actor_id,
            values.action,
            values.conversation_id,
            values.detail,
          ),
        )
      : await this.db.insertInto('audit_log').values(values).returningAll().executeTakeFirst();
    if (!row) throw new Error('audit insert returned no row');
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

/** PostgreSQL: a gate's write on its own (no append after it); whether it wrote. */
export async function runGateAlone<DB>(db: Kysely<DB>, gate: AppendGate): Promise<boolean> {
  const wrote = await sql<{ n: number }>`with ${gate.postgres} select count(*)::int as n from gate`.execute(db);
  return (wrote.rows[0]?.n ?? 0) > 0;
}

/** Opens the database from config (see `createDatabase`); call `migrate()` before use. */
export function createStore(config: DatabaseConfig = {}, options: SqlStoreOptions = {}): SqlStore {
  return new SqlStore(createDatabase(config), options);
}

/** The conversation row as an append's claim leaves it: `last_seq` already counts the new events. */
type ClaimedSeqs = Pick<ConversationsTable, 'last_seq' | 'owner' | 'status'>;

interface AppendPlan {
  stored: StoredEvent[];
  rows: (EventsTable & { body: string })[];
  /** Set only when the events move the owner or status: most appends are messages and skip that write. */
  moved?: { owner: string; status: string };
}

/**
 * Decides an append from the claimed row, for both paths: `not_found`, the expectedLastSeq
 * `conflict` and the precondition throw here, before anything is inserted; then the events' seqs and
 * the owner/status they lead to, from the stored owner/status and the new events alone.
 */
function planAppend(
  conversationId: string,
  bodies: EventBody[],
  claimed: ClaimedSeqs | undefined,
  at: string,
  options: AppendOptions,
): AppendPlan {
  if (!claimed) throw new BatonError('not_found', `conversation ${conversationId} not found`);
  const previousSeq = claimed.last_seq - bodies.length;
  const current: ConversationState = {
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

  let state = current;
  const stored: StoredEvent[] = [];
  const rows: AppendPlan['rows'] = [];
  bodies.forEach((body, index) => {
    const event: StoredEvent = { ...body, conversationId, seq: previousSeq + index + 1, at };
    state = reduce(state, event);
    stored.push(event);
    rows.push({ conversation_id: conversationId, seq: event.seq, type: event.type, at, body: JSON.stringify(body) });
  });
  const moved = state.status !== current.status || !sameOwner(state.owner, current.owner);
  return { stored, rows, ...(moved ? { moved: { owner: JSON.stringify(state.owner), status: state.status } } : {}) };
}

function sameOwner(left: Owner, right: Owner): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

/** An instant's minute as the conversation list's indexes hold it: `YYYY-MM-DDTHH:MM` (see migration 006). */
function activeMinute(at: string): string {
  return at.slice(0, 16);
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

/** An `agents` row as a record; also for the desk, which reads agents with its own pass. */
export function toAgent(row: Selectable<AgentsTable>): AgentRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role as AgentRole,
    skills: StringList.parse(readJson(row.skills)),
    languages: StringList.parse(readJson(row.languages)),
    capacity: row.capacity,
    presence: row.presence as AgentPresence,
    ...(row.presence_reason ? { presenceReason: row.presence_reason } : {}),
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
