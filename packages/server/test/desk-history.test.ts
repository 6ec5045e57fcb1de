import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeskStore, SQLITE } from '../src/routing/desk-store.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';
import { POSTGRES_URL, type TestDatabase, testDatabase } from './support/desk-harness.ts';

/**
 * What a routing pass reads must not grow with the desk's history: finished offers and closed handoffs
 * pile up by the hundred thousand a day, and every pass (several a second) used to scan them all
 * (`scripts/desk-history.ts` measures it: 248 ms a pass over 200,000 past offers on SQLite, 0.27 ms now).
 * Timings are not asserted here; the query plans are, since they are what decides the cost.
 */

/** The reads of a pass, and the windowed read of the wait estimates. */
const BOUNDED_READS = {
  expiredOffers: [SQLITE.expiredOffers, '2026-01-01T00:00:00.000Z'],
  waiting: [SQLITE.listHandoffs(1), 'waiting'],
  ownedLoads: [SQLITE.ownedLoads],
  offeredLoads: [SQLITE.offeredLoads],
  handleTimes: [SQLITE.handleTimes, '2026-01-01T00:00:00.000Z', 2000],
} as const;

/** Indexes that hold live offers only (open ones): scanning them whole costs the live desk, not the history. */
const LIVE_ONLY_INDEXES = ['desk_offers_open_idx', 'desk_offers_one_open'];

function historyScans(plan: readonly string[]): string[] {
  return plan.filter((line) => {
    const scan = /^SCAN (desk_offers|desk_handoffs)\b(?: .*INDEX (\w+))?/.exec(line);
    return scan !== null && !LIVE_ONLY_INDEXES.includes(scan[2] ?? '');
  });
}

describe('the desk reads on SQLite: independent of past offers and handoffs', () => {
  let database: TestDatabase;
  let store: SqlStore;
  let file: string;

  beforeAll(async () => {
    database = testDatabase('sqlite');
    file = `${database.env.BATON_DATA_DIR}/baton.db`;
    store = createStore({ file });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('searches an index for every read of a pass instead of scanning the desk tables', () => {
    const inspector = new Database(file, { readonly: true });
    try {
      for (const [name, [statement, ...parameters]] of Object.entries(BOUNDED_READS)) {
        const plan = inspector
          .prepare(`explain query plan ${statement}`)
          .all(...parameters)
          .map((row) => (row as { detail: string }).detail);
        expect({ name, scans: historyScans(plan) }).toEqual({ name, scans: [] });
      }
    } finally {
      inspector.close();
    }
  });

  it("counts an agent's open offers and finds their last offer however old it is", async () => {
    const desk = new DeskStore(store.handle);
    const db = store.handle.db;
    for (const id of ['a-old', 'a-open', 'a-none']) {
      await sql`insert into agents (id, email, name, role, password_hash, skills, languages, capacity, presence, created_at)
        values (${id}, ${`${id}@example.test`}, ${id}, 'agent', 'x', '[]', '[]', 3, 'online', '2026-01-01T00:00:00.000Z')`.execute(
        db,
      );
    }
    const offer = (id: string, agentId: string, state: string, createdAt: string) =>
      sql`insert into desk_offers (id, conversation_id, episode, agent_id, queue, state, waiting_since, created_at, expires_at, decided_at)
        values (${id}, ${`c-${id}`}, 1, ${agentId}, 'general', ${state}, ${createdAt}, ${createdAt}, '2099-01-01T00:00:00.000Z', null)`.execute(
        db,
      );
    // Three days old: the old 24-hour window forgot it, and the agent looked never offered anything.
    await offer('o1', 'a-old', 'declined', '2026-01-01T00:00:00.000Z');
    await offer('o2', 'a-open', 'expired', '2026-01-02T00:00:00.000Z');
    await offer('o3', 'a-open', 'open', '2026-01-04T00:00:00.000Z');
    const loads = await desk.loads();
    expect(loads.get('a-old')).toEqual({ owned: 0, offered: 0, lastOfferedAt: '2026-01-01T00:00:00.000Z' });
    expect(loads.get('a-open')).toEqual({ owned: 0, offered: 1, lastOfferedAt: '2026-01-04T00:00:00.000Z' });
    expect(loads.has('a-none')).toBe(false);
  });

  it('reads the latest finished assignments for handle times, as many as asked for at most', async () => {
    const desk = new DeskStore(store.handle);
    for (let day = 1; day <= 5; day++) {
      const assignedAt = `2026-02-0${day}T10:00:00.000Z`;
      const closedAt = `2026-02-0${day}T10:0${day}:00.000Z`;
      await sql`insert into desk_handoffs (conversation_id, state, queue, priority, skills, excluded_agent_ids, waiting_since, episode, agent_id, assigned_at, updated_at)
        values (${`closed-${day}`}, 'closed', 'general', 'normal', '[]', '[]', ${assignedAt}, 1, 'a-old', ${assignedAt}, ${closedAt})`.execute(
        store.handle.db,
      );
    }
    expect(await desk.handleTimes('2026-02-02T00:00:00.000Z', 3)).toEqual([
      { queue: 'general', seconds: 300 },
      { queue: 'general', seconds: 240 },
      { queue: 'general', seconds: 180 },
    ]);
    expect(await desk.handleTimes('2026-02-04T00:00:00.000Z')).toHaveLength(2);
  });
});

describe('the desk reads on PostgreSQL: independent of past offers', () => {
  let database: TestDatabase;
  let store: SqlStore;

  beforeAll(async () => {
    database = testDatabase('postgres');
    store = createStore({ url: POSTGRES_URL, schema: database.env.BATON_DATABASE_SCHEMA });
    await store.migrate();
    const db = store.handle.db;
    await sql`insert into agents (id, email, name, role, password_hash, skills, languages, capacity, presence, created_at)
      select 'agent-' || n, 'agent-' || n || '@example.test', 'Agent ' || n, 'agent', 'x', '[]', '[]', 3, 'online',
        '2026-01-01T00:00:00.000Z'
      from generate_series(1, 20) n`.execute(db);
    // A few days of finished offers: enough that a scan costs more than the index to the planner.
    await sql`insert into desk_offers (id, conversation_id, episode, agent_id, queue, state, waiting_since, created_at, expires_at, decided_at)
      select 'past-' || n, 'c-' || n, 1, 'agent-' || (n % 20 + 1), 'general', 'declined',
        to_char(timestamp '2026-01-01' + n * interval '7 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        to_char(timestamp '2026-01-01' + n * interval '7 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        to_char(timestamp '2026-01-01' + n * interval '7 seconds' + interval '30 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        null
      from generate_series(1, 20000) n`.execute(db);
    await sql`analyze desk_offers`.execute(db);
    await sql`analyze agents`.execute(db);
  });

  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('reads offered loads and expired offers through indexes, not a scan of every offer', async () => {
    for (const statement of [SQLITE.offeredLoads, SQLITE.expiredOffers.replace('?', "'2026-01-02T00:00:00.000Z'")]) {
      const result = await sql<{ 'QUERY PLAN': string }>`explain ${sql.raw(statement)}`.execute(store.handle.db);
      const plan = result.rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).not.toMatch(/Seq Scan on desk_offers/);
    }
  });

  it('agrees with SQLite on what the loads are', async () => {
    const loads = await new DeskStore(store.handle).loads();
    expect(loads.size).toBe(20);
    expect(loads.get('agent-1')).toEqual({
      owned: 0,
      offered: 0,
      lastOfferedAt: expect.stringMatching(/^2026-01-0\dT/) as unknown as string,
    });
  });
});
