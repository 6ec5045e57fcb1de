import { createHash, randomBytes } from 'node:crypto';
import { BatonError, type Priority } from '@baton/core';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { AgentsTable, Database, DatabaseHandle } from '../store/database.ts';
import { runGateAlone, toAgent } from '../store/sql-store.ts';
import type { SqliteFastPath, SqliteStatements, SqliteValue } from '../store/sqlite-fast-path.ts';
import type { AgentRecord, AppendFollow, AppendGate } from '../store/store.ts';

export type DeskHandoffState = 'waiting' | 'offered' | 'assigned' | 'transferring' | 'callback' | 'closed';
export type DeskOfferState = 'open' | 'accepted' | 'declined' | 'expired' | 'cancelled';

export interface DeskHandoffsTable {
  conversation_id: string;
  state: string;
  queue: string;
  priority: string;
  skills: string;
  language: string | null;
  target_agent_id: string | null;
  excluded_agent_ids: string;
  waiting_since: string;
  episode: number;
  agent_id: string | null;
  assigned_at: string | null;
  position: number | null;
  estimate_seconds: number | null;
  updated_at: string;
}

export interface DeskOffersTable {
  id: string;
  conversation_id: string;
  episode: number;
  agent_id: string;
  queue: string;
  state: string;
  waiting_since: string;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
}

export interface DeskLeaseTable {
  id: number;
  holder: string | null;
  until: string;
}

export type DeskTables = {
  desk_handoffs: DeskHandoffsTable;
  desk_offers: DeskOffersTable;
  desk_lease: DeskLeaseTable;
};

export interface DeskHandoff {
  conversationId: string;
  state: DeskHandoffState;
  queue: string;
  priority: Priority;
  skills: string[];
  language?: string;
  targetAgentId?: string;
  excludedAgentIds: string[];
  waitingSince: string;
  episode: number;
  agentId?: string;
  assignedAt?: string;
  position?: number;
  estimateSeconds?: number;
  updatedAt: string;
}

export interface DeskOffer {
  id: string;
  conversationId: string;
  episode: number;
  agentId: string;
  queue: string;
  state: DeskOfferState;
  waitingSince: string;
  createdAt: string;
  expiresAt: string;
  decidedAt?: string;
}

function stringList(value: string): string[] {
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
}

function toHandoff(row: DeskHandoffsTable): DeskHandoff {
  return {
    conversationId: row.conversation_id,
    state: row.state as DeskHandoffState,
    queue: row.queue,
    priority: row.priority as Priority,
    skills: stringList(row.skills),
    excludedAgentIds: stringList(row.excluded_agent_ids),
    waitingSince: row.waiting_since,
    episode: Number(row.episode),
    updatedAt: row.updated_at,
    ...(row.language ? { language: row.language } : {}),
    ...(row.target_agent_id ? { targetAgentId: row.target_agent_id } : {}),
    ...(row.agent_id ? { agentId: row.agent_id } : {}),
    ...(row.assigned_at ? { assignedAt: row.assigned_at } : {}),
    ...(row.position !== null ? { position: Number(row.position) } : {}),
    ...(row.estimate_seconds !== null ? { estimateSeconds: Number(row.estimate_seconds) } : {}),
  };
}

function toOffer(row: DeskOffersTable): DeskOffer {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    episode: Number(row.episode),
    agentId: row.agent_id,
    queue: row.queue,
    state: row.state as DeskOfferState,
    waitingSince: row.waiting_since,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    ...(row.decided_at ? { decidedAt: row.decided_at } : {}),
  };
}

/** Finished assignments a handle-time estimate reads at most: the recent ones say how the desk works now. */
export const HANDLE_TIMES_LIMIT = 2000;

const EPOCH = '1970-01-01T00:00:00.000Z';
/** The `desk_lease` rows: the routing pass's lease (SQLite; PostgreSQL takes an advisory lock) and leadership. */
const LEASE_ROW = 1;
const LEADER_ROW = 2;

/** One bucket of the supervisor's charts, as the database adds it up (see `chartBuckets`). */
export interface ChartBucket {
  /** Waits that began in the bucket. */
  waits: number;
  offers: number;
  accepted: number;
  declined: number;
  expired: number;
  /** Seconds from the wait's start to the accept, for each offer made in the bucket and accepted; sorted. */
  acceptSeconds: number[];
}

/** Each agent's conversations owned and offers open now, and when they were last offered one. */
export type AgentLoads = Map<string, { owned: number; offered: number; lastOfferedAt?: string }>;

export interface PassReads {
  expired: DeskOffer[];
  waiting: DeskHandoff[];
  loads: AgentLoads;
  /** Every agent, by name (presence and capacity included: the pass decides who is free). */
  agents: AgentRecord[];
}

interface OwnedLoadRow {
  agent_id: string | null;
  count: number | string;
}

interface OfferedLoadRow {
  agent_id: string;
  open: number | string | null;
  last: string | null;
}

function toLoads(owned: readonly OwnedLoadRow[], offered: readonly OfferedLoadRow[]): AgentLoads {
  const loads: AgentLoads = new Map();
  for (const row of owned) {
    if (row.agent_id) loads.set(row.agent_id, { owned: Number(row.count), offered: 0 });
  }
  for (const row of offered) {
    if (Number(row.open ?? 0) === 0 && !row.last) continue;
    const entry = loads.get(row.agent_id) ?? { owned: 0, offered: 0 };
    entry.offered = Number(row.open ?? 0);
    if (row.last) entry.lastOfferedAt = String(row.last);
    loads.set(row.agent_id, entry);
  }
  return loads;
}

/** A wait in progress: a second request keeps its place. */
const ACTIVE_STATES = ['waiting', 'offered', 'assigned'] as const;

/** A wait's columns, as its start writes them (the rest, agent and position, start empty). */
const WAITING_COLUMNS =
  'conversation_id, state, queue, priority, skills, language, target_agent_id, excluded_agent_ids, waiting_since, episode, updated_at';
