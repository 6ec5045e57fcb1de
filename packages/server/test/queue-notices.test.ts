import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatonServer } from '../src/app/server.ts';
import {
  addAgent,
  call,
  type DeskNotice,
  eventually,
  openDeskConsole,
  startConversation,
  startServer,
  type TestAgent,
  type TestDatabase,
  testDatabase,
} from './support/desk-harness.ts';

/** An agent's console with its queue notices. */
async function deskConsole(url: string, agent: TestAgent) {
  const desk = await openDeskConsole(url, agent);
  return { ...desk, queue: () => desk.notices.filter((notice) => notice.name === 'queue') };
}

const counts = (notice: DeskNotice | undefined) =>
  (notice?.payload.queues as { id: string; waiting: number; offered: number }[] | undefined)?.find(
    (queue) => queue.id === 'general',
  );

describe('queue counts on the desk', () => {
  let database: TestDatabase;
  let server: BatonServer;
  let sam: TestAgent;

  beforeAll(async () => {
    database = testDatabase('sqlite');
    server = await startServer(database.env, { offerTtlMs: 120_000, tickMs: 50 });
    sam = await addAgent(server, { id: 'a_sam', name: 'Sam', capacity: 1 });
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('are announced once for a burst of changes, and not again when they have not changed', async () => {
    const url = server.url;
    const desk = await deskConsole(url, sam);
    try {
      expect(
        (await call(url, 'POST', '/v1/desk/presence', { token: sam.token, body: { presence: 'online' } })).status,
      ).toBe(200);
      const handoff = async () => {
        const customer = await startConversation(url, 'My order never arrived.');
        const reply = await call(url, 'POST', `/v1/conversations/${customer.conversationId}/handoff`, {
          customerToken: customer.customerToken,
          body: {},
        });
        expect(reply.status).toBe(201);
        return customer.conversationId;
      };
      // Two handoffs at once: Sam (capacity 1) is offered the first, the second waits.
      const first = await handoff();
      const second = await handoff();
      const settled = await eventually(async () => {
        const last = counts(desk.queue().at(-1));
        return last?.offered === 1 && last.waiting === 1 ? last : undefined;
      }, 'the desk to hear one offered, one waiting');
      expect(settled).toMatchObject({ offered: 1, waiting: 1 });
      // The changes came within one notice period: a burst is one notice, not one per change.
      expect(desk.queue().length).toBeLessThanOrEqual(2);
      const announced = desk.queue().length;

      // Sam declines the first: it waits again (not for Sam), the second is offered to Sam. The desk
      // changed, but its counts did not, so the consoles are not woken for them.
      const declined = await call(url, 'POST', `/v1/conversations/${first}/decline`, {
        token: sam.token,
        body: { reason: 'not my area' },
      });
      expect(declined.status).toBe(200);
      await eventually(
        async () =>
          desk.notices.some(
            (notice) =>
              notice.name === 'offer' && notice.payload.conversationId === second && notice.payload.state === 'open',
          ),
        'the second conversation to be offered to Sam',
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(desk.queue().length).toBe(announced);

      // A real change is announced.
      await handoff();
      await eventually(async () => counts(desk.queue().at(-1))?.waiting === 2, 'two waiting');
      expect(desk.queue().length).toBe(announced + 1);
    } finally {
      desk.socket.close();
    }
  });
});
