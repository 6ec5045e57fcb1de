import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnector } from '../src/agent/agent-module.ts';
import { backOfficeTools } from '../src/agent/back-office-tools.ts';
import { PlaybookAgent } from '../src/agent/playbook-agent.ts';
import { ToolRegistry } from '../src/agent/tools.ts';
import { HttpConnector } from '../src/connectors/http-connector.ts';
import { AgentHarness } from './support/agent-harness.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A team's own back office: a real HTTP server with a few routes that answer the ways real ones do. */
let server: Server;
let baseUrl: string;
const received: Received[] = [];

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === '/orders/A10493') {
        return reply(response, 200, {
          order_id: 'A10493',
          total: 184.2,
          item_count: 3,
          shipping_address: '9 Elm St, Springfield',
        });
      }
      if (url.pathname === '/orders/A10493/tracking') {
        return reply(response, 200, { carrier: 'Acme Post', summary: 'Delivered to the mailroom, yesterday' });
      }
      if (url.pathname === '/orders/Z99999')
        return reply(response, 404, { error: { code: 'ORDER_NOT_FOUND', message: 'no such order' } });
      if (url.pathname === '/refunds/check')
        return reply(response, 200, { outcome: 'blocked', error: { code: 'REFUND_LIMIT', message: 'over $100' } });
      if (url.pathname === '/reship') return reply(response, 403, { error: 'NOT_ALLOWED' });
      if (url.pathname === '/tracking') return reply(response, 503, 'maintenance');
      if (url.pathname === '/slow') return; // never answers
      return reply(response, 500, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function connector(overrides: { baseUrl?: string } = {}) {
  return new HttpConnector({
    name: 'acme',
    baseUrl: overrides.baseUrl ?? baseUrl,
    headers: { authorization: 'Bearer team-secret' },
    timeoutMs: 2000,
    operations: {
      find_order: { method: 'GET', path: '/orders/{order_id}' },
      check_refund_eligibility: { method: 'POST', path: '/refunds/check' },
      reship_order: { method: 'POST', path: '/reship' },
      track_shipment: { method: 'GET', path: '/tracking' },
      list_appointments: { method: 'GET', path: '/slow', timeoutMs: 100 },
    },
  });
}

const options = () => ({ signal: new AbortController().signal, conversationId: 'c_1' });

describe('HttpConnector', () => {
  it('calls the configured endpoint and returns its JSON', async () => {
    const result = await connector().invoke('find_order', { order_id: 'A10493' }, options());
    expect(result).toEqual({
      outcome: 'succeeded',
      data: expect.objectContaining({ order_id: 'A10493', total: 184.2 }),
    });
    const request = received.find((entry) => entry.url === '/orders/A10493');
    expect(request?.method).toBe('GET');
    expect(request?.headers.authorization).toBe('Bearer team-secret');
    expect(request?.headers['x-baton-conversation']).toBe('c_1');
  });

  it('sends POST input as a JSON body and honours an outcome the back office states', async () => {
    const result = await connector().invoke(
      'check_refund_eligibility',
      { order_id: 'A10493', amount: 184.2 },
      options(),
    );
    expect(result).toEqual({
      outcome: 'blocked',
      error: { system: 'acme', code: 'REFUND_LIMIT', message: 'over $100' },
    });
    const request = received.find((entry) => entry.url === '/refunds/check');
    expect(JSON.parse(request?.body ?? '{}')).toEqual({ order_id: 'A10493', amount: 184.2 });
  });

  it('maps HTTP errors to failed or blocked outcomes with a code', async () => {
    expect(await connector().invoke('find_order', { order_id: 'Z99999' }, options())).toEqual({
      outcome: 'failed',
      error: { system: 'acme', code: 'ORDER_NOT_FOUND', message: 'no such order' },
    });
    expect(await connector().invoke('reship_order', { order_id: 'A10493' }, options())).toMatchObject({
      outcome: 'blocked',
      error: { code: 'NOT_ALLOWED' },
    });
    expect(await connector().invoke('track_shipment', { order_id: 'A10493' }, options())).toMatchObject({
      outcome: 'failed',
      error: { code: 'HTTP_503', message: expect.stringContaining('503') },
    });
  });

  it('gives up after the endpoint timeout with code TIMEOUT', async () => {
    const result = await connector().invoke('list_appointments', { patient_id: 'P-1' }, options());
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'TIMEOUT' } });
  });

  it('reports a back office that refuses connections as UNREACHABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await connector({ baseUrl: `http://127.0.0.1:${port}` }).invoke(
      'find_order',
      { order_id: 'A10493' },
      options(),
    );
    expect(result).toMatchObject({
      outcome: 'failed',
      error: { code: 'UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') },
    });
  });

  it('reaches the same tools as the demo back office, so a team swaps connectors without touching agents', async () => {
    const tools = new ToolRegistry(backOfficeTools, connector());
    expect(
      tools
        .list()
        .map((tool) => tool.name)
        .sort(),
    ).toEqual(['check_refund_eligibility', 'find_order', 'list_appointments', 'reship_order', 'track_shipment'].sort());
    const call = await tools.call(
      'find_order',
      { order_id: 'Z99999' },
      { conversationId: 'c_1', signal: new AbortController().signal },
    );
    expect(call.events[0]).toMatchObject({
      type: 'action',
      name: 'find_order',
      outcome: 'failed',
      error: { system: 'acme', code: 'ORDER_NOT_FOUND' },
    });
  });

  it('serves the playbook agent from a BATON_CONNECTOR_CONFIG file, outcomes and all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-connector-'));
    try {
      const file = join(dir, 'backoffice.json');
      writeFileSync(
        file,
        JSON.stringify({
          name: 'acme',
          baseUrl,
          operations: {
            find_order: { method: 'GET', path: '/orders/{order_id}' },
            track_shipment: { method: 'GET', path: '/orders/{order_id}/tracking' },
            check_refund_eligibility: { method: 'POST', path: '/refunds/check' },
          },
        }),
      );
      const tools = new ToolRegistry(backOfficeTools, createConnector(file));
      const chat = new AgentHarness(new PlaybookAgent(), 'ecommerce', tools);
      const reply = await chat.say('Where is my order A10493? It says delivered but I never got it.');
      expect(chat.actions()).toEqual([
        'find_order:succeeded',
        'track_shipment:succeeded',
        'check_refund_eligibility:blocked',
      ]);
      expect(reply).toContain('3 items, $184.20');
      expect(reply).toContain('Acme Post tracking says: Delivered to the mailroom, yesterday.');
      expect(chat.handoffs[0]).toMatchObject({ trigger: 'policy', skills: ['refunds'] });
      expect(chat.events.find((event) => event.type === 'action' && event.outcome === 'blocked')).toMatchObject({
        error: { system: 'acme', code: 'REFUND_LIMIT' },
      });

      writeFileSync(file, JSON.stringify({ baseUrl: 'not a url', operations: {} }));
      expect(() => createConnector(file)).toThrow(/BATON_CONNECTOR_CONFIG/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
