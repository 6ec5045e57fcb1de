import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPasses, summarise } from '../../../scripts/pass-timings.ts';
import { type BatonServer, createServer } from '../src/app/server.ts';
import { loadConfig } from '../src/config.ts';
import {
  addAgent,
  call,
  modulesWithDesk,
  startConversation,
  type TestDatabase,
  testDatabase,
  waitForEvent,
} from './support/desk-harness.ts';

describe("the routing pass's timings, at debug level", () => {
  let database: TestDatabase;
  let server: BatonServer;
  let log = '';

  beforeAll(async () => {
    database = testDatabase('sqlite');
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        log += chunk.toString();
        done();
      },
    });
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ...database.env });
    server = await createServer(config, {
      logger: pino({ level: 'debug' }, sink),
      modules: modulesWithDesk({ offerTtlMs: 120_000, tickMs: 60_000 }),
    });
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('logs where each pass spent its time, and the script sums them', async () => {
    const agent = await addAgent(server, { id: 'a_timed', name: 'Timed', capacity: 1 });
    await call(server.url, 'POST', '/v1/desk/presence', { token: agent.token, body: { presence: 'online' } });
    const customer = await startConversation(server.url, 'hello');
    const asked = await call(server.url, 'POST', `/v1/conversations/${customer.conversationId}/handoff`, {
      customerToken: customer.customerToken,
      body: {},
    });
    expect(asked.status).toBe(201);
    await waitForEvent(server.url, customer.conversationId, agent.token, 'handoff.offered');
    const passes = readPasses(`not json\n${log}{"msg":"routing pass","pass":{"queuedMs":"x"}}\n`);
    expect(passes.length).toBeGreaterThan(0);
    for (const { pid, pass } of passes) {
      expect(pid).toBe(process.pid);
      for (const value of Object.values(pass)) expect(value).toBeGreaterThanOrEqual(0);
    }
    const summary = summarise(passes.map((entry) => entry.pass));
    expect(summary.map((line) => line.trim().split(' ')[0])).toEqual(['queuedMs', 'leaseMs', 'workMs', 'releaseMs']);
  });
});
