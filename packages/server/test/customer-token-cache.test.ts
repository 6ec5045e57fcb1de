import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationRoutes } from '../src/app/routes/conversations.ts';
import { healthRoutes } from '../src/app/routes/health.ts';
import { startTestServer, type TestServer } from './helpers.ts';

/** Customer tokens are remembered once the store has confirmed them: the memory must never widen access. */
describe('customer token checks with the verified-pair cache', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ modules: [healthRoutes, conversationRoutes], seed: false });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function start(): Promise<{ id: string; token: string }> {
    const response = await fetch(`${server.url}/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello' }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { conversation: { id: string }; customerToken: string };
    return { id: body.conversation.id, token: body.customerToken };
  }

  async function send(id: string, token: string): Promise<number> {
    const response = await fetch(`${server.url}/v1/conversations/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-customer-token': token },
      body: JSON.stringify({ text: 'still there?' }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  it('lets the customer who just started a conversation in without asking the store again', async () => {
    const store = server.server.deps.store;
    const verify = store.verifyCustomerToken.bind(store);
    const asked: string[] = [];
    store.verifyCustomerToken = (conversationId, tokenHash) => {
      asked.push(conversationId);
      return verify(conversationId, tokenHash);
    };
    try {
      const started = await start();
      const other = await start();
      expect(await send(started.id, started.token)).toBe(201);
      expect(await send(started.id, started.token)).toBe(201);
      expect(asked).toEqual([]);
      // What the process issued is all it remembers: another conversation's token is checked, and refused.
      expect(await send(started.id, other.token)).toBe(401);
      expect(asked).toEqual([started.id]);
    } finally {
      store.verifyCustomerToken = verify;
    }
  });

  it('keeps accepting the right token and refusing wrong or borrowed ones after a token was confirmed', async () => {
    const first = await start();
    const second = await start();
    expect(await send(first.id, first.token)).toBe(201);
    expect(await send(first.id, first.token)).toBe(201);
    expect(await send(first.id, 'not-the-token')).toBe(401);
    // A confirmed token opens its own conversation only.
    expect(await send(second.id, first.token)).toBe(401);
    expect(await send(first.id, second.token)).toBe(401);
    expect(await send(second.id, second.token)).toBe(201);
    expect(await send(first.id, first.token)).toBe(201);
  });
});