/** A newer episode restarts the wait (an older or equal one changes nothing). */
const WAITING_ON_CONFLICT =
  "on conflict (conversation_id) do update set state = 'waiting', queue = excluded.queue, priority = excluded.priority, " +
  'skills = excluded.skills, language = excluded.language, target_agent_id = excluded.target_agent_id, ' +
  'excluded_agent_ids = excluded.excluded_agent_ids, waiting_since = excluded.waiting_since, episode = excluded.episode, ' +
  'agent_id = null, assigned_at = null, position = null, estimate_seconds = null, updated_at = excluded.updated_at ' +
  'where desk_handoffs.episode < excluded.episode';
/** ... except over a wait still in progress (waiting, offered or assigned): that one is kept. */
const UNLESS_ACTIVE = ` and desk_handoffs.state not in (${ACTIVE_STATES.map((state) => `'${state}'`).join(', ')})`;
const UPSERT_WAITING = `insert into desk_handoffs (${WAITING_COLUMNS}) values (?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, ?) ${WAITING_ON_CONFLICT}`;

/**
 * The desk's queries as SQLite runs them on the fast path, each the same as the Kysely query it stands
 * in for in the method that uses it (PostgreSQL runs those). A conditional UPDATE says whether it won
 * by the row it returns. Lists of states are spelled out per call (`in (?, ?)`): a handful of shapes.
 */
export const SQLITE = {
  getHandoff: 'select * from desk_handoffs where conversation_id = ?',
  agents: 'select * from agents order by name, id',
  expiredOffers: "select * from desk_offers where state = 'open' and expires_at <= ? order by created_at",
  listHandoffs: (states: number) => `select * from desk_handoffs where state in (${marks(states)})`,
  upsertWaiting: `${UPSERT_WAITING} returning 1 as won`,
  /** The same, except over a wait still in progress (waiting, offered or assigned): that one is kept. */
  upsertWaitingUnlessActive: `${UPSERT_WAITING}${UNLESS_ACTIVE} returning 1 as won`,
  raisePriority:
    "update desk_handoffs set priority = ?, updated_at = ? where conversation_id = ? and state in ('waiting', 'offered')",
  requeue:
    "update desk_handoffs set state = 'waiting', excluded_agent_ids = ?, target_agent_id = ?, updated_at = ? " +
    "where conversation_id = ? and episode = ? and state = 'offered' returning 1 as won",
  setPublishedPosition: 'update desk_handoffs set position = ?, estimate_seconds = ? where conversation_id = ?',
  markOffered:
    "update desk_handoffs set state = 'offered', updated_at = ? where conversation_id = ? and episode = ? and state = 'waiting' returning 1 as won",
  insertOffer:
    'insert into desk_offers (id, conversation_id, episode, agent_id, queue, state, waiting_since, created_at, expires_at, decided_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  openOfferOf: "select * from desk_offers where conversation_id = ? and agent_id = ? and state = 'open'",
  acceptOffer:
    "update desk_offers set state = 'accepted', decided_at = ? where id = ? and state = 'open' and expires_at > ? returning 1 as won",
  assignOffered:
    "update desk_handoffs set state = 'assigned', updated_at = ?, agent_id = ?, assigned_at = ? where conversation_id = ? and episode = ? and state = 'offered' returning 1 as won",
  ownedLoads:
    "select agent_id, count(*) as count from desk_handoffs where state in ('assigned', 'transferring') group by agent_id",
  /**
   * Per agent, one index probe for the open offers (by agent and state) and the last offer from the
   * agent's own column (see migration 007): the same cost with a day's or a year's offers behind them.
   * (Grouping the open offers instead, SQLite scans the whole agent index.) Both dialects run this text.
   */
  offeredLoads:
    'select a.id as agent_id, ' +
    "(select count(*) from desk_offers o where o.agent_id = a.id and o.state = 'open') as open, " +
    'a.last_offered_at as last from agents a',
  /** The latest first, through the (state, updated_at) index: at most `limit` rows however busy the day was. */
  handleTimes:
    "select queue, assigned_at, updated_at from desk_handoffs where state = 'closed' and assigned_at is not null and updated_at >= ? order by updated_at desc limit ?",
  tryLease: `update desk_lease set holder = ?, until = ? where id = ${LEASE_ROW} and (holder is null or until < ?) returning 1 as won`,
  releaseLease: 'update desk_lease set holder = null, until = ? where id = ? and holder = ?',
  holdLeadership: `update desk_lease set holder = ?, until = ? where id = ${LEADER_ROW} and (holder = ? or holder is null or until < ?) returning 1 as won`,
} as const;

