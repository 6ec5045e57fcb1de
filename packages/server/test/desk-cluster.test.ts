import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { StoredEvent } from '@baton/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { randomToken, sha256 } from '../src/app/auth.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';
import { call, events, eventually, POSTGRES_URL, REDIS_URL, startConversation } from './support/desk-harness.ts';

const SERVER = resolve(import.meta.dirname, 'support/desk-server-process.ts');
const HANDOFFS = 24;
const AGENTS = 6;
/** Fewer slots than customers: most handoffs wait for an agent to be freed on either process. */
const CAPACITY = 2;

interface Process {
  child: ChildProcess;
  url: string;
}

function startProcess(env: Record<string, string>): Promise<Process> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveStart, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^READY (\S+)$/.exec(line);
      if (match?.[1]) resolveStart({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`server process exited with ${code} before it was ready`)));
  });
}

function stopProcess(process: Process | undefined): Promise<void> {
  if (!process || process.child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    // A process that cannot stop cleanly must not hold the test run: it is killed after a grace period.
    const kill = setTimeout(() => process.child.kill('SIGKILL'), 15_000);
    process.child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    process.child.kill('SIGTERM');
  });
}

type Frame =
  | { type: 'event'; event: StoredEvent }
  | { type: 'desk'; name: string; payload: Record<string, unknown> }
  | { type: 'subscribed'; conversationId: string; lastSeq: number }
  | { type: 'error'; error: { code: string; message: string } }
  | { type: string };

/** A console: one WebSocket to one process, recording every event and desk notice it receives. */
class Console {
  readonly received = new Map<string, number[]>();
  readonly notices: { name: string; payload: Record<string, unknown> }[] = [];
  readonly errors: unknown[] = [];
  #socket!: WebSocket;

  constructor(
    readonly name: string,
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async open(): Promise<void> {
    const url = `${this.baseUrl.replace(/^http/, 'ws')}/v1/stream?token=${encodeURIComponent(this.token)}`;
    this.#socket = new WebSocket(url);
    this.#socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      if (frame.type === 'event' && 'event' in frame) {
        const seqs = this.received.get(frame.event.conversationId) ?? [];
        seqs.push(frame.event.seq);
        this.received.set(frame.event.conversationId, seqs);
      } else if (frame.type === 'desk' && 'name' in frame && 'payload' in frame) {
        this.notices.push({ name: frame.name, payload: frame.payload });
      } else if (frame.type === 'error') {
        this.errors.push(frame);
      }
    });
    await new Promise<void>((opened, failed) => {
      this.#socket.once('open', () => opened());
      this.#socket.once('error', failed);
    });
    this.send({ type: 'subscribe_desk' });
  }

  send(frame: Record<string, unknown>): void {
    this.#socket.send(JSON.stringify(frame));
  }

  subscribe(conversationId: string): void {
    this.send({ type: 'subscribe', conversationId, after: 0 });
  }

  close(): void {
    this.#socket?.close();
  }
}

