import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { BatonError, type EventBody, initialState, reduceAll, type StoredEvent } from '@baton/core';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatabaseConfig } from '../src/store/database.ts';
import { migrations } from '../src/store/migrations/index.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';
import { IMMEDIATE_PER_TURN } from '../src/store/sqlite-fast-path.ts';

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WORKER = resolve(import.meta.dirname, 'support/store-append-worker.ts');
const MIGRATE_WORKER = resolve(import.meta.dirname, 'support/store-migrate-worker.ts');
const LOCK_HOLDER = resolve(import.meta.dirname, 'support/sqlite-write-lock-holder.ts');
/** Starting Node with tsx takes seconds on a busy CI machine; a bound against hangs, not a timing check. */
const SPAWN_TIMEOUT_MS = 120_000;

interface Backend {
  name: string;
  /** Config that reaches the same database each time it is opened. */
  setUp(): Promise<DatabaseConfig>;
  /** Config for another empty database, dropped by tearDown. */
  fresh(): DatabaseConfig;
  tearDown(): Promise<void>;
}

function sqliteBackend(): Backend {
  let directory = '';
  return {
    name: 'sqlite',
    async setUp() {
      directory = mkdtempSync(join(tmpdir(), 'baton-store-'));
      return { file: join(directory, 'baton.db') };
    },
    fresh() {
      return { file: join(directory, `${randomBytes(4).toString('hex')}.db`) };
    },
    async tearDown() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const schema = `baton_test_${randomBytes(6).toString('hex')}`;
  const schemas = [schema];
  return {
    name: 'postgres',
    async setUp() {
      return { url: POSTGRES_URL, schema };
    },
    fresh() {
      const another = `${schema}_${schemas.length}`;
      schemas.push(another);
      return { url: POSTGRES_URL, schema: another };
    },
    async tearDown() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        for (const name of schemas) await client.query(`drop schema if exists "${name}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

let counter = 0;
function newId(prefix = 'c'): string {
  counter += 1;
  return `${prefix}_${counter}_${randomBytes(4).toString('hex')}`;
}

function message(text: string, author: 'customer' | 'ai' | 'agent' = 'customer'): EventBody {
  return { type: 'message', author, text };
}

async function expectBatonError(promise: Promise<unknown>, code: BatonError['code']): Promise<BatonError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(BatonError.is(error), `expected BatonError(${code}), got ${String(error)}`).toBe(true);
  const batonError = error as BatonError;
  expect(batonError.code).toBe(code);
  return batonError;
}

function expectGapless(events: StoredEvent[], count: number): void {
  expect(events.map((event) => event.seq)).toEqual(Array.from({ length: count }, (_, index) => index + 1));
}

describe.each([sqliteBackend(), postgresBackend()])('Store contract: $name', (backend) => {
  let config: DatabaseConfig;
  let store: SqlStore;

  async function newConversation(overrides: { id?: string; industry?: string } = {}) {
    return store.createConversation({
      id: overrides.id ?? newId(),
      industry: overrides.industry ?? 'finance',
      channel: 'widget',
      customerName: 'Dana',
      customerTokenHash: 'a'.repeat(64),
      owner: { kind: 'ai' },
    });
  }

  beforeAll(async () => {
    config = await backend.setUp();
    store = createStore(config);
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await backend.tearDown();
  });

  it('reports its dialect and migrates idempotently', async () => {
    expect(store.dialect).toBe(backend.name);
    await store.migrate();
  });

  it('rolls back a failing migration completely', async () => {
    const freshConfig = backend.fresh();
    const broken = createStore(freshConfig, {
      migrations: {
        ...migrations,
        '999-broken': {
          async up(db) {
            await db.schema.createTable('half_done').addColumn('id', 'text').execute();
            throw new Error('boom');
          },
        },
      },
    });
    try {
      await expectBatonError(broken.migrate(), 'internal');
      // PostgreSQL's introspection sees every schema; look only at this one.
      const tables = (await broken.handle.db.introspection.getTables())
        .filter((table) => freshConfig.schema === undefined || table.schema === freshConfig.schema)
        .map((table) => table.name);
      expect(tables).not.toContain('half_done');
      expect(tables).not.toContain('conversations');
    } finally {
      await broken.close();
    }
  });

  it(
    'migrates a fresh database from several processes at once',
    async () => {
      const freshConfig = backend.fresh();
      const children = Array.from({ length: 2 }, () =>
        spawn(process.execPath, ['--import', 'tsx', MIGRATE_WORKER, JSON.stringify(freshConfig)], {
          stdio: ['ignore', 'inherit', 'pipe'],
        }),
      );
      const stderr = children.map((child) => {
        const chunks: Buffer[] = [];
        child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
        return () => Buffer.concat(chunks).toString();
      });
      // 'close', not 'exit': the pipes are drained by then.
      const codes = await Promise.all(
        children.map((child) => new Promise<number | null>((resolveClose) => child.once('close', resolveClose))),
      );
      expect(codes, `the migrating processes wrote:\n${stderr.map((text) => text()).join('\n')}`).toEqual([0, 0]);
      const migrated = createStore(freshConfig);
      try {
        await migrated.migrate();
        const conversation = await migrated.createConversation({
          id: newId(),
          industry: 'other',
          channel: 'api',
          customerTokenHash: 'x',
          owner: { kind: 'ai' },
        });
        expect((await migrated.append(conversation.id, [message('hi')]))[0]?.seq).toBe(1);
      } finally {
        await migrated.close();
      }
    },
    SPAWN_TIMEOUT_MS,
  );

  it('creates, gets and lists conversations', async () => {
    const industry = `industry_${newId()}`;
    const created = await newConversation({ industry });
    expect(created).toMatchObject({ industry, channel: 'widget', status: 'active', owner: { kind: 'ai' }, lastSeq: 0 });
    expect(created.botId).toBeNull();
    expect(await store.getConversation(created.id)).toEqual(created);
    expect(await store.getConversation('missing')).toBeUndefined();

    const queued = await newConversation();
    await store.append(queued.id, [
      { type: 'handoff.requested', trigger: 'customer_request', priority: 'high', skills: [] },
    ]);
    const listedQueued = await store.listConversations({ status: ['queued'] });
    expect(listedQueued.map((conversation) => conversation.id)).toContain(queued.id);
    expect(listedQueued.map((conversation) => conversation.id)).not.toContain(created.id);
    expect(listedQueued.every((conversation) => conversation.status === 'queued')).toBe(true);
    expect(await store.listConversations({ limit: 1 })).toHaveLength(1);
    expect(await store.listConversations({ status: [] })).toEqual([]);

    await expectBatonError(newConversation({ id: created.id }), 'conflict');
  });

  it('lists by last activity, newest first, the same across minutes (the indexes hold the minute)', async () => {
    // Only Date is faked: the stores' timers and I/O run as usual.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const industry = `industry_${newId()}`;
      vi.setSystemTime(new Date('2031-05-04T10:00:05.000Z'));
      const a = await newConversation({ industry });
      const b = await newConversation({ industry });
      const c = await newConversation({ industry });
      const d = await newConversation({ industry });
      vi.setSystemTime(new Date('2031-05-04T10:00:50.000Z'));
      await store.append(a.id, [message('first in the old minute')]);
      vi.setSystemTime(new Date('2031-05-04T10:01:10.000Z'));
      await store.append(b.id, [message('latest')]);
      vi.setSystemTime(new Date('2031-05-04T10:01:02.000Z'));
      await store.append(c.id, [message('earlier in the new minute')]);
      vi.setSystemTime(new Date('2031-05-04T10:00:55.000Z'));
      // Within its minute: no index written, the list still sees the new instant.
      await store.append(a.id, [message('again in the old minute')]);

      const listed = (await store.listConversations({ limit: 500 })).filter((row) => row.industry === industry);
      expect(listed.map((row) => [row.id, row.updatedAt])).toEqual([
        [b.id, '2031-05-04T10:01:10.000Z'],
        [c.id, '2031-05-04T10:01:02.000Z'],
        [a.id, '2031-05-04T10:00:55.000Z'],
        [d.id, '2031-05-04T10:00:05.000Z'],
      ]);
      const minutes = await sql<{ id: string; active_minute: string }>`
        select id, active_minute from conversations where id in (${sql.join([a.id, b.id, c.id, d.id])})
        order by id`.execute(store.handle.db);
      expect(Object.fromEntries(minutes.rows.map((row) => [row.id, row.active_minute]))).toEqual({
        [a.id]: '2031-05-04T10:00',
        [b.id]: '2031-05-04T10:01',
        [c.id]: '2031-05-04T10:01',
        [d.id]: '2031-05-04T10:00',
      });
      const active = await store.listConversations({ status: ['active'], limit: 500 });
      expect(active.filter((row) => row.industry === industry).map((row) => row.id)).toEqual([b.id, c.id, a.id, d.id]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('migration 006 gives existing conversations their minute of activity, and the list its order', async () => {
    const freshConfig = backend.fresh();
    const before = Object.fromEntries(
      Object.entries(migrations).filter(([name]) => name < '006-conversation-activity'),
    );
    const old = createStore(freshConfig, { migrations: before });
    try {
      await old.migrate();
      const rows = [
        ['c_old_1', '2031-01-01T09:59:59.999Z'],
        ['c_old_2', '2031-01-01T10:00:00.000Z'],
        ['c_old_3', '2031-01-01T09:59:00.000Z'],
      ];
      for (const [id, at] of rows) {
        await sql`insert into conversations (id, industry, channel, bot_id, customer_name, customer_token_hash,
            status, owner, last_seq, created_at, updated_at)
          values (${id}, 'finance', 'widget', null, null, ${'a'.repeat(64)}, 'active', '{"kind":"ai"}', 0, ${at}, ${at})`.execute(
          old.handle.db,
        );
      }
    } finally {
      await old.close();
    }
    const migrated = createStore(freshConfig);
    try {
      await migrated.migrate();
      const minutes = await sql<{ id: string; active_minute: string }>`
        select id, active_minute from conversations order by id`.execute(migrated.handle.db);
      expect(minutes.rows).toEqual([
        { id: 'c_old_1', active_minute: '2031-01-01T09:59' },
        { id: 'c_old_2', active_minute: '2031-01-01T10:00' },
        { id: 'c_old_3', active_minute: '2031-01-01T09:59' },
      ]);
      expect((await migrated.listConversations()).map((row) => row.id)).toEqual(['c_old_2', 'c_old_1', 'c_old_3']);
      // The next append in the row's minute claims it as usual.
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(new Date('2031-01-01T09:59:30.000Z'));
        const [event] = await migrated.append('c_old_3', [message('hello again')]);
        expect(event?.seq).toBe(1);
      } finally {
        vi.useRealTimers();
      }
      expect((await migrated.listConversations()).map((row) => row.id)).toEqual(['c_old_2', 'c_old_1', 'c_old_3']);
    } finally {
      await migrated.close();
    }
  });

  it("migration 007 fills each agent's last offer from its offers, and the database keeps it on every offer", async () => {
    const freshConfig = backend.fresh();
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '007-agent-last-offer'));
    const agentsAndOffers = async (db: SqlStore['handle']['db'], offers: [string, string, string][]) => {
      for (const [id, agentId, createdAt] of offers) {
        await sql`insert into desk_offers (id, conversation_id, episode, agent_id, queue, state, waiting_since,
            created_at, expires_at, decided_at)
          values (${id}, ${`c-${id}`}, 1, ${agentId}, 'general', 'declined', ${createdAt}, ${createdAt},
            '2099-01-01T00:00:00.000Z', null)`.execute(db);
      }
    };
    const old = createStore(freshConfig, { migrations: before });
    try {
      await old.migrate();
      for (const id of ['a-offered', 'a-never']) {
        await sql`insert into agents (id, email, name, role, password_hash, skills, languages, capacity, presence, created_at)
          values (${id}, ${`${id}@example.test`}, ${id}, 'agent', 'x', '[]', '[]', 3, 'online', '2026-01-01T00:00:00.000Z')`.execute(
          old.handle.db,
        );
      }
      await agentsAndOffers(old.handle.db, [
        ['o1', 'a-offered', '2026-01-03T00:00:00.000Z'],
        ['o2', 'a-offered', '2026-01-01T00:00:00.000Z'],
      ]);
    } finally {
      await old.close();
    }
    const migrated = createStore(freshConfig);
    const lastOffers = async () =>
      Object.fromEntries(
        (
          await sql<{ id: string; last_offered_at: string | null }>`
            select id, last_offered_at from agents order by id`.execute(migrated.handle.db)
        ).rows.map((row) => [row.id, row.last_offered_at]),
      );
    try {
      await migrated.migrate();
      expect(await lastOffers()).toEqual({ 'a-never': null, 'a-offered': '2026-01-03T00:00:00.000Z' });
      // An offer written afterwards, however it is written, moves it on; an older one does not move it back.
      await agentsAndOffers(migrated.handle.db, [
        ['o3', 'a-offered', '2026-01-02T00:00:00.000Z'],
        ['o4', 'a-never', '2026-01-05T00:00:00.000Z'],
      ]);
      expect(await lastOffers()).toEqual({
        'a-never': '2026-01-05T00:00:00.000Z',
        'a-offered': '2026-01-03T00:00:00.000Z',
      });
      await agentsAndOffers(migrated.handle.db, [['o5', 'a-offered', '2026-01-06T00:00:00.000Z']]);
      expect((await lastOffers())['a-offered']).toBe('2026-01-06T00:00:00.000Z');
    } finally {
      await migrated.close();
    }
  });

  it('verifies the customer token by its hash', async () => {
    const conversation = await newConversation();
    expect(await store.verifyCustomerToken(conversation.id, 'a'.repeat(64))).toBe(true);
    expect(await store.verifyCustomerToken(conversation.id, 'b'.repeat(64))).toBe(false);
    expect(await store.verifyCustomerToken('missing', 'a'.repeat(64))).toBe(false);
  });

  it('appends events with consecutive seqs and reads them after a seq, with a limit', async () => {
    const conversation = await newConversation();
    const first = await store.append(conversation.id, [message('hello'), message('hi, how can I help?', 'ai')]);
    expect(first.map((event) => event.seq)).toEqual([1, 2]);
    expect(first[0]).toMatchObject({ conversationId: conversation.id, type: 'message', text: 'hello' });
    const second = await store.append(conversation.id, [message('one'), message('two'), message('three')]);
    expect(second.map((event) => event.seq)).toEqual([3, 4, 5]);

    expect(await store.readEvents(conversation.id)).toEqual([...first, ...second]);
    expect((await store.readEvents(conversation.id, 2)).map((event) => event.seq)).toEqual([3, 4, 5]);
    expect((await store.readEvents(conversation.id, 1, 2)).map((event) => event.seq)).toEqual([2, 3]);
    expect(await store.readEvents(conversation.id, 5)).toEqual([]);
    expect(await store.readEvents('missing')).toEqual([]);
    expect(await store.getConversation(conversation.id)).toMatchObject({ lastSeq: 5, updatedAt: second[2]?.at });
    expect(await store.append(conversation.id, [])).toEqual([]);
    expect(await store.getConversation(conversation.id)).toMatchObject({ lastSeq: 5, updatedAt: second[2]?.at });
  });

  it('applies the schema defaults to events given in input form', async () => {
    const conversation = await newConversation();
    const [stored] = await store.append(conversation.id, [
      { type: 'action', name: 'reset_password', outcome: 'succeeded' },
    ]);
    expect(stored).toMatchObject({ type: 'action', actor: 'ai', seq: 1 });
    expect(await store.readEvents(conversation.id)).toEqual([stored]);
  });

  it('keeps owner and status in step with the handoff events', async () => {
    const conversation = await newConversation();
    await store.append(conversation.id, [
      message('I want a person'),
      { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: ['billing'] },
      { type: 'handoff.queued', queue: 'billing' },
    ]);
    expect(await store.getConversation(conversation.id)).toMatchObject({
      status: 'queued',
      owner: { kind: 'queue', queue: 'billing' },
    });
    await store.append(conversation.id, [{ type: 'handoff.offered', agentId: 'agent_1' }]);
    expect((await store.getConversation(conversation.id))?.status).toBe('offered');
    await store.append(conversation.id, [{ type: 'handoff.accepted', agentId: 'agent_1', agentName: 'Sam' }]);
    expect(await store.getConversation(conversation.id)).toMatchObject({
      status: 'assigned',
      owner: { kind: 'agent', id: 'agent_1', name: 'Sam' },
      lastSeq: 5,
    });
    await store.append(conversation.id, [{ type: 'handoff.resolved', byAgentId: 'agent_1' }]);
    expect(await store.getConversation(conversation.id)).toMatchObject({ status: 'resolved', owner: { kind: 'none' } });
  });

  it('keeps the stored owner and status equal to reducing the whole log', async () => {
    const conversation = await newConversation();
    const steps: EventBody[] = [
      { type: 'handoff.requested', trigger: 'policy', priority: 'high', skills: ['clinical'] },
      { type: 'handoff.queued', queue: 'nurses' },
      { type: 'handoff.offered', agentId: 'agent_1' },
      { type: 'handoff.declined', agentId: 'agent_1' },
      { type: 'handoff.offered', agentId: 'agent_2' },
      { type: 'handoff.expired', agentId: 'agent_2' },
      { type: 'handoff.offered', agentId: 'agent_3' },
      { type: 'handoff.accepted', agentId: 'agent_3' },
      message('on it', 'agent'),
      { type: 'handoff.transferred', fromAgentId: 'agent_3', queue: 'billing', skills: ['billing'] },
      { type: 'handoff.accepted', agentId: 'agent_4' },
      { type: 'handoff.returned', fromAgentId: 'agent_4' },
      message('back with the AI', 'ai'),
      { type: 'handoff.callback', reason: 'after hours' },
      { type: 'handoff.requested', trigger: 'manual', priority: 'normal', skills: [] },
      { type: 'handoff.resolved' },
    ];
    // Batches of 1, 2, 3… so state carries across appends as well as within one.
    for (let start = 0, size = 1; start < steps.length; start += size, size += 1) {
      await store.append(conversation.id, steps.slice(start, start + size));
      const log = await store.readEvents(conversation.id);
      const expected = reduceAll(log, initialState({ kind: 'ai' }));
      expect(await store.getConversation(conversation.id)).toMatchObject({
        owner: expected.owner,
        status: expected.status,
        lastSeq: expected.lastSeq,
      });
    }
  });

  it('gives 50 concurrent writers to one conversation gapless, unique seqs', async () => {
    const conversation = await newConversation();
    const writers = 50;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, writer) =>
        store.append(conversation.id, [message(`w${writer}-a`), message(`w${writer}-b`)]),
      ),
    );
    for (const batch of results) {
      expect(batch).toHaveLength(2);
      expect(batch[1]!.seq).toBe(batch[0]!.seq + 1);
    }
    const events = await store.readEvents(conversation.id);
    expectGapless(events, writers * 2);
    // Each writer's batch sits together, in its own order.
    for (const batch of results) {
      const stored = events.slice(batch[0]!.seq - 1, batch[0]!.seq + 1);
      expect(stored).toEqual(batch);
    }
    expect((await store.getConversation(conversation.id))?.lastSeq).toBe(writers * 2);
  });

  it(
    'stays gapless while another process appends to the same conversation',
    async () => {
      const conversation = await newConversation();
      const writers = 25;
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          WORKER,
          JSON.stringify({ ...config, conversationId: conversation.id, writers, tag: 'child' }),
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      try {
        const lines = childLines(child);
        expect(await lines.next()).toBe('ready');
        child.stdin?.write('go\n');
        const parentWrites = Promise.all(
          Array.from({ length: writers }, (_, writer) =>
            store.append(conversation.id, [message(`parent-${writer}-a`), message(`parent-${writer}-b`)]),
          ),
        );
        const [childSaid] = await Promise.all([lines.next(), parentWrites]);
        expect(childSaid).toBe('done');
        expect(await exitCode(child)).toBe(0);
      } finally {
        child.kill();
      }
      const events = await store.readEvents(conversation.id);
      expectGapless(events, writers * 4);
      const texts = events.map((event) => (event.type === 'message' ? event.text : ''));
      for (const tag of ['parent', 'child']) {
        for (let writer = 0; writer < writers; writer += 1) {
          const position = texts.indexOf(`${tag}-${writer}-a`);
          expect(position, `${tag}-${writer}`).toBeGreaterThanOrEqual(0);
          expect(texts[position + 1]).toBe(`${tag}-${writer}-b`);
        }
      }
    },
    SPAWN_TIMEOUT_MS,
  );

  it('stays gapless with a second store on the same database in this process', async () => {
    const conversation = await newConversation();
    const second = createStore(config);
    try {
      const writers = 20;
      await Promise.all(
        Array.from({ length: writers }, (_, writer) =>
          Promise.all([
            store.append(conversation.id, [message(`first-${writer}`)]),
            second.append(conversation.id, [message(`second-${writer}`)]),
          ]),
        ),
      );
      expectGapless(await store.readEvents(conversation.id), writers * 2);
    } finally {
      await second.close();
    }
  });

  it('rejects an append whose expectedLastSeq is stale, writing nothing', async () => {
    const conversation = await newConversation();
    await store.append(conversation.id, [message('one'), message('two')]);
    const ok = await store.append(conversation.id, [message('three')], { expectedLastSeq: 2 });
    expect(ok[0]?.seq).toBe(3);
    const error = await expectBatonError(
      store.append(conversation.id, [message('stale')], { expectedLastSeq: 2 }),
      'conflict',
    );
    expect(error.details).toMatchObject({ lastSeq: 3, expectedLastSeq: 2 });
    expect((await store.readEvents(conversation.id)).map((event) => event.seq)).toEqual([1, 2, 3]);
    expect((await store.getConversation(conversation.id))?.lastSeq).toBe(3);
  });

  it('writes the same with a caller snapshot, whether it is current, stale or wrong', async () => {
    const conversation = await newConversation();
    const asked: EventBody = { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] };
    // Current: the one-statement path on PostgreSQL; the owner moves with the events.
    const first = await store.append(conversation.id, [message('a person please'), asked], {
      snapshot: { lastSeq: 0, owner: { kind: 'ai' }, status: 'active' },
    });
    expect(first.map((event) => event.seq)).toEqual([1, 2]);
    expect(await store.getConversation(conversation.id)).toMatchObject({ lastSeq: 2, status: 'queued' });
    // Stale (someone appended since): nothing is written on its say-so; the append lands after what is there.
    const stale = await store.append(conversation.id, [{ type: 'handoff.queued', queue: 'billing' }], {
      snapshot: { lastSeq: 0, owner: { kind: 'ai' }, status: 'active' },
    });
    expect(stale.map((event) => event.seq)).toEqual([3]);
    // A snapshot that disagrees with what is stored at its seq: the stored state decides.
    await store.append(conversation.id, [{ type: 'handoff.accepted', agentId: 'agent_1', agentName: 'Sam' }], {
      snapshot: { lastSeq: 3, owner: { kind: 'ai' }, status: 'active' },
    });
    const log = await store.readEvents(conversation.id);
    expect(log.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    const expected = reduceAll(log, initialState({ kind: 'ai' }));
    expect(await store.getConversation(conversation.id)).toMatchObject({
      lastSeq: 4,
      status: 'assigned',
      owner: expected.owner,
    });
    // A stale snapshot never hides a stale expectation.
    await expectBatonError(
      store.append(conversation.id, [message('late')], {
        expectedLastSeq: 3,
        snapshot: { lastSeq: 3, owner: { kind: 'queue', queue: 'billing' }, status: 'queued' },
      }),
      'conflict',
    );
    expect(await store.readEvents(conversation.id)).toHaveLength(4);
  });

  it('lets exactly one of two racing appends with the same expectedLastSeq win', async () => {
    const conversation = await newConversation();
    const outcomes = await Promise.allSettled([
      store.append(conversation.id, [{ type: 'handoff.accepted', agentId: 'agent_a' }], { expectedLastSeq: 0 }),
      store.append(conversation.id, [{ type: 'handoff.accepted', agentId: 'agent_b' }], { expectedLastSeq: 0 }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((outcome) => outcome.status === 'rejected');
    expect(BatonError.is(rejected?.reason) && rejected.reason.code).toBe('conflict');
    expect(await store.readEvents(conversation.id)).toHaveLength(1);
  });

  it('aborts the append when the precondition throws, writing nothing', async () => {
    const conversation = await newConversation();
    await store.append(conversation.id, [{ type: 'handoff.accepted', agentId: 'agent_1' }]);
    const onlyTheOwnerSpeaks = (current: { owner: { kind: string } }) => {
      if (current.owner.kind !== 'ai') throw new BatonError('not_owner', 'a human owns this conversation');
    };
    await expectBatonError(
      store.append(conversation.id, [message('AI speaking', 'ai')], { precondition: onlyTheOwnerSpeaks }),
      'not_owner',
    );
    expect(await store.readEvents(conversation.id)).toHaveLength(1);
    expect((await store.getConversation(conversation.id))?.lastSeq).toBe(1);
  });

  it('rejects unknown conversations and invalid events without writing', async () => {
    await expectBatonError(store.append('no_such_conversation', [message('hello')]), 'not_found');
    const conversation = await newConversation();
    const invalid = { type: 'message', author: 'customer', text: '   ' } as EventBody;
    await expectBatonError(store.append(conversation.id, [message('fine'), invalid]), 'invalid_input');
    const unknownType = { type: 'nonsense' } as unknown as EventBody;
    await expectBatonError(store.append(conversation.id, [unknownType]), 'invalid_input');
    expect(await store.readEvents(conversation.id)).toEqual([]);
    expect((await store.getConversation(conversation.id))?.lastSeq).toBe(0);
  });

  it('rolls back the whole batch when an insert fails half-way', async () => {
    const conversation = await newConversation();
    await store.append(conversation.id, [message('one')]);
    // A stray row where the batch's second event must go makes the insert fail inside the transaction.
    await store.handle.db
      .insertInto('events')
      .values({ conversation_id: conversation.id, seq: 3, type: 'message', at: 'x', body: '{}' })
      .execute();
    await expect(store.append(conversation.id, [message('two'), message('three')])).rejects.toThrow();
    const stored = await store.getConversation(conversation.id);
    expect(stored?.lastSeq).toBe(1);
    expect((await store.readEvents(conversation.id)).map((event) => event.seq)).toEqual([1, 3]);
    // The store still works after the failed transaction.
    await store.handle.db
      .deleteFrom('events')
      .where('conversation_id', '=', conversation.id)
      .where('seq', '=', 3)
      .execute();
    expect((await store.append(conversation.id, [message('two')]))[0]?.seq).toBe(2);
  });

  it('keeps everything across a restart', async () => {
    const conversation = await newConversation();
    const appended = await store.append(conversation.id, [
      message('before restart'),
      { type: 'handoff.requested', trigger: 'frustration', priority: 'high', skills: [] },
    ]);
    const agent = await store.createAgent({
      id: newId('agent'),
      email: `${newId()}@example.com`,
      name: 'Ari',
      passwordHash: 'kdf',
    });
    await store.close();
    store = createStore(config);
    await store.migrate();
    expect(await store.readEvents(conversation.id)).toEqual(appended);
    expect(await store.getConversation(conversation.id)).toMatchObject({ status: 'queued', lastSeq: 2 });
    expect(await store.getAgent(agent.id)).toEqual(agent);
    expect((await store.append(conversation.id, [message('after restart')]))[0]?.seq).toBe(3);
  });

  it('stores agents and finds them by email, case-insensitively', async () => {
    const id = newId('agent');
    const email = `${id}@Example.com`;
    const agent = await store.createAgent({
      id,
      email: ` ${email} `,
      name: 'Sam Rivera',
      passwordHash: 'scrypt$hash',
      role: 'supervisor',
      skills: ['billing', 'clinical'],
      languages: ['en', 'es'],
      capacity: 4,
    });
    expect(agent).toMatchObject({
      id,
      email: email.toLowerCase(),
      role: 'supervisor',
      skills: ['billing', 'clinical'],
      languages: ['en', 'es'],
      capacity: 4,
      presence: 'offline',
    });
    expect(agent).not.toHaveProperty('passwordHash');
    expect(await store.getAgent(id)).toEqual(agent);
    expect(await store.findAgentByEmail(email.toUpperCase())).toEqual({ ...agent, passwordHash: 'scrypt$hash' });
    expect(await store.findAgentByEmail('nobody@example.com')).toBeUndefined();
    expect((await store.listAgents()).map((listed) => listed.id)).toContain(id);

    expect(await store.setAgentPresence(id, 'online')).toMatchObject({ id, presence: 'online' });
    expect((await store.getAgent(id))?.presence).toBe('online');
    // The server's reason is kept with the presence it set, and cleared by one the agent chooses.
    expect(await store.setAgentPresence(id, 'offline', 'console_closed')).toMatchObject({
      presence: 'offline',
      presenceReason: 'console_closed',
    });
    expect((await store.getAgent(id))?.presenceReason).toBe('console_closed');
    expect(await store.setAgentPresence(id, 'online')).not.toHaveProperty('presenceReason');
    expect((await store.getAgent(id))?.presenceReason).toBeUndefined();
    await expectBatonError(store.setAgentPresence('missing', 'online'), 'not_found');
    await expectBatonError(
      store.createAgent({ id: newId('agent'), email, name: 'Dup', passwordHash: 'x' }),
      'conflict',
    );
  });

  it('finds sessions only by token hash and only until they expire', async () => {
    const agent = await store.createAgent({
      id: newId('agent'),
      email: `${newId()}@example.com`,
      name: 'A',
      passwordHash: 'x',
    });
    const now = new Date('2030-01-01T00:00:00.000Z');
    const session = { tokenHash: newId('token'), agentId: agent.id, expiresAt: '2030-01-01T01:00:00.000Z' };
    await store.createSession(session);
    expect(await store.getValidSession(session.tokenHash, now)).toEqual(session);
    expect(await store.getValidSession(session.tokenHash, new Date('2030-01-01T01:00:00.000Z'))).toBeUndefined();
    expect(await store.getValidSession('other', now)).toBeUndefined();
    // The agent behind a session, in one read, under the same rule.
    expect(await store.getSessionAgent(session.tokenHash, now)).toEqual(await store.getAgent(agent.id));
    expect(await store.getSessionAgent(session.tokenHash, new Date('2030-01-01T01:00:00.000Z'))).toBeUndefined();
    expect(await store.getSessionAgent('other', now)).toBeUndefined();
    await expectBatonError(
      store.createSession({ ...session, tokenHash: newId('token'), agentId: 'missing' }),
      'not_found',
    );
    await store.deleteSession(session.tokenHash);
    expect(await store.getValidSession(session.tokenHash, now)).toBeUndefined();
    expect(await store.getSessionAgent(session.tokenHash, now)).toBeUndefined();
  });

  it('finds api keys by hash', async () => {
    const keyHash = newId('key');
    const created = await store.createApiKey({
      keyHash,
      name: 'Acme bot',
      botId: 'acme',
      webhookUrl: 'https://bot.example.com/hook',
      webhookSecret: 'whsec',
    });
    expect(await store.findApiKey(keyHash)).toEqual(created);
    expect(created).toMatchObject({
      botId: 'acme',
      webhookUrl: 'https://bot.example.com/hook',
      webhookSecret: 'whsec',
    });
    expect(await store.findApiKey('other')).toBeUndefined();
    await expectBatonError(store.createApiKey({ keyHash, name: 'again' }), 'conflict');
  });

  it('appends and lists the audit log by conversation, oldest first', async () => {
    const conversation = await newConversation();
    const first = await store.appendAudit({
      actorKind: 'agent',
      actorId: 'agent_1',
      action: 'conversation.viewed',
      conversationId: conversation.id,
      detail: { fields: ['diagnosis'] },
    });
    const second = await store.appendAudit({
      actorKind: 'system',
      action: 'conversation.exported',
      conversationId: conversation.id,
    });
    await store.appendAudit({ actorKind: 'system', action: 'conversation.viewed', conversationId: 'other' });
    expect(second.id).toBeGreaterThan(first.id);
    expect(await store.listAudit(conversation.id)).toEqual([first, second]);
    expect(first).toMatchObject({ actorKind: 'agent', actorId: 'agent_1', detail: { fields: ['diagnosis'] } });
    expect(second).toMatchObject({ actorId: null, detail: {} });
  });

  it.each(['the same store', 'a second store on the same database'])(
    'keeps appends out of a transaction in flight on %s: gapless, and not rolled back with it',
    async (where) => {
      const conversation = await newConversation();
      const other = where === 'the same store' ? store : createStore(config);
      try {
        let release: () => void = () => {};
        const gate = new Promise<void>((resolveGate) => {
          release = resolveGate;
        });
        let opened: () => void = () => {};
        const open = new Promise<void>((resolveOpen) => {
          opened = resolveOpen;
        });
        const transaction = other.handle.db.transaction().execute(async (trx) => {
          await trx
            .insertInto('audit_log')
            .values({
              at: new Date().toISOString(),
              actor_kind: 'system',
              action: 'test.rolled_back',
              conversation_id: conversation.id,
              detail: '{}',
            })
            .execute();
          opened();
          await gate;
          throw new Error('roll back');
        });
        await open;
        const writers = 10;
        let settled = 0;
        const appends = Array.from({ length: writers }, (_, writer) =>
          store.append(conversation.id, [message(`w${writer}`)]).finally(() => {
            settled += 1;
          }),
        );
        const audit = store.appendAudit({ actorKind: 'system', action: 'test.kept', conversationId: conversation.id });
        const read = store.getConversation(conversation.id);
        // Everything that could run without waiting has run by now.
        await new Promise((resolveTurn) => setImmediate(resolveTurn));
        // One connection: the appends wait for the transaction instead of running inside it.
        if (store.handle.capabilities.singleConnection) expect(settled).toBe(0);
        release();
        await expect(transaction).rejects.toThrow('roll back');
        const results = await Promise.all(appends);
        expect(results.map((batch) => batch[0]?.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
          Array.from({ length: writers }, (_, index) => index + 1),
        );
        expect((await read)?.id).toBe(conversation.id);
        await audit;
        expectGapless(await store.readEvents(conversation.id), writers);
        expect((await store.getConversation(conversation.id))?.lastSeq).toBe(writers);
        expect((await store.listAudit(conversation.id)).map((entry) => entry.action)).toEqual(['test.kept']);
      } finally {
        if (other !== store) await other.close();
      }
    },
  );

  it('isolates work in its own schema or file', async () => {
    const tables = await sql<{ count: number | string }>`select count(*) as count from conversations`.execute(
      store.handle.db,
    );
    expect(Number(tables.rows[0]?.count)).toBeGreaterThan(0);
  });
});

describe('SQLite fast path', () => {
  let directory = '';
  let file = '';
  let conversationId = '';

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'baton-fast-path-'));
    file = join(directory, 'baton.db');
    const setup = createStore({ file });
    try {
      await setup.migrate();
    } finally {
      await setup.close();
    }
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  async function conversationWithOneEvent(store: SqlStore): Promise<string> {
    conversationId = newId();
    await store.createConversation({
      id: conversationId,
      industry: 'other',
      channel: 'api',
      customerTokenHash: 'x',
      owner: { kind: 'ai' },
    });
    await store.append(conversationId, [message('first')]);
    return conversationId;
  }

  function holdWriteLock(options: { holdMs?: number }): ChildProcess {
    return spawn(
      process.execPath,
      ['--import', 'tsx', LOCK_HOLDER, JSON.stringify({ file, conversationId, ...options })],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
  }

  it(
    "waits for another process's write lock, then appends after its event",
    async () => {
      const store = createStore({ file });
      const conversation = await conversationWithOneEvent(store);
      // The child commits on its own: this process's thread is blocked in SQLite's busy wait meanwhile.
      const child = holdWriteLock({ holdMs: 300 });
      try {
        const lines = childLines(child);
        expect(await lines.next()).toBe('locked');
        const [appended] = await store.append(conversation, [message('after the other process')]);
        expect(appended?.seq).toBe(3);
        expect(await lines.next()).toBe('committed');
        expect(await exitCode(child)).toBe(0);
        const texts = (await store.readEvents(conversation)).map((event) => event.type === 'message' && event.text);
        expect(texts).toEqual(['first', 'from the other process', 'after the other process']);
      } finally {
        child.kill();
        await store.close();
      }
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    'says unavailable when the write lock stays taken past busy_timeout, writing nothing',
    async () => {
      const store = createStore({ file, busyTimeoutMs: 50 });
      const conversation = await conversationWithOneEvent(store);
      const child = holdWriteLock({});
      try {
        const lines = childLines(child);
        expect(await lines.next()).toBe('locked');
        const error = await expectBatonError(store.append(conversation, [message('too early')]), 'unavailable');
        expect(error.isRetryable).toBe(true);
        // WAL: reads go on beside the other process's write.
        expect((await store.readEvents(conversation)).map((event) => event.seq)).toEqual([1]);
        child.stdin?.write('commit\n');
        expect(await lines.next()).toBe('committed');
        expect(await exitCode(child)).toBe(0);
        expect((await store.append(conversation, [message('now')]))[0]?.seq).toBe(3);
        expectGapless(await store.readEvents(conversation), 3);
      } finally {
        child.kill();
        await store.close();
      }
    },
    SPAWN_TIMEOUT_MS,
  );

  it('commits appends asked for together as one group; one that fails is rolled back alone', async () => {
    const store = createStore({ file });
    try {
      const [first, second, third] = [
        await conversationWithOneEvent(store),
        await conversationWithOneEvent(store),
        await conversationWithOneEvent(store),
      ] as [string, string, string];
      // A stray row where the third conversation's second new event must go: that insert fails half-way.
      await store.handle.db
        .insertInto('events')
        .values({ conversation_id: third, seq: 3, type: 'message', at: 'x', body: '{}' })
        .execute();
      // Asked for in one tick: the first few run at once (a fourth conversation's), the rest as one group.
      const fourth = await conversationWithOneEvent(store);
      const immediate = Array.from({ length: IMMEDIATE_PER_TURN }, (_, index) =>
        store.append(fourth, [message(`at once ${index}`)]),
      );
      const outcomes = await Promise.allSettled([
        store.append(first, [message('a')]),
        store.append(second, [message('stale')], { expectedLastSeq: 0 }),
        store.append(third, [message('two'), message('three')]),
        store.append(first, [message('b'), message('c')]),
        store.append(second, [message('d')]),
      ]);
      expect((await Promise.all(immediate)).flat().map((event) => event.seq)).toEqual(
        Array.from({ length: IMMEDIATE_PER_TURN }, (_, index) => index + 2),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      const seqs = (index: number) => {
        const outcome = outcomes[index];
        return outcome?.status === 'fulfilled' ? outcome.value.map((event) => event.seq) : [];
      };
      expect([seqs(0), seqs(3), seqs(4)]).toEqual([[2], [3, 4], [2]]);
      const reason = outcomes[1]?.status === 'rejected' ? outcomes[1].reason : undefined;
      expect(BatonError.is(reason) && reason.code).toBe('conflict');
      const texts = async (id: string) =>
        (await store.readEvents(id)).map((event) => (event.type === 'message' ? event.text : event.type));
      expect(await texts(first)).toEqual(['first', 'a', 'b', 'c']);
      expect(await texts(second)).toEqual(['first', 'd']);
      // Nothing of the failed append is left: not its first row, not its seq claim.
      expect((await store.readEvents(third)).map((event) => event.seq)).toEqual([1, 3]);
      expect((await store.getConversation(third))?.lastSeq).toBe(1);
      expect((await store.getConversation(first))?.lastSeq).toBe(4);
      // The connection is usable after the group: no transaction or savepoint left open.
      expect((await store.append(second, [message('after')]))[0]?.seq).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('shares the one connection of an in-memory database with Kysely', async () => {
    const store = createStore({ file: ':memory:' });
    try {
      await store.migrate();
      const conversation = await conversationWithOneEvent(store);
      const rows = await store.handle.db
        .selectFrom('events')
        .select('seq')
        .where('conversation_id', '=', conversation)
        .execute();
      expect(rows).toEqual([{ seq: 1 }]);
      expect(await store.getConversation(conversation)).toMatchObject({ lastSeq: 1 });
    } finally {
      await store.close();
    }
  });
});

function childLines(child: ChildProcess): { next(): Promise<string | undefined> } {
  if (!child.stdout) throw new Error('child has no stdout');
  const iterator = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next() {
      const result = await iterator.next();
      return result.done ? undefined : result.value;
    },
  };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
}
