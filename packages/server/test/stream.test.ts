import type { Duplex } from 'node:stream';
import type { StoredEvent } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { authRoutes } from '../src/app/routes/auth-routes.ts';
import { conversationRoutes } from '../src/app/routes/conversations.ts';
import { healthRoutes } from '../src/app/routes/health.ts';
import { frameText, RECENT_FRAMES, streamRoutes } from '../src/app/routes/stream.ts';
import { InProcessBus } from '../src/bus/in-process-bus.ts';
import { startTestServer, type TestServer } from './helpers.ts';

/**
 * The real in-process bus, with a hook that runs right after a subscription is in place: the moment
 * between joining the bus and reading the store, where a write is both buffered and in the read.
 */
class HookedBus extends InProcessBus {
  afterSubscribe: ((topic: string) => Promise<void>) | undefined;

  override async subscribe(...args: Parameters<InProcessBus['subscribe']>) {
    const unsubscribe = await super.subscribe(...args);
    const hook = this.afterSubscribe;
    this.afterSubscribe = undefined;
    await hook?.(args[0]);
    return unsubscribe;
  }
}

const modules = [healthRoutes, authRoutes, conversationRoutes, streamRoutes];

interface Frame {
  type: string;
  event?: StoredEvent;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

/** A `ws` client that records every frame and lets a test wait for a condition on them. */
class StreamClient {
  readonly frames: Frame[] = [];
  #waiters: { check: () => boolean; resolve: () => void }[] = [];
  closed: Promise<void>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.check()) return true;
        waiter.resolve();
        return false;
      });
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      const client = new StreamClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
    });
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  events(conversationId?: string): StoredEvent[] {
    return this.frames
      .filter((frame) => frame.type === 'event' && frame.event)
      .map((frame) => frame.event!)
      .filter((event) => !conversationId || event.conversationId === conversationId);
  }

  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ check, resolve }));
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.closed;
  }
}