describe('two server processes on one PostgreSQL and Redis', () => {
  const schema = `baton_cluster_${randomBytes(6).toString('hex')}`;
  const env = {
    DATABASE_URL: POSTGRES_URL,
    BATON_DATABASE_SCHEMA: schema,
    REDIS_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    BATON_OFFER_TTL_MS: '60000',
    BATON_ROUTING_TICK_MS: '200',
  };
  let first: Process | undefined;
  let second: Process | undefined;
  let store: SqlStore;
  const agents: { id: string; name: string; token: string; home: string; away: string }[] = [];

  beforeAll(async () => {
    // One after the other: the first creates the schema and migrates, the second finds it done.
    first = await startProcess(env);
    second = await startProcess(env);
    store = createStore({ url: POSTGRES_URL, schema });
    for (let index = 0; index < AGENTS; index++) {
      const id = `a_cluster_${index}`;
      await store.createAgent({
        id,
        email: `${id}@example.test`,
        name: `Agent ${index}`,
        passwordHash: 'x',
        capacity: CAPACITY,
      });
      const token = randomToken();
      await store.createSession({
        tokenHash: sha256(token),
        agentId: id,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      });
      const [home, away] = index % 2 === 0 ? [first.url, second.url] : [second.url, first.url];
      agents.push({ id, name: `Agent ${index}`, token, home, away });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([stopProcess(first), stopProcess(second)]);
    await store?.close();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  });

  it('never assigns a handoff twice and delivers every event to every console on either process', async () => {
    const servers = [first!.url, second!.url];
    const consoles = agents.map((agent) => new Console(agent.id, agent.home, agent.token));
    await Promise.all(consoles.map((console) => console.open()));
    const accepts = new Map<string, { agentId: string; via: string; status: number }[]>();
    const attempts: Promise<void>[] = [];
    const written: { conversationId: string; status: number }[] = [];
    /** When each owner asked to resolve: the desk frees the slot during that request, before the event's `at`. */
    const resolveAsked = new Map<string, string>();

    // An offer goes to one agent's consoles only; as soon as any console hears one, every agent tries to
    // take it, through both processes at once: only the database can keep this honest.
    const race = (conversationId: string) => {
      for (const agent of agents) {
        for (const via of [agent.home, agent.away]) {
          attempts.push(
            call(via, 'POST', `/v1/conversations/${conversationId}/accept`, { token: agent.token }).then(
              async (reply) => {
                const list = accepts.get(conversationId) ?? [];
                list.push({ agentId: agent.id, via, status: reply.status });
                accepts.set(conversationId, list);
                if (reply.status !== 200) return;
                // The owner writes through the process they are not connected to, then frees the slot
                // through their own: the next waiting customer may be on either process.
                const message = await call(
                  via === agent.home ? agent.away : agent.home,
                  'POST',
                  `/v1/conversations/${conversationId}/messages`,
                  {
                    token: agent.token,
                    body: { text: `Hi, ${agent.name} here.` },
                  },
                );
                written.push({ conversationId, status: message.status });
                resolveAsked.set(conversationId, new Date().toISOString());
                const resolved = await call(agent.home, 'POST', `/v1/conversations/${conversationId}/resolve`, {
                  token: agent.token,
                });
                written.push({ conversationId, status: resolved.status });
              },
            ),
          );
        }
      }
    };
    for (const console of consoles) {
      const original = console.notices.push.bind(console.notices);
      console.notices.push = (...notices) => {
        for (const notice of notices) {
          if (notice.name !== 'offer' || notice.payload.state !== 'open') continue;
          // Offers are for the agent they name, and carry the brief.
          expect(notice.payload.agentId).toBe(console.name);
          expect(notice.payload.brief).toBeTruthy();
          const conversationId = String(notice.payload.conversationId);
          if (conversationId.startsWith('c_')) race(conversationId);
        }
        return original(...notices);
      };
    }
    for (const agent of agents) {
      const reply = await call(agent.home, 'POST', '/v1/desk/presence', {
        token: agent.token,
        body: { presence: 'online' },
      });
      expect(reply.status).toBe(200);
    }

    const conversations = await Promise.all(
      Array.from({ length: HANDOFFS }, async (_, index) => {
        const via = servers[index % 2]!;
        const customer = await startConversation(via, `customer ${index} needs a person`);
        // Ask through the other process than the one that created it.
        const reply = await call(
          servers[(index + 1) % 2]!,
          'POST',
          `/v1/conversations/${customer.conversationId}/handoff`,
          {
            customerToken: customer.customerToken,
            body: { reason: 'wants a person' },
          },
        );
        expect([201, 409]).toContain(reply.status);
        return customer.conversationId;
      }),
    );
    // Each console watches every conversation, so each must receive each whole log.
    for (const console of consoles) for (const id of conversations) console.subscribe(id);

    const owners = await eventually(
      async () => {
        const found = new Map<string, string>();
        for (const id of conversations) {
          const log = await events(servers[0]!, id, agents[0]!.token);
          if (!log.some((event) => event.type === 'handoff.resolved')) return undefined;
          const accepted = log.filter((event) => event.type === 'handoff.accepted');
          expect(accepted).toHaveLength(1);
          const event = accepted[0]!;
          if (event.type === 'handoff.accepted') found.set(id, event.agentId);
        }
        return found;
      },
      'every handoff to be accepted and resolved',
      120_000,
    );
    await Promise.all(attempts);

    for (const id of conversations) {
      const wins = (accepts.get(id) ?? []).filter((attempt) => attempt.status === 200);
      expect(wins, `accepts that won on ${id}`).toHaveLength(1);
      expect(wins[0]?.agentId).toBe(owners.get(id));
      const losers = (accepts.get(id) ?? []).filter((attempt) => attempt.status !== 200);
      for (const loser of losers) expect(loser.status).toBe(409);
    }
    expect(written.filter((write) => write.status === 200 || write.status === 201)).toHaveLength(2 * HANDOFFS);
    // Many agents on both processes took part, and nobody ever held more than their capacity.
    expect(new Set(owners.values()).size).toBeGreaterThan(1);
    const timeline: { agentId: string; at: string; delta: number }[] = [];
    for (const id of conversations) {
      for (const event of await events(servers[1]!, id, agents[1]!.token)) {
        if (event.type === 'handoff.accepted') timeline.push({ agentId: event.agentId, at: event.at, delta: 1 });
        // The router frees the desk slot first and appends the event after (its ownership check is the
        // desk row), so another process may offer and accept in between, before the event's timestamp.
        // The slot is free from some moment inside the resolve request: count it free from the request.
        if (event.type === 'handoff.resolved') {
          const asked = resolveAsked.get(id);
          const at = asked !== undefined && asked < event.at ? asked : event.at;
          timeline.push({ agentId: event.byAgentId ?? '', at, delta: -1 });
        }
      }
    }
    timeline.sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
    const holding = new Map<string, number>();
    for (const step of timeline) {
      const now = (holding.get(step.agentId) ?? 0) + step.delta;
      holding.set(step.agentId, now);
      expect(now, `${step.agentId} at ${step.at}`).toBeLessThanOrEqual(CAPACITY);
    }

    const lastSeqs = new Map<string, number>();
    for (const id of conversations) {
      const log = await events(servers[1]!, id, agents[1]!.token);
      lastSeqs.set(id, log.at(-1)?.seq ?? 0);
    }
    await eventually(
      async () =>
        consoles.every((console) =>
          conversations.every((id) => (console.received.get(id)?.at(-1) ?? 0) >= (lastSeqs.get(id) ?? 0)),
        ),
      'every console to catch up with every conversation',
      60_000,
    );
    for (const console of consoles) {
      expect(console.errors).toEqual([]);
      for (const id of conversations) {
        const seqs = console.received.get(id) ?? [];
        // Exactly once and in order: 1, 2, 3… with nothing missing and nothing twice.
        expect(seqs.slice(0, lastSeqs.get(id))).toEqual(Array.from({ length: lastSeqs.get(id) ?? 0 }, (_, i) => i + 1));
        expect(new Set(seqs).size).toBe(seqs.length);
      }
      // Queue counts reach every console on both processes; an accepted offer reaches its agent's
      // console, whichever process took the accept.
      expect(console.notices.some((notice) => notice.name === 'queue')).toBe(true);
      const acceptedNotices = new Set(
        console.notices
          .filter((notice) => notice.name === 'offer' && notice.payload.state === 'accepted')
          .map((notice) => String(notice.payload.conversationId)),
      );
      for (const id of conversations) {
        if (owners.get(id) === console.name) {
          expect(acceptedNotices.has(id), `${console.name} heard ${id} accepted`).toBe(true);
        }
      }
      expect(
        console.notices.filter((notice) => notice.name === 'offer').every((n) => n.payload.agentId === console.name),
      ).toBe(true);
    }
    for (const console of consoles) console.close();
  }, 180_000);
});
