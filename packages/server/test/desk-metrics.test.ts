import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConversationService } from '../src/app/conversation-service.ts';
import { InProcessBus } from '../src/bus/in-process-bus.ts';
import {
  deskMetrics,
  METRICS_SHARED_MS,
  replayOncePerLog,
  SettledBuckets,
  SharedDeskMetrics,
} from '../src/routing/desk-metrics.ts';
import { DeskStore } from '../src/routing/desk-store.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';
import { type BackendName, POSTGRES_URL, type TestDatabase, testDatabase } from './support/desk-harness.ts';

/**
 * The supervisor's charts are asked for by every open console on every desk notice and every few
 * seconds; what they cost must not be paid again for what has not changed (on a bench database:
 * 83-106 ms a request before, 9 ms with the replays kept, nothing within the shared window; the desk's
 * side of "Last 24 hours" over a busy day, 100,000 offers: 652 ms before, 18 ms once its settled hours
 * are kept, `scripts/desk-history.ts`).
 */
describe('the supervisor charts: replays kept while a log has not grown, one computation shared', () => {
  let directory: string;
  let store: SqlStore;
  let service: ConversationService;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'baton-metrics-'));
    store = createStore({ file: join(directory, 'baton.db') });
    await store.migrate();
    service = new ConversationService({ store, bus: new InProcessBus(), logger: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await store?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("replays a conversation's log once, and again only after the log grew", async () => {
    const { conversation } = await service.create({ industry: 'ecommerce', text: 'My order never arrived.' });
    const reads = vi.fn((id: string, after?: number, limit?: number) => service.readEvents(id, after, limit));
    const replay = replayOncePerLog({ store, service: { readEvents: reads } });

    const first = await replay(conversation.id);
    expect(await replay(conversation.id)).toBe(first);
    expect(reads).toHaveBeenCalledTimes(1);

    await service.append(conversation.id, [{ type: 'message', author: 'customer', text: 'Hello? Anyone?' }], {
      kind: 'customer',
    });
    const second = await replay(conversation.id);
    expect(reads).toHaveBeenCalledTimes(2);
    expect(second).not.toBe(first);
    expect(await replay('c_missing')).toBeUndefined();
  });

  it('computes the charts once for every caller in the shared window, then again', async () => {
    const desk = new DeskStore(store.handle);
    const offers = vi.spyOn(desk, 'chartBuckets');
    let now = Date.parse('2026-03-01T12:00:00.000Z');
    const shared = new SharedDeskMetrics({ desk, now: () => now });
    const range = { hours: 1, bucketMinutes: 10 };

    const [a, b] = await Promise.all([shared.get(range), shared.get(range)]);
    expect(a).toBe(b);
    now += METRICS_SHARED_MS - 1;
    expect(await shared.get(range)).toBe(a);
    expect(offers).toHaveBeenCalledTimes(1);

    // Another range is its own computation; the first is computed again once the window has passed.
    await shared.get({ hours: 24, bucketMinutes: 60 });
    expect(offers).toHaveBeenCalledTimes(2);
    now += 1;
    const later = await shared.get(range);
    expect(later).not.toBe(a);
    expect(offers).toHaveBeenCalledTimes(3);
  });

  it('does not keep a computation that failed', async () => {
    const desk = new DeskStore(store.handle);
    const offers = vi.spyOn(desk, 'chartBuckets').mockRejectedValueOnce(new Error('database went away'));
    const shared = new SharedDeskMetrics({ desk, now: () => 0 });
    await expect(shared.get({ hours: 1, bucketMinutes: 10 })).rejects.toThrow('database went away');
    await expect(shared.get({ hours: 1, bucketMinutes: 10 })).resolves.toMatchObject({ bucketMinutes: 10 });
    expect(offers).toHaveBeenCalledTimes(2);
  });
});

const T = (clock: string) => `2026-03-01T${clock}.000Z`;

async function seedWaits(store: SqlStore): Promise<void> {
  const db = store.handle.db;
  const handoff = (conversationId: string, episode: number, waitingSince: string) =>
    db
      .insertInto('desk_handoffs' as never)
      .values({
        conversation_id: conversationId,
        state: 'closed',
        queue: 'general',
        priority: 'normal',
        skills: '[]',
        excluded_agent_ids: '[]',
        waiting_since: waitingSince,
        episode,
        updated_at: waitingSince,
      } as never)
      .execute();
  const offer = (
    id: string,
    conversationId: string,
    episode: number,
    waitingSince: string,
    createdAt: string,
    state: string,
    decidedAt: string | null,
  ) =>
    db
      .insertInto('desk_offers' as never)
      .values({
        id,
        conversation_id: conversationId,
        episode,
        agent_id: 'agent_x',
        queue: 'general',
        state,
        waiting_since: waitingSince,
        created_at: createdAt,
        expires_at: createdAt,
        decided_at: decidedAt,
      } as never)
      .execute();
  // c1's first wait (01:10) is known by its offers only: its row has moved on to the second (03:05).
  await offer('o1', 'c1', 1, T('01:10:00'), T('01:10:02'), 'declined', T('01:10:12'));
  await offer('o2', 'c1', 1, T('01:10:00'), T('01:10:30'), 'accepted', T('01:10:40'));
  await handoff('c2', 1, T('02:20:00'));
  await offer('o3', 'c2', 1, T('02:20:00'), T('02:20:05'), 'accepted', T('02:20:25'));
  await handoff('c1', 2, T('03:05:00'));
  await offer('o4', 'c1', 2, T('03:05:00'), T('03:05:03'), 'expired', T('03:05:33'));
  // A wait that began before the window: its offer counts, the wait does not.
  await handoff('c3', 1, T('00:30:00'));
  await offer('o5', 'c3', 1, T('00:30:00'), T('01:00:30'), 'accepted', T('01:01:00'));
}