async function post(server: TestServer, path: string, body: unknown, headers: Record<string, string>) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function startConversation(server: TestServer) {
  const created = await post(server, '/v1/conversations', { text: 'first' }, {});
  return {
    id: (created.body.conversation as { id: string }).id,
    customerToken: created.body.customerToken as string,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('WebSocket stream', () => {
  let server: TestServer;
  let agentToken: string;
  const bus = new HookedBus();

  beforeAll(async () => {
    server = await startTestServer({ modules, bus });
    agentToken = await server.login();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a connection without credentials, and a session cookie sent from another site', async () => {
    await expect(StreamClient.open(server.wsUrl)).rejects.toThrow(/401/);
    await expect(StreamClient.open(`${server.wsUrl}?token=forged`)).rejects.toThrow(/401/);
    const cookie = `baton_session=${agentToken}`;
    await expect(StreamClient.open(server.wsUrl, { cookie, origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const sameOrigin = await StreamClient.open(server.wsUrl, { cookie, origin: server.url });
    sameOrigin.send({ type: 'ping' });
    await sameOrigin.until(() => sameOrigin.frames.some((frame) => frame.type === 'pong'));
    await sameOrigin.close();
  });

  it('resends exactly the missed events, once and in order, to a client that reconnects while writes go on', async () => {
    const { id, customerToken } = await startConversation(server);
    const write = (text: string) =>
      post(server, `/v1/conversations/${id}/messages`, { text }, { 'x-customer-token': customerToken });

    const first = await StreamClient.open(`${server.wsUrl}?token=${agentToken}`);
    first.send({ type: 'subscribe', conversationId: id, after: 0 });
    for (let index = 0; index < 10; index++) await write(`before ${index}`);
    await first.until(() => first.events(id).length >= 11);
    await first.close();
    const seenBefore = first.events(id).map((event) => event.seq);
    expect(seenBefore).toEqual(range(1, 11));

    // More history than one page, so the catch-up reads the store several times while live events arrive.
    for (let batch = 0; batch < 4; batch++) {
      await server.server.deps.service.append(
        id,
        Array.from({ length: 500 }, (_, index) => ({
          type: 'message' as const,
          author: 'customer' as const,
          text: `history ${batch}.${index}`,
        })),
        { kind: 'customer' },
      );
    }
    // Writers keep going while the client is away, while it catches up and after it is live again.
    const second = await StreamClient.open(`${server.wsUrl}?token=${agentToken}`);
    let written = 0;
    const subscribed = () => second.frames.some((frame) => frame.type === 'subscribed');
    const writers = Promise.all(
      Array.from({ length: 4 }, async (_, writer) => {
        for (let index = 0; index < 10 || !subscribed(); index++) {
          await write(`writer ${writer} #${index}`);
          written++;
        }
      }),
    );
    await write('while away');
    written++;
    second.send({ type: 'subscribe', conversationId: id, after: 11 });
    await writers;
    const total = 11 + 2000 + written;
    await second.until(() => second.events(id).at(-1)?.seq === total);
    await second.close();

    expect(second.events(id).map((event) => event.seq)).toEqual(range(12, total));
    const stored = await server.server.deps.store.readEvents(id, 11, 5000);
    expect(second.events(id)).toEqual(stored);
  });

  it('sends an event written between joining the bus and reading the store exactly once', async () => {
    const { id, customerToken } = await startConversation(server);
    const client = await StreamClient.open(`${server.wsUrl}?customerToken=${customerToken}&conversationId=${id}`);
    bus.afterSubscribe = async (topic) => {
      if (topic !== `conversation:${id}`) return;
      for (const text of ['racing 1', 'racing 2', 'racing 3']) {
        await server.server.deps.service.append(id, [{ type: 'message', author: 'customer', text }], {
          kind: 'customer',
        });
      }
    };
    client.send({ type: 'subscribe', conversationId: id, after: 0 });
    await client.until(() => client.frames.some((frame) => frame.type === 'subscribed'));
    await post(server, `/v1/conversations/${id}/messages`, { text: 'after' }, { 'x-customer-token': customerToken });
    await client.until(() => client.events(id).some((event) => event.type === 'message' && event.text === 'after'));
    await client.close();
    expect(client.events(id).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('sends the frames of one go to a connection in one write to its socket, a long catch-up in pieces', async () => {
    const { id } = await startConversation(server);
    await server.server.deps.service.append(
      id,
      Array.from({ length: 49 }, (_, index) => ({
        type: 'message' as const,
        author: 'customer' as const,
        text: `m${index}`,
      })),
      { kind: 'customer' },
    );
    // The server's end of the next connection, its writes counted where they reach the TCP socket.
    let writes = 0;
    const upgraded = new Promise<void>((resolve) => {
      server.server.app.server.once('upgrade', (_request, socket: Duplex & Record<string, unknown>) => {
        for (const method of ['_write', '_writev'] as const) {
          const original = socket[method] as (...args: unknown[]) => void;
          socket[method] = (...args: unknown[]) => {
            writes++;
            original.apply(socket, args);
          };
        }
        resolve();
      });
    });
    const client = await StreamClient.open(`${server.wsUrl}?token=${agentToken}`);
    await upgraded;
    const before = writes;
    client.send({ type: 'subscribe', conversationId: id, after: 0 });
    await client.until(() => client.events(id).length === 50);
    // 'subscribed' and the catch-up's 50 events; one by one they were 51 writes.
    expect(writes - before).toBeLessThanOrEqual(3);

    // A catch-up of ~1 MB is written in pieces as it goes, not held back whole until the end of the go.
    const { id: long } = await startConversation(server);
    await server.server.deps.service.append(
      long,
      Array.from({ length: 2000 }, (_, index) => ({
        type: 'message' as const,
        author: 'customer' as const,
        text: `${index} ${'x'.repeat(500)}`,
      })),
      { kind: 'customer' },
    );
    const beforeLong = writes;
    client.send({ type: 'subscribe', conversationId: long, after: 0 });
    await client.until(() => client.events(long).length === 2001);
    expect(writes - beforeLong).toBeGreaterThanOrEqual(2);
    await client.close();
  });

  it('fills a gap from the store when a bus message was missed', async () => {
    const { id, customerToken } = await startConversation(server);
    const client = await StreamClient.open(`${server.wsUrl}?customerToken=${customerToken}&conversationId=${id}`);
    client.send({ type: 'subscribe', conversationId: id, after: 0 });
    await client.until(() => client.frames.some((frame) => frame.type === 'subscribed'));

    // Written to the store without a bus message, as if another process's publish was lost.
    await server.server.deps.store.append(id, [
      { type: 'message', author: 'customer', text: 'lost on the bus 1' },
      { type: 'message', author: 'customer', text: 'lost on the bus 2' },
    ]);
    await post(
      server,
      `/v1/conversations/${id}/messages`,
      { text: 'published' },
      { 'x-customer-token': customerToken },
    );
    await client.until(() => client.events(id).length >= 4);
    await client.close();
    expect(client.events(id).map((event) => [event.seq, event.type === 'message' ? event.text : ''])).toEqual([
      [1, 'first'],
      [2, 'lost on the bus 1'],
      [3, 'lost on the bus 2'],
      [4, 'published'],
    ]);
  });

  it('lets a customer open only their own conversation and hides staff-only events', async () => {
    const mine = await startConversation(server);
    const other = await startConversation(server);
    const client = await StreamClient.open(
      `${server.wsUrl}?customerToken=${mine.customerToken}&conversationId=${mine.id}`,
    );
    client.send({ type: 'subscribe', conversationId: other.id, after: 0 });
    await client.until(() => client.frames.some((frame) => frame.type === 'error'));
    expect(client.frames.find((frame) => frame.type === 'error')?.error?.code).toBe('forbidden');
    expect(client.events(other.id)).toEqual([]);

    client.send({ type: 'subscribe_desk' });
    await client.until(() => client.frames.filter((frame) => frame.type === 'error').length >= 2);

    client.send({ type: 'subscribe', conversationId: mine.id, after: 0 });
    await post(
      server,
      `/v1/conversations/${mine.id}/notes`,
      { text: 'internal only' },
      {
        authorization: `Bearer ${agentToken}`,
      },
    );
    await post(
      server,
      `/v1/conversations/${mine.id}/messages`,
      { text: 'visible' },
      {
        'x-customer-token': mine.customerToken,
      },
    );
    await client.until(() =>
      client.events(mine.id).some((event) => event.type === 'message' && event.text === 'visible'),
    );
    await client.close();
    expect(client.events(mine.id).map((event) => event.type)).toEqual(['message', 'message']);
  });

  it('stops serving an agent whose session ended while connected', async () => {
    const token = await server.login('alex@demo.baton.dev');
    const { id } = await startConversation(server);
    const client = await StreamClient.open(`${server.wsUrl}?token=${token}`);
    const logout = await fetch(`${server.url}/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.status).toBe(204);
    const closeCode = new Promise<number>((resolve) => client.socket.once('close', (code) => resolve(code)));
    client.send({ type: 'subscribe', conversationId: id, after: 0 });
    expect(await closeCode).toBe(4401);
    expect(client.frames.find((frame) => frame.type === 'error')?.error?.code).toBe('unauthorized');
    expect(client.events(id)).toEqual([]);
  });

  it('relays typing indicators without storing them, and answers malformed frames with an error', async () => {
    const { id, customerToken } = await startConversation(server);
    const agent = await StreamClient.open(`${server.wsUrl}?token=${agentToken}`);
    const customer = await StreamClient.open(`${server.wsUrl}?customerToken=${customerToken}&conversationId=${id}`);
    agent.send({ type: 'subscribe', conversationId: id, after: 0 });
    customer.send({ type: 'subscribe', conversationId: id, after: 0 });
    await agent.until(() => agent.frames.some((frame) => frame.type === 'subscribed'));
    await customer.until(() => customer.frames.some((frame) => frame.type === 'subscribed'));

    customer.send({ type: 'typing', conversationId: id, typing: true });
    await agent.until(() => agent.frames.some((frame) => frame.type === 'typing'));
    expect(agent.frames.find((frame) => frame.type === 'typing')).toMatchObject({
      conversationId: id,
      author: 'customer',
      typing: true,
    });
    expect(customer.frames.some((frame) => frame.type === 'typing')).toBe(false);

    agent.send({ type: 'ping' });
    await agent.until(() => agent.frames.some((frame) => frame.type === 'pong'));
    agent.socket.send('{not json');
    await agent.until(() => agent.frames.some((frame) => frame.type === 'error'));
    expect(agent.frames.find((frame) => frame.type === 'error')?.error).toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/malformed JSON frame/),
    });
    await agent.close();
    await customer.close();
    expect((await server.server.deps.store.readEvents(id)).length).toBe(1);
  });
});

describe('frameText', () => {
  it('serialises a source once across its fan-out, and keeps nothing past the next few', () => {
    let made = 0;
    const serialise = () => {
      made += 1;
      return `text ${made}`;
    };
    const event = { seq: 1 };
    // One event to five sockets, one after another: one serialisation.
    for (let socket = 0; socket < 5; socket++) expect(frameText(event, serialise)).toBe('text 1');
    expect(made).toBe(1);
    // A copy (as masking makes) is another source with its own text.
    expect(frameText({ seq: 1 }, serialise)).toBe('text 2');
    // Once enough other sources went by, the event is forgotten, not held for as long as it lives.
    for (let other = 0; other < RECENT_FRAMES; other++) frameText({ other }, serialise);
    const before = made;
    frameText(event, serialise);
    expect(made).toBe(before + 1);
  });
});
