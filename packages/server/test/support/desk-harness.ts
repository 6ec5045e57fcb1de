import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '@baton/core';
import pg from 'pg';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { randomToken, sha256 } from '../../src/app/auth.ts';
import { modules as defaultModules } from '../../src/app/modules.ts';
import type { RouteModule } from '../../src/app/route-module.ts';
import { deskModule } from '../../src/app/routes/desk.ts';
import { type BatonServer, createServer } from '../../src/app/server.ts';
import { loadConfig } from '../../src/config.ts';
import type { DeskConfigInput } from '../../src/routing/desk-config.ts';
import type { NewAgent } from '../../src/store/store.ts';

export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type BackendName = 'sqlite' | 'postgres';

/** A throwaway database: a SQLite file in a temp dir, or a fresh PostgreSQL schema. */
export interface TestDatabase {
  env: Record<string, string>;
  drop(): Promise<void>;
}

export function testDatabase(backend: BackendName): TestDatabase {
  if (backend === 'sqlite') {
    const directory = mkdtempSync(join(tmpdir(), 'baton-desk-'));
    return {
      env: { BATON_DATA_DIR: directory },
      async drop() {
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  const schema = `baton_desk_${randomBytes(6).toString('hex')}`;
  return {
    env: { DATABASE_URL: POSTGRES_URL, BATON_DATABASE_SCHEMA: schema },
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The modules the desk needs (HTTP, auth, conversations, stream) and the desk configured for the test
 * instead of from the environment. Runtimes that write on their own (the AI agent) stay out, so the
 * logs these tests read hold only what the test and the router wrote.
 */
const DESK_NEEDS = new Set(['health', 'auth', 'conversations', 'stream']);

export function modulesWithDesk(desk: DeskConfigInput): RouteModule[] {
  return [...defaultModules.filter((module) => DESK_NEEDS.has(module.name)), deskModule(desk)];
}

export async function startServer(env: Record<string, string>, desk: DeskConfigInput): Promise<BatonServer> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env });
  return createServer(config, { logger: pino({ level: 'silent' }), modules: modulesWithDesk(desk) });
}

export interface TestAgent {
  id: string;
  name: string;
  token: string;
}

/** An agent with a live session, created through the store (the login route's KDF is slow on purpose). */
export async function addAgent(
  server: BatonServer,
  agent: Partial<NewAgent> & { id: string; name: string },
): Promise<TestAgent> {
  await server.deps.store.createAgent({
    email: `${agent.id}@example.test`,
    passwordHash: 'scrypt$unused',
    ...agent,
  });
  const token = randomToken();
  await server.deps.store.createSession({
    tokenHash: sha256(token),
    agentId: agent.id,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  return { id: agent.id, name: agent.name, token };
}

export interface Reply<T> {
  status: number;
  body: T;
}

export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; customerToken?: string; body?: unknown } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.customerToken) headers['x-customer-token'] = options.customerToken;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

export async function startConversation(
  baseUrl: string,
  text: string,
): Promise<{ conversationId: string; customerToken: string }> {
  const reply = await call<{ conversation: { id: string }; customerToken: string }>(
    baseUrl,
    'POST',
    '/v1/conversations',
    {
      body: { text },
    },
  );
  if (reply.status !== 201) throw new Error(`create conversation: ${reply.status} ${JSON.stringify(reply.body)}`);
  return { conversationId: reply.body.conversation.id, customerToken: reply.body.customerToken };
}

export async function events(baseUrl: string, conversationId: string, token: string): Promise<StoredEvent[]> {
  const reply = await call<{ events: StoredEvent[] }>(baseUrl, 'GET', `/v1/conversations/${conversationId}/events`, {
    token,
  });
  if (reply.status !== 200) throw new Error(`events: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.events;
}

/**
 * Polls until `check` returns a value. Not a timed assertion: the deadline only stops a test that
 * would otherwise hang, and it is far longer than the thing should ever take.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits for the nth event of a type (1-based) in the conversation's log. */
export function waitForEvent<T extends StoredEvent['type']>(
  baseUrl: string,
  conversationId: string,
  token: string,
  type: T,
  nth = 1,
): Promise<Extract<StoredEvent, { type: T }>> {
  return eventually(async () => {
    const log = await events(baseUrl, conversationId, token);
    const matches = log.filter((event): event is Extract<StoredEvent, { type: T }> => event.type === type);
    return matches[nth - 1];
  }, `${type} #${nth} on ${conversationId}`);
}

export interface DeskNotice {
  name: string;
  payload: Record<string, unknown>;
}

/** An agent's console: a WebSocket subscribed to the desk, recording every desk notice it receives. */
export async function openDeskConsole(url: string, agent: TestAgent) {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${agent.token}` },
  });
  const notices: DeskNotice[] = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string } & Partial<DeskNotice>;
    if (frame.type === 'desk' && frame.name && frame.payload)
      notices.push({ name: frame.name, payload: frame.payload });
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'subscribe_desk' }));
  const close = () =>
    new Promise<void>((resolve) => {
      if (socket.readyState === socket.CLOSED) return resolve();
      socket.once('close', () => resolve());
      socket.close();
    });
  return { socket, notices, close };
}