function marks(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

type Won = { won: number };

/**
 * The desk's rows. Every method that decides something (claim an offer, move a handoff on) is one
 * conditional UPDATE whose row count says whether this caller won, so two processes never both win.
 */
export class DeskStore {
  readonly #db: Kysely<Database & DeskTables>;
  /**
   * PostgreSQL: the lease is an advisory lock in a transaction of its own, on a client of Kysely's pool
   * taken directly, so that one simple query can begin it, wait for the lock and read the desk.
   */
  readonly #leasePool: (() => Promise<pg.Pool>) | undefined;
  readonly #postgres: boolean;
  /** SQLite: the routing pass's dozen queries skip Kysely (see sqlite-fast-path.ts). */
  readonly #fast: SqliteFastPath | undefined;

  constructor(
    handle: Pick<DatabaseHandle, 'db'> & Partial<Pick<DatabaseHandle, 'dialect' | 'sqliteFastPath' | 'postgresPool'>>,
  ) {
    this.#db = handle.db.withTables<DeskTables>();
    if (handle.dialect === 'postgres' && !handle.postgresPool) {
      throw new Error('the desk store on PostgreSQL needs the database handle’s postgresPool');
    }
    this.#postgres = handle.dialect === 'postgres';
    this.#leasePool = this.#postgres ? handle.postgresPool : undefined;
    this.#fast = handle.sqliteFastPath;
  }

  /**
   * Runs `work` while holding the desk lease, across all processes. On PostgreSQL a transaction-scoped
   * advisory lock: a second process waits in the database and goes the moment the first commits (no
   * polling, released even if the holder's process dies). Elsewhere the `desk_lease` row, polled.
   * With `readsAt`, `work` gets the routing pass's reads (`passReads`) taken once the lease is held: on
   * PostgreSQL in the same round trip as the lock.
   */
  async withLease<T>(
    work: (reads: PassReads | undefined) => Promise<T>,
    options: {
      waitMs: number;
      leaseMs: number;
      now: () => Date;
      /** Read the desk for a routing pass as of this instant, under the lease, and hand it to `work`. */
      readsAt?: Date;
      /**
       * Called once `work` has succeeded and the lease is on its way out (on PostgreSQL the commit is
       * sent), so work that needs no lease starts now rather than a round trip later.
       */
      whenReleasing?: () => void;
      /**
       * PostgreSQL: the lease's commit failed after `withLease` had returned (the connection is closed,
       * which lets go of the lock all the same).
       */
      onReleaseError?: (error: unknown) => void;
    },
  ): Promise<T> {
    if (this.#leasePool) return this.#withAdvisoryLock(this.#leasePool, work, options);
    const holder = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const deadline = Date.now() + options.waitMs;
    while (!(await this.tryLease(holder, options.now(), options.leaseMs))) {
      if (Date.now() > deadline) {
        throw deskBusy();
      }
      await sleep(5 + Math.random() * 20);
    }
    let result: T;
    try {
      result = await work(options.readsAt ? await this.passReads(options.readsAt) : undefined);
    } catch (error) {
      await this.releaseLease(holder);
      throw error;
    }
    const released = this.releaseLease(holder);
    options.whenReleasing?.();
    await released;
    return result;
  }

  async #withAdvisoryLock<T>(
    leasePool: () => Promise<pg.Pool>,
    work: (reads: PassReads | undefined) => Promise<T>,
    options: {
      waitMs: number;
      readsAt?: Date;
      whenReleasing?: () => void;
      onReleaseError?: (error: unknown) => void;
    },
  ): Promise<T> {
    // One round trip to begin, set the timeout (for this transaction), wait for the lock and, asked to,
    // read the desk: the statements go together as one simple query (no parameters: the key, the timeout
    // and the instant are values of ours, checked), each read after the one before it has finished, so
    // the reads see every write committed before the lock was granted. Kysely would keep none of the
    // results of such a query, hence a client of its pool taken directly.
    const waitMs = Math.max(1, Math.round(options.waitMs));
    const client = await (await leasePool()).connect();
    // A client whose rollback failed is in an unknown state: the pool closes it instead of reusing it.
    let broken = false;
    // Once the commit is sent, the client goes back to the pool when it is answered, not here.
    let committing = false;
    const rollback = () =>
      client.query('rollback').then(
        () => undefined,
        () => {
          broken = true;
        },
      );
    try {
      let reads: PassReads | undefined;
      // After a duplicate: what the connection has under that name is replaced, not trusted.
      let replace = false;
      for (let attempt = 0; ; attempt++) {
        const prepare = options.readsAt !== undefined && !passReadsPrepared.has(client);
        const statements = [
          'begin',
          `select set_config('lock_timeout', '${waitMs}ms', true)`,
          `select pg_advisory_xact_lock(${DESK_LOCK_KEY})`,
          ...(prepare && replace ? [`deallocate ${PASS_READS_STATEMENT}`] : []),
          ...(prepare ? [PREPARE_PASS_READS] : []),
          ...(options.readsAt ? [`execute ${PASS_READS_STATEMENT}('${checkedInstant(options.readsAt)}')`] : []),
        ];
        try {
          const results = (await client.query(statements.join('; '))) as unknown as pg.QueryResult[];
          if (prepare) passReadsPrepared.add(client);
          if (options.readsAt) reads = toPassReads(results[statements.length - 1]?.rows[0]);
          break;
        } catch (error) {
          await rollback();
          if (isLockTimeout(error)) throw deskBusy();
          // The connection knows better than our note of it (a session reset; a statement prepared by a
          // pass that failed after preparing it): go again, once, preparing it afresh.
          const code = (error as { code?: unknown }).code;
          if (
            attempt === 0 &&
            !broken &&
            (code === DUPLICATE_PREPARED_STATEMENT || code === UNKNOWN_PREPARED_STATEMENT)
          ) {
            passReadsPrepared.delete(client);
            replace = code === DUPLICATE_PREPARED_STATEMENT;
            continue;
          }
          throw error;
        }
      }
      let result: T;
      try {
        result = await work(reads);
      } catch (error) {
        await rollback();
        throw error;
      }
      // The lease's transaction only locked and read (the work writes on other connections, each write
      // committed by now), so its commit only lets go of the lock, and nobody waits for its answer: a
      // pass due next sends its begin at once and waits for the lock in PostgreSQL, a round trip sooner.
      committing = true;
      client.query('commit').then(
        () => client.release(),
        (error: unknown) => {
          client.release(true);
          options.onReleaseError?.(error);
        },
      );
      options.whenReleasing?.();
      return result;
    } finally {
      if (!committing) client.release(broken);
    }
  }

  async getHandoff(conversationId: string): Promise<DeskHandoff | undefined> {
    const row = this.#fast
      ? await this.#fast.execute((sqlite) => sqlite.get<DeskHandoffsTable>(SQLITE.getHandoff, conversationId))
      : await this.#db
          .selectFrom('desk_handoffs')
          .selectAll()
          .where('conversation_id', '=', conversationId)
          .executeTakeFirst();
    return row ? toHandoff(row) : undefined;
  }

  async listHandoffs(states: readonly DeskHandoffState[]): Promise<DeskHandoff[]> {
    const rows = this.#fast
      ? await this.#fast.execute((sqlite) =>
          sqlite.all<DeskHandoffsTable>(SQLITE.listHandoffs(states.length), ...states),
        )
      : await this.#db.selectFrom('desk_handoffs').selectAll().where('state', 'in', states).execute();
    return rows.map(toHandoff);
  }

  /**
   * Starts (or restarts, for a newer episode) a wait. Older or equal episodes are ignored; with
   * `unlessActive`, so is a wait still in progress (waiting, offered, assigned), which keeps its place.
   */
  async upsertWaiting(
    handoff: WaitStart & { waitingSince: string; episode: number; unlessActive?: boolean },
  ): Promise<boolean> {
    if (this.#fast) {
      const won = await this.#fast.execute((sqlite) =>
        sqlite.get<Won>(
          handoff.unlessActive ? SQLITE.upsertWaitingUnlessActive : SQLITE.upsertWaiting,
          handoff.conversationId,
          handoff.queue,
          handoff.priority,
          JSON.stringify(handoff.skills),
          handoff.language ?? null,
          handoff.targetAgentId ?? null,
          JSON.stringify(handoff.excludedAgentIds),
          handoff.waitingSince,
          handoff.episode,
          handoff.now,
        ),
      );
      return won !== undefined;
    }
    const values = {
      state: 'waiting',
      queue: handoff.queue,
      priority: handoff.priority,
      skills: JSON.stringify(handoff.skills),
      language: handoff.language ?? null,
      target_agent_id: handoff.targetAgentId ?? null,
      excluded_agent_ids: JSON.stringify(handoff.excludedAgentIds),
      waiting_since: handoff.waitingSince,
      episode: handoff.episode,
      agent_id: null,
      assigned_at: null,
      position: null,
      estimate_seconds: null,
      updated_at: handoff.now,
    };
    const result = await this.#db
      .insertInto('desk_handoffs')
      .values({ conversation_id: handoff.conversationId, ...values })
      .onConflict((conflict) => {
        const update = conflict
          .column('conversation_id')
          .doUpdateSet(values)
          .where('desk_handoffs.episode', '<', handoff.episode);
        return handoff.unlessActive ? update.where('desk_handoffs.state', 'not in', ACTIVE_STATES) : update;
      })
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /**
   * `upsertWaiting` with `unlessActive`, as the write that follows an appended event (see `AppendFollow`):
   * the event at `index` of the append starts the wait, its seq the episode and its time the waiting-since.
   * One write with the event, so the wait and the request that started it are never seen apart.
   */
  waitFollow(index: number, handoff: WaitStart): AppendFollow {
    const skills = JSON.stringify(handoff.skills);
    const excluded = JSON.stringify(handoff.excludedAgentIds);
    const language = handoff.language ?? null;
    const target = handoff.targetAgentId ?? null;
    const postgres = sql`
      follow as (
        insert into desk_handoffs (${sql.raw(WAITING_COLUMNS)})
        select ${handoff.conversationId}::text, 'waiting', ${handoff.queue}::text, ${handoff.priority}::text,
          ${skills}::text, ${language}::text, ${target}::text, ${excluded}::text, appended_event.at, appended_event.seq,
          ${handoff.now}::text
        from appended_event
        ${sql.raw(`${WAITING_ON_CONFLICT}${UNLESS_ACTIVE}`)}
        returning 1
      )`;
    const postgresLock = sql`
      follow_lock as (select 1 from desk_handoffs where conversation_id = ${handoff.conversationId} for update)`;
    const sqlite = (statements: SqliteStatements, event: { seq: number; at: string }) =>
      statements.get<Won>(
        SQLITE.upsertWaitingUnlessActive,
        handoff.conversationId,
        handoff.queue,
        handoff.priority,
        skills,
        language,
        target,
        excluded,
        event.at,
        event.seq,
        handoff.now,
      ) !== undefined;
    return { index, postgresLock, postgres, sqlite };
  }

  /** Raises the priority of a wait still in progress (a second request while waiting). */
  async raisePriority(conversationId: string, priority: Priority, now: string): Promise<void> {
    if (this.#fast) {
      await this.#fast.execute((sqlite) => sqlite.run(SQLITE.raisePriority, priority, now, conversationId));
      return;
    }
    await this.#db
      .updateTable('desk_handoffs')
      .set({ priority, updated_at: now })
      .where('conversation_id', '=', conversationId)
      .where('state', 'in', ['waiting', 'offered'])
      .execute();
  }

  /** Moves a handoff from one state to another only if it is still in `from`; true when this caller did. */
  async transition(
    conversationId: string,
    from: readonly DeskHandoffState[],
    to: DeskHandoffState,
    now: string,
    options: {
      agentId?: string | null;
      requireAgentId?: string;
      episode?: number;
      episodeBefore?: number;
      /** Into `assigned`: when it was assigned (a rollback keeps the first time); now by default. */
      assignedAt?: string;
    } = {},
  ): Promise<boolean> {
    const fast = this.#fast;
    const assignedAt = options.assignedAt ?? now;
    if (fast) {
      const set = ['state = ?', 'updated_at = ?'];
      const parameters: SqliteValue[] = [to, now];
      if (options.agentId !== undefined) {
        set.push('agent_id = ?');
        parameters.push(options.agentId);
      }
      if (to === 'assigned') {
        set.push('assigned_at = ?');
        parameters.push(assignedAt);
      }
      const where = ['conversation_id = ?', `state in (${marks(from.length)})`];
      parameters.push(conversationId, ...from);
      if (options.requireAgentId !== undefined) {
        where.push('agent_id = ?');
        parameters.push(options.requireAgentId);
      }
      if (options.episode !== undefined) {
        where.push('episode = ?');
        parameters.push(options.episode);
      }
      if (options.episodeBefore !== undefined) {
        where.push('episode < ?');
        parameters.push(options.episodeBefore);
      }
      const statement = `update desk_handoffs set ${set.join(', ')} where ${where.join(' and ')} returning 1 as won`;
      return (await fast.execute((sqlite) => sqlite.get<Won>(statement, ...parameters))) !== undefined;
    }
    let query = this.#db
      .updateTable('desk_handoffs')
      .set({
        state: to,
        updated_at: now,
        ...(options.agentId !== undefined ? { agent_id: options.agentId } : {}),
        ...(to === 'assigned' ? { assigned_at: assignedAt } : {}),
      })
      .where('conversation_id', '=', conversationId)
      .where('state', 'in', from);
    if (options.requireAgentId !== undefined) query = query.where('agent_id', '=', options.requireAgentId);
    if (options.episode !== undefined) query = query.where('episode', '=', options.episode);
    if (options.episodeBefore !== undefined) query = query.where('episode', '<', options.episodeBefore);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Back to waiting after a decline or an expiry; that agent is never offered this episode again. */
  async requeue(handoff: DeskHandoff, excludeAgentId: string, now: string): Promise<boolean> {
    const excluded = [...new Set([...handoff.excludedAgentIds, excludeAgentId])];
    // A transfer to a named agent who says no falls back to the queue.
    const target = handoff.targetAgentId === excludeAgentId ? null : (handoff.targetAgentId ?? null);
    if (this.#fast) {
      const won = await this.#fast.execute((sqlite) =>
        sqlite.get<Won>(SQLITE.requeue, JSON.stringify(excluded), target, now, handoff.conversationId, handoff.episode),
      );
      return won !== undefined;
    }
    const result = await this.#db
      .updateTable('desk_handoffs')
      .set({
        state: 'waiting',
        excluded_agent_ids: JSON.stringify(excluded),
        target_agent_id: target,
        updated_at: now,
      })
      .where('conversation_id', '=', handoff.conversationId)
      .where('episode', '=', handoff.episode)
      .where('state', '=', 'offered')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async setPublishedPosition(conversationId: string, position: number, estimate: number | undefined): Promise<void> {
    if (this.#fast) {
      await this.#fast.execute((sqlite) =>
        sqlite.run(SQLITE.setPublishedPosition, position, estimate ?? null, conversationId),
      );
      return;
    }
    await this.#db
      .updateTable('desk_handoffs')
      .set({ position, estimate_seconds: estimate ?? null })
      .where('conversation_id', '=', conversationId)
      .execute();
  }

  /**
   * The write that offers a waiting handoff to an agent, as a gate for the append of its `handoff.offered`
   * event (see `AppendGate`): the handoff moves to offered only if it was waiting in this episode, and the
   * offer row exists only if it moved; the unique index on open offers refuses a second one. The gate is
   * closed when any of that fails, and then nothing is written. On PostgreSQL the gate, the event's seqs and
   * its insert go in one statement: one round trip under the lease instead of two.
   */
  offerGate(input: OfferInput): { gate: AppendGate; offer: DeskOffer } {
    const offer = newOffer(input);
    const published = input.published;
    const postgres = sql`
      moved as (
        update desk_handoffs set state = 'offered', updated_at = ${input.now}${
          published ? sql`, position = ${published.position}, estimate_seconds = ${published.estimate ?? null}` : sql``
        }
        where conversation_id = ${offer.conversation_id} and episode = ${offer.episode} and state = 'waiting'
        returning conversation_id
      ),
      gate as (
        insert into desk_offers (id, conversation_id, episode, agent_id, queue, state, waiting_since, created_at,
          expires_at, decided_at)
        select ${offer.id}, ${offer.conversation_id}, ${offer.episode}, ${offer.agent_id}, ${offer.queue},
          ${offer.state}, ${offer.waiting_since}, ${offer.created_at}, ${offer.expires_at}, ${offer.decided_at}
        from moved
        returning id
      )`;
    const sqlite = (statements: SqliteStatements) => {
      if (!statements.get<Won>(SQLITE.markOffered, input.now, offer.conversation_id, offer.episode)) return false;
      if (published) {
        statements.run(
          SQLITE.setPublishedPosition,
          published.position,
          published.estimate ?? null,
          offer.conversation_id,
        );
      }
      statements.run(
        SQLITE.insertOffer,
        offer.id,
        offer.conversation_id,
        offer.episode,
        offer.agent_id,
        offer.queue,
        offer.state,
        offer.waiting_since,
        offer.created_at,
        offer.expires_at,
        offer.decided_at,
      );
      return true;
    };
    return { gate: { postgres, sqlite }, offer: toOffer(offer) };
  }

  /**
   * The offer's write alone, without an event (see `offerGate`): the handoff marked offered and the offer
   * opened, together or not at all. Undefined when the handoff was no longer waiting or already had an
   * open offer (the unique index says no).
   */
  async openOffer(input: OfferInput): Promise<DeskOffer | undefined> {
    const { gate, offer } = this.offerGate(input);
    try {
      const fast = this.#fast;
      const wrote = fast ? await fast.transaction((sqlite) => gate.sqlite(sqlite)) : await runGateAlone(this.#db, gate);
      return wrote ? offer : undefined;
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
  }

  /**
   * The one place an accept is decided: the offer must be open, made to this agent and not past its
   * expiry at this instant, and its handoff still offered in the same episode. The offer becomes accepted
   * and the handoff assigned to the agent in one write, so no routing pass ever sees the agent's slot free
   * in between (two writes left a moment when the offer no longer counted and the handoff not yet: a pass
   * on another process could offer that agent one more than their capacity). Exactly one caller wins,
   * whatever the number of processes.
   */
  async claimOffer(conversationId: string, agentId: string, now: string): Promise<DeskOffer | undefined> {
    const accepted = (row: DeskOffersTable) => toOffer({ ...row, state: 'accepted', decided_at: now });
    if (this.#fast) {
      try {
        return await this.#fast.transaction((sqlite) => {
          const row = sqlite.get<DeskOffersTable>(SQLITE.openOfferOf, conversationId, agentId);
          if (!row || !sqlite.get<Won>(SQLITE.acceptOffer, now, row.id, now)) throw new OfferNotOpened();
          const assigned = sqlite.get<Won>(SQLITE.assignOffered, now, agentId, now, conversationId, row.episode);
          // Thrown inside the transaction: the offer's acceptance is rolled back with it.
          if (!assigned) throw new OfferNotOpened();
          return accepted(row);
        });
      } catch (error) {
        if (error instanceof OfferNotOpened) return undefined;
        throw error;
      }
    }
    if (this.#postgres) {
      // One statement: the offer row is locked, then both rows change together or neither does.
      const result = await sql<DeskOffersTable>`
        with offer as (
          select * from desk_offers
          where conversation_id = ${conversationId} and agent_id = ${agentId} and state = 'open'
            and expires_at > ${now}
          for update
        ),
        assigned as (
          update desk_handoffs h set state = 'assigned', updated_at = ${now}, agent_id = ${agentId},
            assigned_at = ${now}
          from offer
          where h.conversation_id = offer.conversation_id and h.episode = offer.episode and h.state = 'offered'
          returning h.conversation_id
        ),
        accepted as (
          update desk_offers o set state = 'accepted', decided_at = ${now}
          from offer, assigned
          where o.id = offer.id
          returning o.*
        )
        select * from accepted`.execute(this.#db);
      const row = result.rows[0];
      return row ? accepted(row) : undefined;
    }
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('desk_offers')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .where('agent_id', '=', agentId)
        .where('state', '=', 'open')
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (!row) return undefined;
      const assigned = await trx
        .updateTable('desk_handoffs')
        .set({ state: 'assigned', updated_at: now, agent_id: agentId, assigned_at: now })
        .where('conversation_id', '=', conversationId)
        .where('episode', '=', row.episode)
        .where('state', '=', 'offered')
        .executeTakeFirst();
      if (Number(assigned.numUpdatedRows) === 0) return undefined;
      await trx
        .updateTable('desk_offers')
        .set({ state: 'accepted', decided_at: now })
        .where('id', '=', row.id)
        .execute();
      return accepted(row);
    });
  }

  /** Closes an open offer as declined or expired (or cancelled); expiry only once its time has passed. */
  async closeOffer(
    offerId: string,
    to: Exclude<DeskOfferState, 'open' | 'accepted'>,
    now: string,
    options: { agentId?: string } = {},
  ): Promise<boolean> {
    const fast = this.#fast;
    if (fast) {
      let statement = "update desk_offers set state = ?, decided_at = ? where id = ? and state = 'open'";
      const parameters: SqliteValue[] = [to, now, offerId];
      if (to === 'expired') {
        statement += ' and expires_at <= ?';
        parameters.push(now);
      }
      if (options.agentId !== undefined) {
        statement += ' and agent_id = ?';
        parameters.push(options.agentId);
      }
      statement += ' returning 1 as won';
      return (await fast.execute((sqlite) => sqlite.get<Won>(statement, ...parameters))) !== undefined;
    }
    let query = this.#db
      .updateTable('desk_offers')
      .set({ state: to, decided_at: now })
      .where('id', '=', offerId)
      .where('state', '=', 'open');
    if (to === 'expired') query = query.where('expires_at', '<=', now);
    if (options.agentId !== undefined) query = query.where('agent_id', '=', options.agentId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async openOffers(
    filter: { agentId?: string; conversationId?: string; expiredBy?: string } = {},
  ): Promise<DeskOffer[]> {
    const fast = this.#fast;
    if (fast) {
      let statement = "select * from desk_offers where state = 'open'";
      const parameters: SqliteValue[] = [];
      if (filter.agentId !== undefined) {
        statement += ' and agent_id = ?';
        parameters.push(filter.agentId);
      }
      if (filter.conversationId !== undefined) {
        statement += ' and conversation_id = ?';
        parameters.push(filter.conversationId);
      }
      if (filter.expiredBy !== undefined) {
        statement += ' and expires_at <= ?';
        parameters.push(filter.expiredBy);
      }
      statement += ' order by created_at';
      const rows = await fast.execute((sqlite) => sqlite.all<DeskOffersTable>(statement, ...parameters));
      return rows.map(toOffer);
    }
    let query = this.#db.selectFrom('desk_offers').selectAll().where('state', '=', 'open');
    if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
    if (filter.conversationId !== undefined) query = query.where('conversation_id', '=', filter.conversationId);
    if (filter.expiredBy !== undefined) query = query.where('expires_at', '<=', filter.expiredBy);
    const rows = await query.orderBy('created_at').execute();
    return rows.map(toOffer);
  }

  /**
   * The desk's side of the supervisor's charts over `count` buckets of `bucketMs` from `startMs`, added up
   * by the database: waits started (an episode counts once, in the bucket its wait began), offers made and
   * how they ended, and the seconds from each accepted offer's wait start to its accept, sorted. Reading
   * the rows into the process instead took 650 ms for a day of a busy desk (100,000 offers); callers keep
   * the buckets that can no longer change (see desk-metrics.ts), so each is added up about once.
   */
  async chartBuckets(input: { startMs: number; bucketMs: number; count: number }): Promise<Map<number, ChartBucket>> {
    const since = new Date(input.startMs).toISOString();
    const postgres = this.#postgres;
    const ms = (column: string) =>
      postgres
        ? sql.raw(`(extract(epoch from ${column}::timestamptz) * 1000)::bigint`)
        : sql.raw(`cast(round(unixepoch(${column}, 'subsec') * 1000) as integer)`);
    const bucket = (column: string) =>
      postgres
        ? sql`((${ms(column)} - ${input.startMs}::bigint) / ${input.bucketMs}::bigint)::int`
        : // Bound numbers arrive as REAL in SQLite: integers make the division an integer one.
          sql`((${ms(column)} - cast(${input.startMs} as integer)) / cast(${input.bucketMs} as integer))`;
    const waitSeconds = postgres
      ? sql`greatest(0, (${ms('decided_at')} - ${ms('waiting_since')}) / 1000.0)`
      : sql`max(0, (${ms('decided_at')} - ${ms('waiting_since')}) / 1000.0)`;
    const count = input.count;
    const [waits, offers, accepts] = await Promise.all([
      sql<{ b: number | string; n: number | string }>`
        select b, count(*) as n from (
          select ${bucket('waiting_since')} as b from (
            select conversation_id, episode, max(waiting_since) as waiting_since from (
              select conversation_id, episode, waiting_since from desk_handoffs where waiting_since >= ${since}
              union all
              select conversation_id, episode, waiting_since from desk_offers
              where created_at >= ${since} and waiting_since >= ${since}
            ) seen group by conversation_id, episode
          ) episodes
        ) started where b < ${count} group by b`.execute(this.#db),
      sql<{
        b: number | string;
        offers: number | string;
        accepted: number | string;
        declined: number | string;
        expired: number | string;
      }>`
        select b, count(*) as offers,
          sum(case when state = 'accepted' then 1 else 0 end) as accepted,
          sum(case when state = 'declined' then 1 else 0 end) as declined,
          sum(case when state in ('expired', 'cancelled') then 1 else 0 end) as expired
        from (select ${bucket('created_at')} as b, state from desk_offers where created_at >= ${since}) made
        where b < ${count} group by b`.execute(this.#db),
      sql<{ b: number | string; s: number | string }>`
        select b, s from (
          select ${bucket('created_at')} as b, ${waitSeconds} as s from desk_offers
          where created_at >= ${since} and state = 'accepted' and decided_at is not null
        ) accepted where b < ${count} order by b, s`.execute(this.#db),
    ]);
    const buckets = new Map<number, ChartBucket>();
    const at = (index: number) => {
      let found = buckets.get(index);
      if (!found) {
        found = { waits: 0, offers: 0, accepted: 0, declined: 0, expired: 0, acceptSeconds: [] };
        buckets.set(index, found);
      }
      return found;
    };
    for (const row of waits.rows) at(Number(row.b)).waits = Number(row.n);
    for (const row of offers.rows) {
      Object.assign(at(Number(row.b)), {
        offers: Number(row.offers),
        accepted: Number(row.accepted),
        declined: Number(row.declined),
        expired: Number(row.expired),
      });
    }
    for (const row of accepts.rows) at(Number(row.b)).acceptSeconds.push(Number(row.s));
    return buckets;
  }

  /** Conversations whose latest wait began at or after `since`, newest first, at most `limit`. */
  async latestWaits(since: string, limit: number): Promise<{ conversationId: string; waitingSince: string }[]> {
    const rows = await this.#db
      .selectFrom('desk_handoffs')
      .select(['conversation_id', 'waiting_since'])
      .where('waiting_since', '>=', since)
      .orderBy('waiting_since', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ conversationId: row.conversation_id, waitingSince: row.waiting_since }));
  }

  /** Conversations owned and offers open, per agent, and when each was last offered anything. */
  async loads(): Promise<AgentLoads> {
    const { owned, offered } = this.#fast
      ? await this.#fast.execute((sqlite) => ({
          owned: sqlite.all<OwnedLoadRow>(SQLITE.ownedLoads),
          offered: sqlite.all<OfferedLoadRow>(SQLITE.offeredLoads),
        }))
      : await this.#kyselyLoads();
    return toLoads(owned, offered);
  }

  /**
   * What a routing pass reads first: offers expired by `now`, the handoffs waiting, the agents and each
   * one's load. On PostgreSQL one statement (one round trip under the lease instead of five); on SQLite
   * the same statements in one synchronous call.
   */
  async passReads(now: Date): Promise<PassReads> {
    const expiredBy = now.toISOString();
    if (this.#fast) {
      const rows = await this.#fast.execute((sqlite) => ({
        expired: sqlite.all<DeskOffersTable>(SQLITE.expiredOffers, expiredBy),
        waiting: sqlite.all<DeskHandoffsTable>(SQLITE.listHandoffs(1), 'waiting'),
        owned: sqlite.all<OwnedLoadRow>(SQLITE.ownedLoads),
        offered: sqlite.all<OfferedLoadRow>(SQLITE.offeredLoads),
        agents: sqlite.all<AgentsTable>(SQLITE.agents),
      }));
      return {
        expired: rows.expired.map(toOffer),
        waiting: rows.waiting.map(toHandoff),
        loads: toLoads(rows.owned, rows.offered),
        agents: rows.agents.map(toAgent),
      };
    }
    if (this.#postgres) {
      const result = await sql.raw<PostgresPassReadsRow>(postgresPassReads(now)).execute(this.#db);
      return toPassReads(result.rows[0]);
    }
    return {
      expired: await this.openOffers({ expiredBy }),
      waiting: await this.listHandoffs(['waiting']),
      loads: await this.loads(),
      agents: (await this.#db.selectFrom('agents').selectAll().orderBy('name').orderBy('id').execute()).map(toAgent),
    };
  }

  async #kyselyLoads() {
    const owned = await this.#db
      .selectFrom('desk_handoffs')
      .select(['agent_id', (eb) => eb.fn.countAll<number | string>().as('count')])
      .where('state', 'in', ['assigned', 'transferring'])
      .groupBy('agent_id')
      .execute();
    const offered = (await sql<OfferedLoadRow>`${sql.raw(SQLITE.offeredLoads)}`.execute(this.#db)).rows;
    return { owned, offered };
  }

  /**
   * The latest finished assignments since `since` (at most `limit`, newest first), to measure how long an
   * agent keeps a conversation. Bounded: a whole busy day (50,000 closed handoffs) took 72 ms to read on
   * SQLite, the event loop stalled for it every time the estimate was refreshed.
   */
  async handleTimes(since: string, limit = HANDLE_TIMES_LIMIT): Promise<{ queue: string; seconds: number }[]> {
    const rows = this.#fast
      ? await this.#fast.execute((sqlite) =>
          sqlite.all<Pick<DeskHandoffsTable, 'queue' | 'assigned_at' | 'updated_at'>>(SQLITE.handleTimes, since, limit),
        )
      : await this.#db
          .selectFrom('desk_handoffs')
          .select(['queue', 'assigned_at', 'updated_at'])
          .where('state', '=', 'closed')
          .where('assigned_at', 'is not', null)
          .where('updated_at', '>=', since)
          .orderBy('updated_at', 'desc')
          .limit(limit)
          .execute();
    return rows.flatMap((row) =>
      row.assigned_at
        ? [{ queue: row.queue, seconds: (Date.parse(row.updated_at) - Date.parse(row.assigned_at)) / 1000 }]
        : [],
    );
  }

  /**
   * A lease on the routing loop, held by one caller across all processes. Time-bounded so a crashed
   * holder cannot stall the desk; every holder finishes well inside it.
   */
  async tryLease(holder: string, now: Date, leaseMs: number): Promise<boolean> {
    const until = new Date(now.getTime() + leaseMs).toISOString();
    if (this.#fast) {
      const won = await this.#fast.execute((sqlite) =>
        sqlite.get<Won>(SQLITE.tryLease, holder, until, now.toISOString()),
      );
      return won !== undefined;
    }
    const result = await this.#db
      .updateTable('desk_lease')
      .set({ holder, until })
      .where('id', '=', LEASE_ROW)
      .where((eb) => eb.or([eb('holder', 'is', null), eb('until', '<', now.toISOString())]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  releaseLease(holder: string): Promise<void> {
    return this.#release(LEASE_ROW, holder);
  }

  /**
   * Routing leadership: held by one process at a time, renewed by its holder before `ttlMs` lapses and
   * taken by another process once it has (the holder stopped or died). True when `holder` holds it now.
   */
  async holdLeadership(holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const until = new Date(now.getTime() + ttlMs).toISOString();
    if (this.#fast) {
      const won = await this.#fast.execute((sqlite) =>
        sqlite.get<Won>(SQLITE.holdLeadership, holder, until, holder, now.toISOString()),
      );
      return won !== undefined;
    }
    const result = await this.#db
      .updateTable('desk_lease')
      .set({ holder, until })
      .where('id', '=', LEADER_ROW)
      .where((eb) => eb.or([eb('holder', '=', holder), eb('holder', 'is', null), eb('until', '<', now.toISOString())]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Lets another process lead at once (this one is stopping). */
  releaseLeadership(holder: string): Promise<void> {
    return this.#release(LEADER_ROW, holder);
  }

  async #release(row: number, holder: string): Promise<void> {
    if (this.#fast) {
      await this.#fast.execute((sqlite) => sqlite.run(SQLITE.releaseLease, EPOCH, row, holder));
      return;
    }
    await this.#db
      .updateTable('desk_lease')
      .set({ holder: null, until: EPOCH })
      .where('id', '=', row)
      .where('holder', '=', holder)
      .execute();
  }
}

interface PostgresPassReadsRow {
  expired: DeskOffersTable[];
  waiting: DeskHandoffsTable[];
  owned: OwnedLoadRow[];
  offered: OfferedLoadRow[];
  agents: AgentsTable[];
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The routing pass's reads on PostgreSQL as one statement of plain text (it travels in the lease's
 * simple query, which takes no parameters): the instant is ours, and checked before it is written in.
 * The desk's columns are text or integer and the agents' lists JSON, so rows come back through
 * json_agg as the row mappers expect them.
 */
function postgresPassReads(now: Date): string {
  return passReadsSql(`'${checkedInstant(now)}'`);
}

/** The pass's reads with `expiredBy` (an SQL expression: a checked literal, or a prepared statement's `$1`). */
function passReadsSql(expiredBy: string): string {
  return `select
      (select coalesce(json_agg(o order by o.created_at), '[]'::json) from desk_offers o
        where o.state = 'open' and o.expires_at <= ${expiredBy}) as expired,
      (select coalesce(json_agg(h), '[]'::json) from desk_handoffs h where h.state = 'waiting') as waiting,
      (select coalesce(json_agg(x), '[]'::json) from (${SQLITE.ownedLoads}) x) as owned,
      (select coalesce(json_agg(y), '[]'::json) from (${SQLITE.offeredLoads}) y) as offered,
      (select coalesce(json_agg(a order by a.name, a.id), '[]'::json) from agents a) as agents`;
}

function checkedInstant(now: Date): string {
  const instant = now.toISOString();
  if (!ISO_INSTANT.test(instant)) throw new Error(`desk pass reads: not an instant: ${instant}`);
  return instant;
}

/**
 * The pass's reads as a statement prepared once per connection: planning its five subqueries took about
 * as long as running them (1.0 against 1.6 ms in EXPLAIN ANALYZE with 50 agents), and every pass plans it
 * again under the lock the whole desk waits on. A prepared statement outlives a rolled-back transaction.
 */
const PASS_READS_SQL = passReadsSql('$1');
/**
 * Named after its text: a connection that has a statement of this name has this statement (another
 * version of Baton on the same database, through a pooler that shares connections, names its own).
 */
export const PASS_READS_STATEMENT = `baton_pass_reads_${createHash('sha256').update(PASS_READS_SQL).digest('hex').slice(0, 12)}`;
export const PREPARE_PASS_READS = `prepare ${PASS_READS_STATEMENT} as ${PASS_READS_SQL}`;
/** 42P05: a statement of that name is already prepared on the connection; 26000: none is. */
const DUPLICATE_PREPARED_STATEMENT = '42P05';
/** The connections that have the pass's reads prepared: a statement is the connection's, whichever store asks. */
const passReadsPrepared = new WeakSet<pg.PoolClient>();
const UNKNOWN_PREPARED_STATEMENT = '26000';

function toPassReads(row: PostgresPassReadsRow | undefined): PassReads {
  if (!row) throw new Error('desk pass reads returned no row');
  return {
    expired: row.expired.map(toOffer),
    waiting: row.waiting.map(toHandoff),
    loads: toLoads(row.owned, row.offered),
    agents: row.agents.map(toAgent),
  };
}

/** Any fixed 64-bit key: the one advisory lock Baton takes, for the routing loop. */
const DESK_LOCK_KEY = 0x62_61_74_6f_6e_64;

const deskBusy = () => new BatonError('unavailable', 'the desk is busy; try again', { isRetryable: true });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isLockTimeout(error: unknown): boolean {
  // 55P03 lock_not_available: lock_timeout passed.
  return !!error && typeof error === 'object' && (error as { code?: unknown }).code === '55P03';
}

class OfferNotOpened extends Error {}

/** A wait as it starts: where it queues and for what (its episode and time come with it). */
export interface WaitStart {
  conversationId: string;
  queue: string;
  priority: Priority;
  skills: readonly string[];
  language?: string;
  targetAgentId?: string;
  excludedAgentIds: readonly string[];
  now: string;
}

export interface OfferInput {
  handoff: DeskHandoff;
  agentId: string;
  now: string;
  expiresAt: string;
  /** The place and wait last told to the customer, recorded in the same write (see `setPublishedPosition`). */
  published?: { position: number; estimate: number | undefined };
}

function newOffer(input: OfferInput): DeskOffersTable {
  return {
    id: `o_${randomBytes(9).toString('base64url')}`,
    conversation_id: input.handoff.conversationId,
    episode: input.handoff.episode,
    agent_id: input.agentId,
    queue: input.handoff.queue,
    state: 'open',
    waiting_since: input.handoff.waitingSince,
    created_at: input.now,
    expires_at: input.expiresAt,
    decided_at: null,
  };
}

function isUniqueViolation(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
