import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authRoutes } from '../src/app/routes/auth-routes.ts';
import { conversationRoutes } from '../src/app/routes/conversations.ts';
import { healthRoutes } from '../src/app/routes/health.ts';
import { streamRoutes } from '../src/app/routes/stream.ts';
import { createTestDatabase, dropTestDatabase, startTestServer, type TestServer } from './helpers.ts';

/** The server's own layer, without routing or the AI runtime reacting to what the tests write. */
const modules = [healthRoutes, authRoutes, conversationRoutes, streamRoutes];

interface Json {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function call(
  server: TestServer,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; token?: string; customerToken?: string; contentType?: string } = {},
): Promise<Json> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined || options.raw !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.customerToken) headers['x-customer-token'] = options.customerToken;
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Json['body']) : {} };
}

async function createConversation(server: TestServer, text = 'Hello, I need help with my order') {
  const created = await call(server, 'POST', '/v1/conversations', { body: { industry: 'ecommerce', text } });
  expect(created.status).toBe(201);
  const conversation = created.body.conversation as { id: string; lastSeq: number };
  return { id: conversation.id, customerToken: created.body.customerToken as string, created };
}

async function eventsOf(server: TestServer, id: string): Promise<StoredEvent[]> {
  return server.server.deps.store.readEvents(id, 0, 1000);
}

/** Makes `agentId` the owner through the record, the way routing does after an accept. */
async function assign(server: TestServer, id: string, agentId: string) {
  await server.server.deps.service.append(
    id,
    [
      { type: 'handoff.requested', trigger: 'customer_request' },
      { type: 'handoff.accepted', agentId, agentName: 'Sam Rivera' },
    ],
    { kind: 'system' },
  );
}

