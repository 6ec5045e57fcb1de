import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConversationService } from '../src/app/conversation-service.ts';
import { InProcessBus } from '../src/bus/in-process-bus.ts';
import { METRICS_SHARED_MS, replayOncePerLog, SharedDeskMetrics } from '../src/routing/desk-metrics.ts';
import { DeskStore } from '../src/routing/desk-store.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';

/**
 * The supervisor's charts are asked for by every open console on every desk notice and every few
 * seconds; what they cost must not be paid again for what has not changed (on a bench database:
 * 83-106 ms a request before, 9 ms with the replays kept, nothing within the shared window).
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
    const offers = vi.spyOn(desk, 'offersSince');
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
    const offers = vi.spyOn(desk, 'offersSince').mockRejectedValueOnce(new Error('database went away'));
    const shared = new SharedDeskMetrics({ desk, now: () => 0 });
    await expect(shared.get({ hours: 1, bucketMinutes: 10 })).rejects.toThrow('database went away');
    await expect(shared.get({ hours: 1, bucketMinutes: 10 })).resolves.toMatchObject({ bucketMinutes: 10 });
    expect(offers).toHaveBeenCalledTimes(2);
  });
});
