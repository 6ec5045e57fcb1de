import type { StoredEvent } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { authRoutes } from '../src/app/routes/auth-routes.ts';
import { conversationRoutes } from '../src/app/routes/conversations.ts';
import { healthRoutes } from '../src/app/routes/health.ts';
import { streamRoutes } from '../src/app/routes/stream.ts';
import { createTestDatabase, dropTestDatabase, startTestServer, type TestServer } from './helpers.ts';

const modules = [healthRoutes, authRoutes, conversationRoutes, streamRoutes];
const REDIS_URL = process.env.BATON_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Two servers on one PostgreSQL database and one Redis, each with its own bus connection and state
 * cache, as two processes behind a load balancer would be.
 */
describe('two servers sharing PostgreSQL and Redis', () => {
  let databaseUrl: string;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    a = await startTestServer({ database: 'postgres', databaseUrl, modules, env: { REDIS_URL } });
    b = await startTestServer({ database: 'postgres', databaseUrl, modules, env: { REDIS_URL }, seed: false });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  async function startOn(server: TestServer): Promise<{ id: string; customerToken: string }> {
    const created = await fetch(`${server.url}/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello from a' }),
    });
    const body = (await created.json()) as { conversation: { id: string }; customerToken: string };
    return { id: body.conversation.id, customerToken: body.customerToken };
  }

  it('streams events written on the other server, in order and once, and serves fresh state', async () => {
    const token = await a.login();
    const { id, customerToken } = await startOn(a);
    // Warm server a's cache, then write through b only.
    expect((await a.server.deps.service.get(id)).state.lastSeq).toBe(1);

    const socket = new WebSocket(`${a.wsUrl}?token=${token}`);
    const events: StoredEvent[] = [];
    let subscribed = false;
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; event?: StoredEvent };
      if (frame.type === 'event' && frame.event) events.push(frame.event);
      if (frame.type === 'subscribed') subscribed = true;
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'subscribe', conversationId: id, after: 0 }));
    await expect.poll(() => subscribed, { timeout: 20_000 }).toBe(true);

    const writes = Array.from({ length: 30 }, (_, index) =>
      fetch(`${(index % 2 === 0 ? b : a).url}/v1/conversations/${id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-customer-token': customerToken },
        body: JSON.stringify({ text: `message ${index}` }),
      }),
    );
    expect((await Promise.all(writes)).map((response) => response.status)).toEqual(Array(30).fill(201));
    await expect.poll(() => events.at(-1)?.seq, { timeout: 20_000 }).toBe(31);
    socket.close();
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 31 }, (_, index) => index + 1));

    const view = await fetch(`${a.url}/v1/conversations/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await view.json()) as { state: { lastSeq: number; customerMessageCount: number } }).state).toMatchObject({
      lastSeq: 31,
      customerMessageCount: 31,
    });
  });

  it("keeps each server's state cache in step with what the other appends", async () => {
    const { id, customerToken } = await startOn(a);
    // b caches the conversation at seq 1; from now on only a writes to it.
    expect((await b.server.deps.service.get(id)).state.lastSeq).toBe(1);
    for (let index = 0; index < 5; index++) {
      const response = await fetch(`${a.url}/v1/conversations/${id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-customer-token': customerToken },
        body: JSON.stringify({ text: `message ${index}` }),
      });
      expect(response.status).toBe(201);
    }
    // `get` answers from the cache without asking the store: only following a's bus messages moves it.
    await expect.poll(async () => (await b.server.deps.service.get(id)).state.lastSeq, { timeout: 20_000 }).toBe(6);
    const followed = await b.server.deps.service.get(id);
    const stored = await a.server.deps.service.getFresh(id);
    expect(followed.state).toEqual(stored.state);
    expect(followed.conversation.lastSeq).toBe(6);
  });
});