for (const backend of ['sqlite', 'postgres'] as BackendName[]) {
  describe(`the supervisor charts added up by the database (${backend})`, () => {
    let database: TestDatabase;
    let store: SqlStore;

    beforeAll(async () => {
      database = testDatabase(backend);
      store =
        backend === 'sqlite'
          ? createStore({ file: `${database.env.BATON_DATA_DIR}/baton.db` })
          : createStore({ url: POSTGRES_URL, schema: database.env.BATON_DATABASE_SCHEMA });
      await store.migrate();
      await seedWaits(store);
    });

    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });

    const range = { hours: 3, bucketMinutes: 60, now: new Date(T('03:30:00')) };

    it('counts waits once in the bucket they began, offers in theirs, and the nearest-rank seconds to accept', async () => {
      const metrics = await deskMetrics({ desk: new DeskStore(store.handle), ...range });
      expect(metrics.since).toBe(T('01:00:00'));
      expect(
        metrics.buckets.map(({ start, handoffs, offers, accepted, declined, expired, medianSecondsToAccept }) => ({
          start,
          handoffs,
          offers,
          accepted,
          declined,
          expired,
          medianSecondsToAccept,
        })),
      ).toEqual([
        {
          start: T('01:00:00'),
          handoffs: 1,
          offers: 3,
          accepted: 2,
          declined: 1,
          expired: 0,
          medianSecondsToAccept: 40,
        },
        {
          start: T('02:00:00'),
          handoffs: 1,
          offers: 1,
          accepted: 1,
          declined: 0,
          expired: 0,
          medianSecondsToAccept: 25,
        },
        {
          start: T('03:00:00'),
          handoffs: 1,
          offers: 1,
          accepted: 0,
          declined: 0,
          expired: 1,
          medianSecondsToAccept: undefined,
        },
      ]);
      expect(metrics.totals).toEqual({
        handoffs: 3,
        offers: 5,
        accepted: 3,
        declined: 1,
        expired: 1,
        medianSecondsToAccept: 40,
        p90SecondsToAccept: 1860,
        acceptRate: 0.6,
      });
    });

    it('keeps the buckets that can no longer change and adds up only the others', async () => {
      const desk = new DeskStore(store.handle);
      const settled = new SettledBuckets({ settleMs: 5 * 60_000 });
      const first = await deskMetrics({ desk, settled, ...range });
      expect(await deskMetrics({ desk, settled, ...range })).toEqual(first);
      // Rows no live desk would write (an offer made into a settled hour), to see which buckets are read.
      await store.handle.db
        .insertInto('desk_offers' as never)
        .values([
          {
            id: 'late-1',
            conversation_id: 'c9',
            episode: 1,
            agent_id: 'agent_x',
            queue: 'general',
            state: 'declined',
            waiting_since: T('01:20:00'),
            created_at: T('01:20:00'),
            expires_at: T('01:20:00'),
            decided_at: T('01:20:05'),
          },
          {
            id: 'late-2',
            conversation_id: 'c8',
            episode: 1,
            agent_id: 'agent_x',
            queue: 'general',
            state: 'declined',
            waiting_since: T('03:20:00'),
            created_at: T('03:20:00'),
            expires_at: T('03:20:00'),
            decided_at: T('03:20:05'),
          },
        ] as never)
        .execute();
      const kept = await deskMetrics({ desk, settled, ...range });
      expect(kept.buckets.map((bucket) => bucket.offers)).toEqual([3, 1, 2]);
      const fresh = await deskMetrics({ desk, ...range });
      expect(fresh.buckets.map((bucket) => bucket.offers)).toEqual([4, 1, 2]);
      // An hour later the 03:00 bucket has settled too, with what it had then.
      const later = await deskMetrics({ desk, settled, ...range, hours: 4, now: new Date(T('04:30:00')) });
      expect(later.buckets.map((bucket) => bucket.offers)).toEqual([3, 1, 2, 0]);
      await store.handle.db
        .deleteFrom('desk_offers' as never)
        .where('id' as never, 'in', ['late-1', 'late-2'] as never)
        .execute();
    });
  });
}
