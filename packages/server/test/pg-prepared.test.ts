import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareStatements, StatementNames } from '../src/store/pg-prepared.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';
import { POSTGRES_URL, type TestDatabase, testDatabase } from './support/desk-harness.ts';

describe('named prepared statements on PostgreSQL', () => {
  const opened: { store: SqlStore; database: TestDatabase }[] = [];

  /** A store on a fresh schema with one connection, so every statement runs where the test looks. */
  async function openStore(preparedStatements: boolean) {
    const database = testDatabase('postgres');
    const store = createStore({
      url: POSTGRES_URL,
      schema: database.env.BATON_DATABASE_SCHEMA,
      poolSize: 1,
      preparedStatements,
    });
    opened.push({ store, database });
    await store.migrate();
    return store;
  }

  async function preparedOnTheConnection(store: SqlStore): Promise<string[]> {
    const result = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(
      store.handle.db,
    );
    return result.rows.map((row) => row.statement);
  }

  async function converse(store: SqlStore, id: string) {
    await store.createConversation({
      id,
      industry: 'ecommerce',
      channel: 'api',
      customerTokenHash: 'hash',
      owner: { kind: 'ai' },
    });
    for (let index = 0; index < 3; index++) {
      await store.append(id, [{ type: 'message', author: 'customer', text: `message ${index}` }]);
    }
  }

  afterAll(async () => {
    for (const { store, database } of opened) {
      await store.close();
      await database.drop();
    }
  });

  it('prepares each parameterised statement once per connection, the append’s among them', async () => {
    const store = await openStore(true);
    await converse(store, 'c_prepared');
    const prepared = await preparedOnTheConnection(store);
    // Three appends, each statement of theirs prepared once.
    expect(prepared.filter((statement) => statement.startsWith('insert into "events"'))).toHaveLength(1);
    expect(prepared.filter((statement) => statement.startsWith('update "conversations" set "last_seq"'))).toHaveLength(
      1,
    );
    expect(await store.readEvents('c_prepared')).toHaveLength(3);
  });

  it('prepares nothing when switched off', async () => {
    const store = await openStore(false);
    await converse(store, 'c_unprepared');
    expect(await preparedOnTheConnection(store)).toEqual([]);
  });

  it('prepares a statement again after its table changed shape, failing once as PostgreSQL says', async () => {
    const store = await openStore(true);
    const db = store.handle.db;
    await sql`create table shape_probe (id integer primary key)`.execute(db);
    await sql`insert into shape_probe (id) values (${1})`.execute(db);
    const probe = () => sql<Record<string, unknown>>`select * from shape_probe where id = ${1}`.execute(db);
    expect((await probe()).rows).toEqual([{ id: 1 }]);
    await sql`alter table shape_probe add column note text`.execute(db);
    await expect(probe()).rejects.toMatchObject({ code: '0A000' });
    expect((await probe()).rows).toEqual([{ id: 1, note: null }]);
  });
});

describe('StatementNames', () => {
  it('names at most its limit of texts, keeps each name, and renames a forgotten text', () => {
    const names = new StatementNames(2);
    const first = names.nameFor('select $1');
    expect(first).toBeDefined();
    expect(names.nameFor('select $1')).toBe(first);
    expect(names.nameFor('select $1, $2')).toBeDefined();
    expect(names.nameFor('select $1, $2, $3')).toBeUndefined();
    names.forget('select $1');
    const renamed = names.nameFor('select $1');
    expect(renamed).toBeDefined();
    expect(renamed).not.toBe(first);
  });

  it('leaves queries without parameters unnamed: they may hold several statements', async () => {
    const sent: unknown[][] = [];
    const client = { query: async (...args: unknown[]) => sent.push(args) };
    prepareStatements(client as never, new StatementNames());
    await client.query('begin; select 1');
    await client.query('select $1', [1]);
    expect(sent[0]).toEqual(['begin; select 1']);
    expect(sent[1]?.[0]).toMatchObject({ name: expect.stringMatching(/^baton_/), text: 'select $1', values: [1] });
  });
});
