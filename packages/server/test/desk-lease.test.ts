import { BatonError, type ConversationStatus } from '@baton/core';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeskStore, PASS_READS_STATEMENT, PREPARE_PASS_READS } from '../src/routing/desk-store.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';
import { AppendGateClosed } from '../src/store/store.ts';
import { type BackendName, POSTGRES_URL, type TestDatabase, testDatabase } from './support/desk-harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A wait in the general queue, started now, as the router starts one for a handoff request. */
async function startWaiting(desk: DeskStore, conversationId: string, episode: number, now: string) {
  await desk.upsertWaiting({
    conversationId,
    queue: 'general',
    priority: 'normal',
    skills: [],
    excludedAgentIds: [],
    waitingSince: now,
    episode,
    now,
  });
  return (await desk.getHandoff(conversationId))!;
}

for (const backend of ['sqlite', 'postgres'] as BackendName[]) {
  describe(`the desk store on two connections (${backend}): lease and offers`, () => {
    let database: TestDatabase;
    const stores: SqlStore[] = [];

    beforeAll(async () => {
      database = testDatabase(backend);
      // Two stores with their own connections, as two server processes would have.
      for (let index = 0; index < 2; index++) {
        const store =
          backend === 'sqlite'
            ? createStore({ file: `${database.env.BATON_DATA_DIR}/baton.db` })
            : createStore({ url: POSTGRES_URL, schema: database.env.BATON_DATABASE_SCHEMA });
        await store.migrate();
        stores.push(store);
      }
    });

    afterAll(async () => {
      for (const store of stores) await store.close();
      await database?.drop();
    });

    const lease = { waitMs: 5000, leaseMs: 20_000, now: () => new Date() };

    /** `desk` takes the lease and keeps it until `releaseFirst`, then runs `before` and lets go. */
    async function holdLease(desk: DeskStore, before?: () => Promise<void>) {
      let releaseFirst!: () => void;
      const held = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const holding = desk.withLease(async () => {
        entered();
        await held;
        await before?.();
      }, lease);
      await inside;
      return { holding, releaseFirst };
    }

    it('lets one holder at a time work, across connections, and the next goes as soon as it is free', async () => {
      const desks = stores.map((store) => new DeskStore(store.handle));
      const timeline: string[] = [];
      let inside = 0;
      let overlapped = false;
      await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          desks[index % 2]!.withLease(async () => {
            inside += 1;
            if (inside > 1) overlapped = true;
            timeline.push(`in ${index}`);
            await sleep(15);
            timeline.push(`out ${index}`);
            inside -= 1;
            return index;
          }, lease),
        ),
      );
      expect(overlapped).toBe(false);
      expect(timeline).toHaveLength(12);
    });

    it('starts the after-work as the lease is let go, only when the work succeeded', async () => {
      const [first, second] = stores.map((store) => new DeskStore(store.handle));
      const timeline: string[] = [];
      const result = await first!.withLease(
        async () => {
          timeline.push('work');
          return 'done';
        },
        { ...lease, whenReleasing: () => timeline.push('releasing') },
      );
      timeline.push('returned');
      expect(result).toBe('done');
      expect(timeline).toEqual(['work', 'releasing', 'returned']);

      const failed = await first!
        .withLease(
          async () => {
            throw new Error('pass failed');
          },
          { ...lease, whenReleasing: () => timeline.push('released a failed pass') },
        )
        .catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(Error);
      expect(timeline).not.toContain('released a failed pass');
      // A failed pass lets go of the lease all the same.
      await expect(second!.withLease(async () => 'next', { ...lease, waitMs: 1000 })).resolves.toBe('next');
    });

    it('gives up with a retryable unavailable error when the lease stays taken', async () => {
      const [first, second] = stores.map((store) => new DeskStore(store.handle));
      const { holding, releaseFirst } = await holdLease(first!);
      if (backend === 'postgres') {
        // PostgreSQL holds it as an advisory lock (no row polled), so a dead holder cannot keep it.
        const locks = await sql<{
          count: string;
        }>`select count(*) as count from pg_locks where locktype = 'advisory'`.execute(stores[1]!.handle.db);
        expect(Number(locks.rows[0]?.count)).toBeGreaterThanOrEqual(1);
      }
      const error = await second!
        .withLease(async () => 'never', { ...lease, waitMs: 200 })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      releaseFirst();
      await holding;
      expect(BatonError.is(error) && error.code === 'unavailable' && error.isRetryable).toBe(true);
      // Free again: the next caller gets it at once.
      await expect(second!.withLease(async () => 'next', lease)).resolves.toBe('next');
    });

    it('reads the desk for a pass once the lease is held: what the holder before it wrote is there', async () => {
      const [first, second] = stores.map((store) => new DeskStore(store.handle));
      const conversationId = `c_reads_${backend}`;
      // Written while the second waits for the lease, committed before it gets it.
      const { holding, releaseFirst } = await holdLease(first!, async () => {
        await startWaiting(first!, conversationId, 1, new Date().toISOString());
      });
      const reading = second!.withLease(async (reads) => reads, { ...lease, readsAt: new Date() });
      if (backend === 'postgres') {
        // The second's one query (begin, lock, reads) is in, waiting on the lock: reads taken as it began
        // would miss the handoff.
        const waiting = async () =>
          Number(
            (
              await sql<{ count: string }>`select count(*) as count from pg_locks
                where locktype = 'advisory' and not granted`.execute(stores[0]!.handle.db)
            ).rows[0]?.count,
          );
        while ((await waiting()) === 0) await sleep(5);
      }
      releaseFirst();
      await holding;
      const reads = await reading;
      expect(reads?.waiting.map((handoff) => handoff.conversationId)).toContain(conversationId);
      const after = await second!.passReads(new Date());
      expect(reads?.waiting).toEqual(after.waiting);
      expect(reads?.agents).toEqual(after.agents);
      expect(reads?.loads).toEqual(after.loads);
      // Without `readsAt` the work reads for itself.
      await expect(second!.withLease(async (none) => none, lease)).resolves.toBeUndefined();
      await second!.transition(conversationId, ['waiting'], 'closed', new Date().toISOString());
    });

    it.runIf(backend === 'postgres')(
      "prepares the pass's reads once per connection, and prepares them again where a connection lost or has them",
      async () => {
        const desk = new DeskStore(stores[1]!.handle);
        const pool = await stores[1]!.handle.postgresPool!();
        const pass = () => desk.withLease(async (reads) => reads, { ...lease, readsAt: new Date() });
        const expected = await desk.passReads(new Date());
        const onEveryIdle = async (statement: string) => {
          const clients = await Promise.all(Array.from({ length: Math.max(1, pool.idleCount) }, () => pool.connect()));
          const prepared: string[] = [];
          for (const client of clients) {
            await client.query(statement);
            const names = await client.query<{ name: string }>(
              `select name from pg_prepared_statements where name = '${PASS_READS_STATEMENT}'`,
            );
            prepared.push(...names.rows.map((row) => row.name));
          }
          for (const client of clients) client.release();
          return prepared;
        };
        // The first pass on a connection prepares them there; the next ones run what is prepared.
        for (let round = 0; round < 3; round++) expect((await pass())?.agents).toEqual(expected.agents);
        // A session reset (as a pooler may do) forgets them: the next pass prepares them again.
        expect(await onEveryIdle('deallocate all')).toEqual([]);
        expect((await pass())?.waiting).toEqual(expected.waiting);
        expect((await pass())?.loads).toEqual(expected.loads);
        // A connection that has something under that name which this process did not prepare (new
        // connections, opened now, once every idle one is closed): replaced, not trusted.
        // (A pass's own connection goes back to the pool once its commit is answered.)
        while (pool.idleCount < pool.totalCount) await sleep(5);
        const idle = await Promise.all(Array.from({ length: pool.idleCount }, () => pool.connect()));
        for (const client of idle) client.release(true);
        const fresh = await Promise.all(Array.from({ length: 3 }, () => pool.connect()));
        for (const client of fresh) {
          await client.query(`deallocate all; prepare ${PASS_READS_STATEMENT} as select 1 as bogus`);
        }
        for (const client of fresh) client.release();
        for (let round = 0; round < fresh.length; round++) {
          expect((await pass())?.agents).toEqual(expected.agents);
        }
        // And it is the pass's own statement that they hold now.
        expect(PREPARE_PASS_READS.startsWith(`prepare ${PASS_READS_STATEMENT} as select`)).toBe(true);
      },
    );

    it.runIf(backend === 'postgres')(
      "returns once the lease's commit is sent, not answered; a commit that fails closes its connection, letting go all the same",
      async () => {
        // The lease's connections come from a pool whose `commit` this test holds back, or fails, as a slow
        // or broken answer would.
        const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
        let held: Promise<void> = Promise.resolve();
        let failCommit = false;
        pool.on('connect', (client) => {
          const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
          Object.assign(client, {
            query: (...args: unknown[]) => {
              if (args[0] !== 'commit') return query(...args);
              if (failCommit) return Promise.reject(new Error('connection lost'));
              return held.then(() => query(...args));
            },
          });
        });
        const first = new DeskStore({ ...stores[1]!.handle, postgresPool: async () => pool });
        const second = new DeskStore(stores[0]!.handle);
        const releaseErrors: unknown[] = [];
        const options = { ...lease, onReleaseError: (error: unknown) => releaseErrors.push(error) };
        try {
          let answer!: () => void;
          held = new Promise<void>((resolve) => {
            answer = resolve;
          });
          await expect(first.withLease(async () => 'done', options)).resolves.toBe('done');
          // Not let go until the commit goes through: the next pass waits for it in PostgreSQL, then has it.
          let nextHasIt = false;
          const next = second.withLease(async () => {
            nextHasIt = true;
            return 'next';
          }, lease);
          await sleep(200);
          expect(nextHasIt).toBe(false);
          answer();
          await expect(next).resolves.toBe('next');
          // A commit that fails: reported, and its connection closed, which lets go of the lock.
          failCommit = true;
          await expect(first.withLease(async () => 'done again', options)).resolves.toBe('done again');
          await expect(second.withLease(async () => 'after', lease)).resolves.toBe('after');
          expect(releaseErrors).toHaveLength(1);
          expect(String(releaseErrors[0])).toContain('connection lost');
        } finally {
          await pool.end();
        }
      },
    );

    it('keeps routing leadership with one process while it renews, and hands it on once it lapses or is let go', async () => {
      const [a, b] = stores.map((store) => new DeskStore(store.handle));
      const at = (seconds: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, seconds));
      const ttlMs = 3000;
      expect(await a!.holdLeadership('a', at(0), ttlMs)).toBe(true);
      expect(await b!.holdLeadership('b', at(1), ttlMs)).toBe(false);
      // Renewed at 2 s: good until 5 s.
      expect(await a!.holdLeadership('a', at(2), ttlMs)).toBe(true);
      expect(await b!.holdLeadership('b', at(4), ttlMs)).toBe(false);
      // a stopped renewing (it died): b takes over once 5 s has passed, and a cannot take it back.
      expect(await b!.holdLeadership('b', at(6), ttlMs)).toBe(true);
      expect(await a!.holdLeadership('a', at(7), ttlMs)).toBe(false);
      // b stops cleanly: a leads again at once. Letting go of what one does not hold changes nothing.
      await a!.releaseLeadership('a');
      expect(await a!.holdLeadership('a', at(7), ttlMs)).toBe(false);
      await b!.releaseLeadership('b');
      expect(await a!.holdLeadership('a', at(7), ttlMs)).toBe(true);
      await a!.releaseLeadership('a');
      // Leadership is a row of its own: the routing pass's lease is not taken by it.
      await expect(b!.withLease(async () => 'pass', { ...lease, waitMs: 1000 })).resolves.toBe('pass');
    });

    it('opens one offer for a waiting handoff, with the place told to the customer, and refuses a second', async () => {
      const [first, second] = stores.map((store) => new DeskStore(store.handle));
      const conversationId = `c_offer_${backend}`;
      const now = new Date().toISOString();
      const expiresAt = new Date(Date.now() + 30_000).toISOString();
      const handoff = await startWaiting(first!, conversationId, 7, now);
      const offers = await Promise.all(
        [first!, second!].map((desk, index) =>
          desk.openOffer({
            handoff,
            agentId: `a_${index}`,
            now,
            expiresAt,
            published: { position: 1, estimate: 0 },
          }),
        ),
      );
      // Two processes race for the same waiting handoff: exactly one offer exists.
      expect(offers.filter((offer) => offer !== undefined)).toHaveLength(1);
      expect(await first!.openOffers({ conversationId })).toHaveLength(1);
      expect(await second!.getHandoff(conversationId)).toMatchObject({
        state: 'offered',
        position: 1,
        estimateSeconds: 0,
        episode: 7,
      });
      // No longer waiting: nothing more is opened, nothing is written.
      await expect(first!.openOffer({ handoff, agentId: 'a_2', now, expiresAt })).resolves.toBeUndefined();
      expect(await first!.openOffers({ conversationId })).toHaveLength(1);
    });

    /** The queries `store` sends to PostgreSQL while `work` runs (none counted on SQLite). */
    async function counted<T>(store: SqlStore, work: () => Promise<T>): Promise<{ result: T; queries: number }> {
      if (backend !== 'postgres') return { result: await work(), queries: 0 };
      const pool = await store.handle.postgresPool!();
      let queries = 0;
      const wrapped = new Map<pg.PoolClient, pg.PoolClient['query']>();
      const onAcquire = (client: pg.PoolClient) => {
        if (wrapped.has(client)) return;
        const query = client.query;
        wrapped.set(client, query);
        client.query = ((...args: Parameters<typeof query>) => {
          queries += 1;
          return (query as (...a: unknown[]) => unknown).apply(client, args);
        }) as typeof query;
      };
      pool.on('acquire', onAcquire);
      try {
        return { result: await work(), queries };
      } finally {
        pool.off('acquire', onAcquire);
        for (const [client, query] of wrapped) client.query = query;
      }
    }

    it('writes an offer and its event together, or neither (the offer as the append gate)', async () => {
      const [desk, otherDesk] = stores.map((store) => new DeskStore(store.handle));
      const [store, other] = stores;
      const now = new Date().toISOString();
      const expiresAt = new Date(Date.now() + 30_000).toISOString();
      const owner = { kind: 'queue', queue: 'general' } as const;
      const conversation = async (id: string) => {
        await store!.createConversation({ id, industry: 'telecom', channel: 'api', customerTokenHash: 'h', owner });
        return startWaiting(desk!, id, 2, now);
      };
      const offered = (agentId: string) => ({ type: 'handoff.offered' as const, agentId, expiresAt });
      const lastSeq = async (id: string) => (await store!.getConversation(id))!.lastSeq;
      const { status } = (await store!.getConversation(
        (
          await conversation(`c_gate_status_${backend}`)
        ).conversationId,
      ))!;
      const snapshot = (seq: number) => ({ lastSeq: seq, owner, status: status as ConversationStatus });
      // Open: the handoff moves to offered, the offer exists, and the event is stored, in one write.
      let handoff = await conversation(`c_gate_open_${backend}`);
      const opened = desk!.offerGate({ handoff, agentId: 'a_1', now, expiresAt });
      const { result: stored, queries } = await counted(store!, () =>
        store!.append(handoff.conversationId, [offered('a_1')], { gate: opened.gate, snapshot: snapshot(0) }),
      );
      // On PostgreSQL, one statement for both writes.
      if (backend === 'postgres') expect(queries).toBe(1);
      expect(stored.map((event) => [event.seq, event.type])).toEqual([[1, 'handoff.offered']]);
      expect(await otherDesk!.getHandoff(handoff.conversationId)).toMatchObject({ state: 'offered' });
      expect(await otherDesk!.openOffers({ conversationId: handoff.conversationId })).toEqual([
        expect.objectContaining({ id: opened.offer.id, agentId: 'a_1' }),
      ]);

      // Closed (no longer waiting): nothing is written, and the caller is told.
      const late = otherDesk!.offerGate({ handoff, agentId: 'a_2', now, expiresAt });
      await expect(
        other!.append(handoff.conversationId, [offered('a_2')], { gate: late.gate, snapshot: snapshot(1) }),
      ).rejects.toBeInstanceOf(AppendGateClosed);
      expect(await lastSeq(handoff.conversationId)).toBe(1);
      expect(await desk!.openOffers({ conversationId: handoff.conversationId })).toHaveLength(1);

      // Waiting again, but its offer is still open: the unique index refuses the gate, and its move is undone.
      expect(await desk!.transition(handoff.conversationId, ['offered'], 'waiting', now)).toBe(true);
      const second = desk!.offerGate({ handoff, agentId: 'a_3', now, expiresAt });
      await expect(
        store!.append(handoff.conversationId, [offered('a_3')], { gate: second.gate, snapshot: snapshot(1) }),
      ).rejects.toBeInstanceOf(AppendGateClosed);
      expect(await desk!.getHandoff(handoff.conversationId)).toMatchObject({ state: 'waiting' });
      expect(await lastSeq(handoff.conversationId)).toBe(1);

      // The events refused after the gate has written (a stale expected seq): the gate's write is undone too.
      handoff = await conversation(`c_gate_refused_${backend}`);
      const refused = desk!.offerGate({ handoff, agentId: 'a_1', now, expiresAt });
      await expect(
        store!.append(handoff.conversationId, [offered('a_1')], {
          gate: refused.gate,
          expectedLastSeq: 5,
          snapshot: snapshot(5),
        }),
      ).rejects.toThrow(/is at seq 0, not 5/);
      expect(await desk!.getHandoff(handoff.conversationId)).toMatchObject({ state: 'waiting' });
      expect(await desk!.openOffers({ conversationId: handoff.conversationId })).toEqual([]);

      // Another process wrote since the caller's snapshot: the offer is still made, its event after that write.
      await other!.append(handoff.conversationId, [{ type: 'message', author: 'customer', text: 'still there?' }]);
      const stale = await store!.append(handoff.conversationId, [offered('a_1')], {
        gate: refused.gate,
        snapshot: snapshot(0),
      });
      expect(stale.map((event) => [event.seq, event.type])).toEqual([[2, 'handoff.offered']]);
      expect(await otherDesk!.openOffers({ conversationId: handoff.conversationId })).toHaveLength(1);
      expect(await lastSeq(handoff.conversationId)).toBe(2);
    });

    it('starts a wait in the write that stores the request for it, or not at all (the wait as the append follow)', async () => {
      const [desk, otherDesk] = stores.map((store) => new DeskStore(store.handle));
      const [store, other] = stores;
      const now = new Date().toISOString();
      const conversation = async (id: string) => {
        await store!.createConversation({
          id,
          industry: 'telecom',
          channel: 'api',
          customerTokenHash: 'h',
          owner: { kind: 'ai' },
        });
        return id;
      };
      /** What is stored for the conversation now, as the service's cache would have it. */
      const snapshot = async (id: string) => {
        const { lastSeq, owner, status } = (await store!.getConversation(id))!;
        return { lastSeq, owner, status: status as ConversationStatus };
      };
      const waitOf = (conversationId: string, priority: 'high' | 'urgent' = 'high') => ({
        conversationId,
        queue: 'billing',
        priority,
        skills: ['billing'],
        excludedAgentIds: [],
        now,
      });
      const request = (priority: 'high' | 'urgent' = 'high') => ({
        type: 'handoff.requested' as const,
        trigger: 'customer_request' as const,
        priority,
        skills: ['billing'],
      });
      const bridge = { type: 'message' as const, author: 'ai' as const, text: 'Let me bring in a colleague.' };

      // Started: the wait's episode and waiting-since are the request's seq and time; on PostgreSQL, one statement.
      const id = await conversation(`c_follow_${backend}`);
      const follow = desk!.waitFollow(1, waitOf(id));
      const state = await snapshot(id);
      const { result: stored, queries } = await counted(store!, () =>
        store!.append(id, [bridge, request()], { follow, snapshot: state }),
      );
      if (backend === 'postgres') expect(queries).toBe(1);
      expect(follow.wrote).toBe(true);
      const requested = stored[1]!;
      expect(requested).toMatchObject({ seq: 2, type: 'handoff.requested' });
      expect(await otherDesk!.getHandoff(id)).toMatchObject({
        state: 'waiting',
        queue: 'billing',
        priority: 'high',
        skills: ['billing'],
        episode: requested.seq,
        waitingSince: requested.at,
      });

      // Asked again while waiting: the request is stored, the wait keeps its place, and the caller is told.
      const again = desk!.waitFollow(0, waitOf(id, 'urgent'));
      await store!.append(id, [request('urgent')], { follow: again, snapshot: await snapshot(id) });
      expect(again.wrote).toBe(false);
      expect(await desk!.getHandoff(id)).toMatchObject({ episode: requested.seq, priority: 'high' });

      // An end of the episode handled late leaves a later wait alone: only episodes before it are closed.
      expect(await desk!.transition(id, ['waiting'], 'closed', now, { episodeBefore: requested.seq })).toBe(false);
      expect(await desk!.transition(id, ['waiting'], 'closed', now, { episodeBefore: requested.seq + 1 })).toBe(true);

      // Into `assigned` at the time given (a resolve rolled back keeps its first assignment), else now.
      const firstAssigned = '2026-01-02T03:04:05.000Z';
      expect(
        await desk!.transition(id, ['closed'], 'assigned', now, { agentId: 'a_x', assignedAt: firstAssigned }),
      ).toBe(true);
      expect(await desk!.getHandoff(id)).toMatchObject({
        state: 'assigned',
        agentId: 'a_x',
        assignedAt: firstAssigned,
      });
      expect(await desk!.transition(id, ['assigned'], 'closed', now)).toBe(true);
      expect(await desk!.transition(id, ['closed'], 'assigned', now, { agentId: 'a_x' })).toBe(true);
      expect((await desk!.getHandoff(id))?.assignedAt).toBe(now);
      expect(await desk!.transition(id, ['assigned'], 'closed', now)).toBe(true);

      // The events refused (a stale expected seq): no wait either.
      const refusedId = await conversation(`c_follow_refused_${backend}`);
      const refused = desk!.waitFollow(0, waitOf(refusedId));
      await expect(
        store!.append(refusedId, [request()], {
          follow: refused,
          expectedLastSeq: 5,
          snapshot: { ...(await snapshot(refusedId)), lastSeq: 5 },
        }),
      ).rejects.toThrow(/is at seq 0, not 5/);
      expect(refused.wrote).toBeUndefined();
      expect(await desk!.getHandoff(refusedId)).toBeUndefined();

      // Another process wrote since the caller's snapshot: the events go the general way, after that write.
      // SQLite writes the wait with them; PostgreSQL leaves it to the caller (its claim locks the conversation
      // before the desk's row, the order the offers keep).
      const staleId = await conversation(`c_follow_stale_${backend}`);
      const stale = desk!.waitFollow(0, waitOf(staleId));
      const before = await snapshot(staleId);
      await other!.append(staleId, [{ type: 'message', author: 'customer', text: 'hello?' }]);
      const late = await store!.append(staleId, [request()], { follow: stale, snapshot: before });
      expect(late.map((event) => [event.seq, event.type])).toEqual([[2, 'handoff.requested']]);
      if (backend === 'postgres') {
        expect(stale.wrote).toBeUndefined();
        expect(await desk!.getHandoff(staleId)).toBeUndefined();
      } else {
        expect(stale.wrote).toBe(true);
        expect(await desk!.getHandoff(staleId)).toMatchObject({ state: 'waiting', episode: 2 });
      }
    });

    it.runIf(backend === 'postgres')(
      "starts a wait with its request taking the desk's row before the conversation's, as an offer does",
      async () => {
        const [desk] = stores.map((store) => new DeskStore(store.handle));
        const store = stores[0]!;
        const schema = database.env.BATON_DATABASE_SCHEMA;
        const id = 'c_follow_lock_order';
        const owner = { kind: 'ai' } as const;
        await store.createConversation({ id, industry: 'telecom', channel: 'api', customerTokenHash: 'h', owner });
        const now = new Date().toISOString();
        // A wait that ended: the row is there for the other writer to hold.
        await desk!.upsertWaiting({
          conversationId: id,
          queue: 'general',
          priority: 'normal',
          skills: [],
          excludedAgentIds: [],
          waitingSince: now,
          episode: 0,
          now,
        });
        expect(await desk!.transition(id, ['waiting'], 'closed', now)).toBe(true);
        const holder = new pg.Client({ connectionString: POSTGRES_URL });
        const probe = new pg.Client({ connectionString: POSTGRES_URL });
        await holder.connect();
        await probe.connect();
        try {
          // Another writer holds the desk's row (as a routing pass offering it does, before its append).
          await holder.query('begin');
          await holder.query(`select 1 from "${schema}".desk_handoffs where conversation_id = $1 for update`, [id]);
          const follow = desk!.waitFollow(0, {
            conversationId: id,
            queue: 'general',
            priority: 'normal',
            skills: [],
            excludedAgentIds: [],
            now,
          });
          const { lastSeq, status } = (await store.getConversation(id))!;
          const appending = store.append(
            id,
            [{ type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] }],
            { follow, snapshot: { lastSeq, owner, status: status as ConversationStatus } },
          );
          const waiting = async () =>
            (
              await probe.query<{ n: number }>(
                "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%follow_lock%'",
              )
            ).rows[0]!.n;
          for (let tries = 0; (await waiting()) === 0; tries++) {
            if (tries > 200) throw new Error('the append never waited for the desk row');
            await sleep(10);
          }
          // While it waits for the desk's row, it holds nothing of the conversation's: whoever holds the desk
          // row may still append (the two never wait for each other).
          await probe.query('begin');
          await probe.query(`select 1 from "${schema}".conversations where id = $1 for update nowait`, [id]);
          await probe.query('rollback');
          await holder.query('commit');
          const stored = await appending;
          expect(follow.wrote).toBe(true);
          expect(await desk!.getHandoff(id)).toMatchObject({ state: 'waiting', episode: stored[0]!.seq });
        } finally {
          await holder.query('rollback').catch(() => undefined);
          await holder.end();
          await probe.end();
        }
      },
    );

    it('accepts an offer and assigns its handoff in one write, or does neither', async () => {
      const [desk] = stores.map((store) => new DeskStore(store.handle));
      const now = new Date().toISOString();
      const expiresAt = new Date(Date.now() + 60_000).toISOString();
      const offerTo = async (conversationId: string) => {
        const handoff = await startWaiting(desk!, conversationId, 3, now);
        expect(await desk!.openOffer({ handoff, agentId: 'a_accept', now, expiresAt })).toBeDefined();
      };
      await offerTo('c_accept_both');
      expect(await desk!.claimOffer('c_accept_both', 'a_accept', now)).toMatchObject({ state: 'accepted', episode: 3 });
      expect(await desk!.getHandoff('c_accept_both')).toMatchObject({ state: 'assigned', agentId: 'a_accept' });
      expect(await desk!.openOffers({ conversationId: 'c_accept_both' })).toEqual([]);
      expect(await desk!.claimOffer('c_accept_both', 'a_accept', now)).toBeUndefined();

      // The customer's wait ended while the offer was still open: no half-accept (an accepted offer on a
      // handoff nobody owns), and the offer stays for the router to cancel.
      await offerTo('c_accept_gone');
      expect(await desk!.transition('c_accept_gone', ['offered'], 'closed', now)).toBe(true);
      expect(await desk!.claimOffer('c_accept_gone', 'a_accept', now)).toBeUndefined();
      expect(await desk!.getHandoff('c_accept_gone')).toMatchObject({ state: 'closed' });
      expect(await desk!.openOffers({ conversationId: 'c_accept_gone' })).toHaveLength(1);
    });

    it('reads what a routing pass starts from in one go, the same as the separate reads', async () => {
      const [desk] = stores.map((store) => new DeskStore(store.handle));
      const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
      const wait = (conversationId: string, episode: number) =>
        desk!.upsertWaiting({
          conversationId,
          queue: 'billing',
          priority: 'high',
          skills: ['billing'],
          language: 'fr',
          excludedAgentIds: ['a_gone'],
          waitingSince: at(-60_000),
          episode,
          now: at(0),
        });
      // One offer already past its expiry, one still open, one handoff owned, two waiting. Loads are the
      // agents' (the desk counts the offers of the agents it has), so the three are agents too.
      for (const [index, id] of ['c_pass_expired', 'c_pass_open', 'c_pass_owned'].entries()) {
        await stores[0]!.createAgent({
          id: `a_pass_${index}`,
          email: `pass${index}@example.test`,
          name: `Pass ${index}`,
          passwordHash: 'scrypt$unused',
          skills: [],
          languages: [],
          capacity: 3,
          presence: 'online',
        });
        await wait(id, index + 1);
        const handoff = (await desk!.getHandoff(id))!;
        const expiresAt = id === 'c_pass_expired' ? at(-1_000) : at(60_000);
        await desk!.openOffer({ handoff, agentId: `a_pass_${index}`, now: at(-5_000), expiresAt });
      }
      await desk!.claimOffer('c_pass_owned', 'a_pass_2', at(0));
      await wait('c_pass_waiting_1', 4);
      await wait('c_pass_waiting_2', 5);

      await stores[0]!.createAgent({
        id: 'a_pass_agent',
        email: 'pass@example.test',
        name: 'Pat Pass',
        passwordHash: 'scrypt$unused',
        skills: ['billing', 'refunds'],
        languages: ['fr'],
        capacity: 4,
        presence: 'away',
      });
      const now = new Date();
      const reads = await desk!.passReads(now);
      const byId = <T extends { conversationId: string }>(rows: T[]) =>
        [...rows].sort((a, b) => a.conversationId.localeCompare(b.conversationId));
      const ours = (rows: { conversationId: string }[]) =>
        rows.filter((row) => row.conversationId.startsWith('c_pass_'));
      expect(ours(reads.expired).map((offer) => offer.conversationId)).toEqual(['c_pass_expired']);
      expect(byId(ours(reads.expired))).toEqual(byId(ours(await desk!.openOffers({ expiredBy: now.toISOString() }))));
      expect(
        ours(reads.waiting)
          .map((handoff) => handoff.conversationId)
          .sort(),
      ).toEqual(['c_pass_waiting_1', 'c_pass_waiting_2']);
      expect(byId(ours(reads.waiting))).toEqual(byId(ours(await desk!.listHandoffs(['waiting']))));
      expect(reads.waiting.find((handoff) => handoff.conversationId === 'c_pass_waiting_2')).toMatchObject({
        skills: ['billing'],
        excludedAgentIds: ['a_gone'],
        language: 'fr',
        episode: 5,
      });
      expect(reads.loads).toEqual(await desk!.loads());
      expect(reads.loads.get('a_pass_2')).toMatchObject({ owned: 1, offered: 0 });
      expect(reads.loads.get('a_pass_1')).toMatchObject({ owned: 0, offered: 1 });
      expect(reads.agents).toEqual(await stores[0]!.listAgents());
      expect(reads.agents.find((agent) => agent.id === 'a_pass_agent')).toMatchObject({
        skills: ['billing', 'refunds'],
        languages: ['fr'],
        capacity: 4,
        presence: 'away',
      });
    });
  });
}