describe.each(['sqlite', 'postgres'] as const)('HTTP API on %s', (database) => {
  let server: TestServer;
  let agentToken: string;
  let otherAgentToken: string;

  beforeAll(async () => {
    server = await startTestServer({ database, modules });
    agentToken = await server.login('sam@demo.baton.dev');
    otherAgentToken = await server.login('alex@demo.baton.dev');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers health and serves an OpenAPI document generated from the schemas', async () => {
    expect(await call(server, 'GET', '/health')).toEqual({ status: 200, body: { status: 'ok' } });
    const openapi = await call(server, 'GET', '/openapi.json');
    expect(openapi.status).toBe(200);
    const paths = openapi.body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(['/v1/conversations', '/v1/conversations/{id}/messages', '/v1/conversations/{id}/events']),
    );
    expect(paths['/v1/conversations/{id}/messages']?.post).toBeDefined();
    const health = await fetch(`${server.url}/health`);
    expect(health.headers.get('x-frame-options')).toBe('DENY');
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('creates a conversation, takes messages and lists events after a sequence number', async () => {
    const { id, customerToken, created } = await createConversation(server);
    expect(customerToken.length).toBeGreaterThanOrEqual(40);
    expect((created.body.events as StoredEvent[]).map((event) => event.seq)).toEqual([1]);

    for (const text of ['It was order A10493', 'It never arrived']) {
      const posted = await call(server, 'POST', `/v1/conversations/${id}/messages`, { body: { text }, customerToken });
      expect(posted.status).toBe(201);
      expect(posted.body.event).toMatchObject({ type: 'message', author: 'customer', text, conversationId: id });
    }
    const after1 = await call(server, 'GET', `/v1/conversations/${id}/events?after=1`, { customerToken });
    expect(after1.status).toBe(200);
    expect(
      (after1.body.events as StoredEvent[]).map((event) => [event.seq, event.type === 'message' && event.text]),
    ).toEqual([
      [2, 'It was order A10493'],
      [3, 'It never arrived'],
    ]);
    expect(after1.body.lastSeq).toBe(3);
    const page = await call(server, 'GET', `/v1/conversations/${id}/events?after=0&limit=2`, { customerToken });
    expect(page.body).toMatchObject({ lastSeq: 3, until: 2 });

    const view = await call(server, 'GET', `/v1/conversations/${id}`, { token: agentToken });
    expect(view.status).toBe(200);
    expect(view.body.state).toMatchObject({ lastSeq: 3, customerMessageCount: 3, owner: { kind: 'ai' } });
  });

  it('lets only the owning agent speak, and records every agent read in the audit log', async () => {
    const { id, customerToken } = await createConversation(server);
    await assign(server, id, 'agent_sam');
    const fromOwner = await call(server, 'POST', `/v1/conversations/${id}/messages`, {
      body: { text: 'Hi, I am Sam, I can see everything so far.' },
      token: agentToken,
    });
    expect(fromOwner.status).toBe(201);
    expect(fromOwner.body.event).toMatchObject({ author: 'agent', authorId: 'agent_sam', authorName: 'Sam Rivera' });

    const before = (await eventsOf(server, id)).length;
    const fromOther = await call(server, 'POST', `/v1/conversations/${id}/messages`, {
      body: { text: 'Hello from Alex' },
      token: otherAgentToken,
    });
    expect(fromOther.status).toBe(409);
    expect(fromOther.body.error).toMatchObject({ code: 'not_owner' });
    expect(fromOther.body.error?.message).toMatch(/Sam Rivera owns this conversation/);
    expect((await eventsOf(server, id)).length).toBe(before);

    const note = await call(server, 'POST', `/v1/conversations/${id}/notes`, {
      body: { text: 'Customer prefers email' },
      token: otherAgentToken,
    });
    expect(note.status).toBe(201);
    const asCustomer = await call(server, 'GET', `/v1/conversations/${id}/events`, { customerToken });
    expect((asCustomer.body.events as StoredEvent[]).some((event) => event.type === 'note')).toBe(false);
    expect((asCustomer.body.events as StoredEvent[]).some((event) => event.type === 'handoff.accepted')).toBe(true);

    await call(server, 'GET', `/v1/conversations/${id}/events?after=0`, { token: otherAgentToken });
    const audit = await server.server.deps.store.listAudit(id);
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actorKind: 'agent', actorId: 'agent_alex', action: 'conversation.events_read' }),
      ]),
    );
  });

  it('answers each bad input with a 4xx naming the problem, and writes nothing', async () => {
    const { id, customerToken } = await createConversation(server);
    const before = await eventsOf(server, id);
    const path = `/v1/conversations/${id}/messages`;

    const cases: { name: string; response: Promise<Json>; status: number; code: string; message: RegExp }[] = [
      {
        name: 'malformed JSON',
        response: call(server, 'POST', path, { raw: '{"text": "unterminated', customerToken }),
        status: 400,
        code: 'invalid_input',
        message: /malformed JSON/,
      },
      {
        name: 'wrong type',
        response: call(server, 'POST', path, { body: { text: 42 }, customerToken }),
        status: 400,
        code: 'invalid_input',
        message: /body\.text: text must be a string/,
      },
      {
        name: 'missing field',
        response: call(server, 'POST', path, { body: {}, customerToken }),
        status: 400,
        code: 'invalid_input',
        message: /body\.text/,
      },
      {
        name: 'empty text',
        response: call(server, 'POST', path, { body: { text: '   ' }, customerToken }),
        status: 400,
        code: 'invalid_input',
        message: /text must not be empty/,
      },
      {
        name: 'oversized text',
        response: call(server, 'POST', path, { body: { text: 'x'.repeat(8001) }, customerToken }),
        status: 400,
        code: 'invalid_input',
        message: /longer than 8000 characters/,
      },
      {
        name: 'oversized body',
        response: call(server, 'POST', path, { raw: JSON.stringify({ text: 'x'.repeat(2_000_000) }), customerToken }),
        status: 413,
        code: 'payload_too_large',
        message: /too large/,
      },
      {
        name: 'not JSON at all',
        response: call(server, 'POST', path, { raw: 'text=hi', contentType: 'text/plain', customerToken }),
        status: 400,
        code: 'invalid_input',
        message: /content type/,
      },
      {
        name: 'no credentials',
        response: call(server, 'POST', path, { body: { text: 'hi' } }),
        status: 401,
        code: 'unauthorized',
        message: /credentials required/,
      },
      {
        name: 'wrong customer token',
        response: call(server, 'POST', path, { body: { text: 'hi' }, customerToken: 'not-the-token' }),
        status: 401,
        code: 'unauthorized',
        message: /invalid customer token/,
      },
      {
        name: 'expired or forged session',
        response: call(server, 'POST', path, { body: { text: 'hi' }, token: 'forged-session-token' }),
        status: 401,
        code: 'unauthorized',
        message: /invalid or expired token/,
      },
      {
        name: 'agent who is not the owner',
        response: call(server, 'POST', path, { body: { text: 'hi' }, token: agentToken }),
        status: 409,
        code: 'not_owner',
        message: /owns this conversation/,
      },
      {
        name: 'customer on an agent route',
        response: call(server, 'POST', `/v1/conversations/${id}/notes`, { body: { text: 'hi' }, customerToken }),
        status: 403,
        code: 'forbidden',
        message: /agent/,
      },
      {
        name: 'bad query parameter',
        response: call(server, 'GET', `/v1/conversations/${id}/events?after=-4`, { customerToken }),
        status: 400,
        code: 'invalid_input',
        message: /querystring\.after/,
      },
      {
        name: 'feedback rating out of range',
        response: call(server, 'POST', `/v1/conversations/${id}/feedback`, { body: { rating: 9 }, customerToken }),
        status: 400,
        code: 'invalid_input',
        message: /body\.rating/,
      },
    ];
    for (const testCase of cases) {
      const response = await testCase.response;
      expect({ name: testCase.name, status: response.status }).toEqual({
        name: testCase.name,
        status: testCase.status,
      });
      expect(response.body.error?.code, testCase.name).toBe(testCase.code);
      expect(response.body.error?.message, testCase.name).toMatch(testCase.message);
    }
    expect(await eventsOf(server, id)).toEqual(before);

    const unknown = await call(server, 'GET', '/v1/conversations/c_does_not_exist/events', { token: agentToken });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'not_found', message: 'conversation c_does_not_exist not found' });
    const unknownWrite = await call(server, 'POST', '/v1/conversations/c_does_not_exist/notes', {
      body: { text: 'hi' },
      token: agentToken,
    });
    expect(unknownWrite.status).toBe(404);
    const badLogin = await call(server, 'POST', '/v1/auth/login', {
      body: { email: 'sam@demo.baton.dev', password: 'wrong' },
    });
    expect(badLogin.status).toBe(401);
    expect(badLogin.body.error?.message).toBe('wrong email or password');
    const noRoute = await call(server, 'GET', '/v1/nothing-here');
    expect(noRoute.status).toBe(404);
  });

  it('keeps the log gapless with 50 concurrent HTTP writers to one conversation', async () => {
    const { id, customerToken } = await createConversation(server);
    const writers = Array.from({ length: 50 }, (_, index) =>
      call(server, 'POST', `/v1/conversations/${id}/messages`, { body: { text: `message ${index}` }, customerToken }),
    );
    const responses = await Promise.all(writers);
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(201));
    const events = await eventsOf(server, id);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 51 }, (_, index) => index + 1));
    const texts = new Set(events.slice(1).map((event) => (event.type === 'message' ? event.text : '')));
    expect(texts.size).toBe(50);
  });

  it('starts a customer conversation in a browser that also holds an agent cookie, fresh or stale', async () => {
    for (const cookie of [`baton_session=${agentToken}`, 'baton_session=expired-long-ago']) {
      const response = await fetch(`${server.url}/v1/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ text: 'hello from the chat page' }),
      });
      expect(response.status).toBe(201);
      expect(((await response.json()) as { conversation: { owner: unknown } }).conversation.owner).toEqual({
        kind: 'ai',
      });
    }
    const badKey = await call(server, 'POST', '/v1/conversations', { body: {}, token: 'bk_not-a-key' });
    expect(badKey.status).toBe(401);
  });

  it('lets a bot integration start a conversation and append what it did', async () => {
    const apiKey = server.seed?.bot.apiKey;
    expect(apiKey).toMatch(/^bk_/);
    const created = await call(server, 'POST', '/v1/conversations', {
      body: { industry: 'finance', text: 'card stolen' },
      token: apiKey,
    });
    expect(created.status).toBe(201);
    const id = (created.body.conversation as { id: string; owner: unknown }).id;
    expect(created.body.conversation).toMatchObject({ owner: { kind: 'bot', id: 'bot_demo' }, channel: 'api' });
    const appended = await call(server, 'POST', `/v1/conversations/${id}/events`, {
      token: apiKey,
      body: {
        events: [
          { type: 'action', name: 'block_card', actor: 'bot', outcome: 'succeeded' },
          { type: 'message', author: 'bot', text: 'Your card is blocked.' },
          { type: 'handoff.requested', trigger: 'bot_request', skills: ['cards'] },
        ],
      },
    });
    expect(appended.status).toBe(201);
    expect((appended.body.events as StoredEvent[]).map((event) => event.seq)).toEqual([2, 3, 4]);
    const forged = await call(server, 'POST', `/v1/conversations/${id}/events`, {
      token: apiKey,
      body: { events: [{ type: 'message', author: 'agent', text: 'I am a human' }] },
    });
    expect(forged.status).toBe(403);
    const invalid = await call(server, 'POST', `/v1/conversations/${id}/events`, {
      token: apiKey,
      body: { events: [{ type: 'message', author: 'bot' }] },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error?.message).toMatch(/body\.events\.0/);
    expect((await eventsOf(server, id)).length).toBe(4);
  });

  it('keeps everything across a restart', async () => {
    const own =
      database === 'sqlite'
        ? { dataDir: mkdtempSync(join(tmpdir(), 'baton-restart-')) }
        : { databaseUrl: await createTestDatabase() };
    let first: TestServer | undefined;
    let second: TestServer | undefined;
    try {
      first = await startTestServer({ database, modules, ...own });
      const credentials = first.seed!.agents[0]!;
      const { id, customerToken } = await createConversation(first, 'before restart');
      await call(first, 'POST', `/v1/conversations/${id}/messages`, { body: { text: 'still here?' }, customerToken });
      const beforeEvents = await eventsOf(first, id);
      await first.close();

      second = await startTestServer({ database, modules, ...own });
      expect(second.seed).toBeUndefined();
      const token = await second.login(credentials.email, credentials.password);
      const events = await call(second, 'GET', `/v1/conversations/${id}/events`, { token });
      expect(events.status).toBe(200);
      expect(events.body.events).toEqual(beforeEvents);
      const listed = await call(second, 'GET', '/v1/conversations', { token });
      expect((listed.body.conversations as { id: string }[]).map((conversation) => conversation.id)).toContain(id);
      const more = await call(second, 'POST', `/v1/conversations/${id}/messages`, {
        body: { text: 'after restart' },
        customerToken,
      });
      expect((more.body.event as StoredEvent).seq).toBe(beforeEvents.length + 1);
    } finally {
      await first?.close();
      await second?.close();
      if (own.dataDir) rmSync(own.dataDir, { recursive: true, force: true });
      if (own.databaseUrl) await dropTestDatabase(own.databaseUrl);
    }
  });
});
