import { BatonError } from '@baton/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeskStore } from '../src/routing/desk-store.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';
import { type BackendName, POSTGRES_URL, type TestDatabase, testDatabase } from './support/desk-harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

    it('gives up with a retryable unavailable error when the lease stays taken', async () => {
      const [first, second] = stores.map((store) => new DeskStore(store.handle));
      let releaseFirst!: () => void;
      const held = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const holding = first!.withLease(async () => {
        entered();
        await held;
      }, lease);
      await inside;
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

    it('opens one offer for a waiting handoff, with the place told to the customer, and refuses a second', async () => {
      const [first, second] = stores.map((store) => new DeskStore(store.handle));
      const conversationId = `c_offer_${backend}`;
      const now = new Date().toISOString();
      const expiresAt = new Date(Date.now() + 30_000).toISOString();
      await first!.upsertWaiting({
        conversationId,
        queue: 'general',
        priority: 'normal',
        skills: [],
        excludedAgentIds: [],
        waitingSince: now,
        episode: 7,
        now,
      });
      const handoff = (await first!.getHandoff(conversationId))!;
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
  });
}
