import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConversationService } from '../src/app/conversation-service.ts';
import { InProcessBus } from '../src/bus/in-process-bus.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';

describe("the conversation service's state cache", () => {
  let directory: string;
  let store: SqlStore;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'baton-cache-'));
    store = createStore({ file: join(directory, 'baton.db') });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const service = () => new ConversationService({ store, bus: new InProcessBus(), logger: pino({ level: 'silent' }) });

  it('reads the store once for callers who ask together for a conversation it has not cached', async () => {
    const writer = service();
    const { conversation } = await writer.create({ industry: 'telecom', text: 'My internet is down.' });
    await writer.append(conversation.id, [{ type: 'message', author: 'customer', text: 'Since this morning.' }], {
      kind: 'customer',
    });
    // Another process's service: nothing cached.
    const reader = service();
    const reads = vi.spyOn(store, 'getConversation');
    try {
      const [first, second] = await Promise.all([reader.get(conversation.id), reader.get(conversation.id)]);
      expect(second).toBe(first);
      expect(reads).toHaveBeenCalledTimes(1);
      expect(first.state.lastSeq).toBe((await writer.get(conversation.id)).state.lastSeq);
      // Cached now: no read at all.
      expect(await reader.get(conversation.id)).toBe(first);
      expect(reads).toHaveBeenCalledTimes(1);
      // A load that failed is not kept: the next caller asks the store again.
      await expect(Promise.all([reader.get('c_missing'), reader.get('c_missing')])).rejects.toThrow(/not found/);
      await expect(reader.get('c_missing')).rejects.toThrow(/not found/);
      expect(reads).toHaveBeenCalledTimes(3);
    } finally {
      reads.mockRestore();
    }
  });

  it('decides a precondition again on what another process wrote since this one cached the state', async () => {
    const here = service();
    const { conversation } = await here.create({ industry: 'retail', text: 'Where is my parcel?' });
    const seen = (await here.get(conversation.id)).state.lastSeq;
    // Another process's service stores a customer message; this one's cache does not know it.
    await service().append(conversation.id, [{ type: 'message', author: 'customer', text: 'Hello?' }], {
      kind: 'customer',
    });
    expect((await here.get(conversation.id)).state.lastSeq).toBe(seen);
    const checked: number[] = [];
    const unlessCustomerWrote = (state: { lastSeq: number; lastCustomerMessageSeq?: number }) => {
      checked.push(state.lastSeq);
      if ((state.lastCustomerMessageSeq ?? 0) > seen) throw new Error('the customer wrote');
    };
    await expect(
      here.append(
        conversation.id,
        [{ type: 'note', text: 'closing' }],
        { kind: 'system' },
        {
          precondition: unlessCustomerWrote,
        },
      ),
    ).rejects.toThrow('the customer wrote');
    // The stale state passed; the store refused the write after it, and the fresh state failed.
    expect(checked).toEqual([seen, seen + 1]);
    const log = await store.readEvents(conversation.id, 0, 100);
    expect(log.map((event) => event.type)).toEqual(['message', 'message']);
  });

  it('builds the state of a log longer than one page', async () => {
    const writer = service();
    const { conversation } = await writer.create({ industry: 'telecom', text: 'Still down.' });
    const lines = Array.from({ length: 400 }, (_, index) => ({
      type: 'message' as const,
      author: 'customer' as const,
      text: `line ${index}`,
    }));
    for (let batch = 0; batch < 3; batch++) await store.append(conversation.id, lines);
    const { state } = await service().get(conversation.id);
    expect(state.lastSeq).toBe((await store.getConversation(conversation.id))!.lastSeq);
    expect(state.lastSeq).toBeGreaterThan(1200);
  });
});
