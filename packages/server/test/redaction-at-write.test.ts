import type { StoredEvent } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules } from '../src/app/modules.ts';
import { startTestServer, type TestServer } from './helpers.ts';

// The AI agent module is left out so that only what this test writes is in the record.
const withoutAgent = modules.filter((module) => !/agent/i.test(module.name));

describe('secrets never reach the record', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ modules: withoutAgent });
  });
  afterAll(async () => server?.close());

  async function post(path: string, body: unknown, customerToken?: string) {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(customerToken ? { 'x-customer-token': customerToken } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function messages(id: string): Promise<Extract<StoredEvent, { type: 'message' }>[]> {
    const events = await server.server.deps.store.readEvents(id, 0, 1000);
    return events.filter((event): event is Extract<StoredEvent, { type: 'message' }> => event.type === 'message');
  }

  it('redacts a bare PIN answer, a card number and a one-time code before storing, keeping the facts', async () => {
    const created = await post('/v1/conversations', { industry: 'finance', text: 'My account is 002245019' });
    expect(created.status).toBe(201);
    const id = (created.body.conversation as { id: string }).id;
    const token = created.body.customerToken as string;
    await server.server.deps.service.append(id, [{ type: 'message', author: 'ai', text: 'What is your PIN?' }], {
      kind: 'ai',
    });
    expect((await post(`/v1/conversations/${id}/messages`, { text: '4321' }, token)).status).toBe(201);
    expect(
      (await post(`/v1/conversations/${id}/messages`, { text: 'my card number is 4111 1111 1111 1111' }, token)).status,
    ).toBe(201);
    expect((await post(`/v1/conversations/${id}/messages`, { text: 'the code is 482913' }, token)).status).toBe(201);

    const stored = await messages(id);
    const all = JSON.stringify(stored);
    expect(all).not.toContain('4321');
    expect(all).not.toContain('4111 1111 1111 1111');
    expect(all).not.toContain('482913');
    expect(stored[0]?.text).toContain('002245019');
    const redacted = stored.filter((message) => (message.redactions ?? []).length > 0);
    expect(redacted).toHaveLength(3);
    for (const message of redacted) {
      for (const redaction of message.redactions ?? []) {
        expect(message.text.slice(redaction.start, redaction.end)).toMatch(/^\[[a-z_]+\]$/);
      }
    }
  });
});
