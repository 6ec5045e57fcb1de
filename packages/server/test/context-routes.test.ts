import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authRoutes } from '../src/app/routes/auth-routes.ts';
import { contextRoutes } from '../src/app/routes/context.ts';
import { conversationRoutes } from '../src/app/routes/conversations.ts';
import { healthRoutes } from '../src/app/routes/health.ts';
import { startTestServer, type TestServer } from './helpers.ts';

const modules = [healthRoutes, authRoutes, conversationRoutes, contextRoutes];

describe('brief, guard and eval routes', () => {
  let server: TestServer;
  let token: string;
  let conversationId: string;

  beforeAll(async () => {
    server = await startTestServer({ modules });
    token = await server.login();
    const { conversation } = await server.server.deps.service.create({
      industry: 'finance',
      customerName: 'Dana Reyes',
    });
    conversationId = conversation.id;
    const { service } = server.server.deps;
    await service.append(conversationId, [{ type: 'message', author: 'customer', text: "I can't log in" }], {
      kind: 'customer',
    });
    await service.append(
      conversationId,
      [{ type: 'message', author: 'ai', text: 'What is the email on your account?' }],
      { kind: 'ai' },
    );
    await service.append(conversationId, [{ type: 'message', author: 'customer', text: 'dana.reyes@example.com' }], {
      kind: 'customer',
    });
    await service.append(
      conversationId,
      [
        { type: 'fact', name: 'email', value: 'dana.reyes@example.com', source: 2, via: 'extracted' },
        {
          type: 'action',
          name: 'reset_password',
          outcome: 'failed',
          error: { system: 'identity', code: 'MFA_DEVICE_NOT_REGISTERED', message: 'no device' },
        },
        { type: 'handoff.requested', trigger: 'repeated_failure', skills: ['accounts'] },
      ],
      { kind: 'ai' },
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  const headers = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

  it('builds the brief from the record and audits the read', async () => {
    const response = await fetch(`${server.url}/v1/conversations/${conversationId}/brief`, { headers: headers() });
    expect(response.status).toBe(200);
    const { brief } = (await response.json()) as {
      brief: { facts: { name: string; value: string }[]; errors: unknown[] };
    };
    expect(brief.facts).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'email', value: 'dana.reyes@example.com' })]),
    );
    expect(JSON.stringify(brief.errors)).toContain('MFA_DEVICE_NOT_REGISTERED');
    const audit = await server.server.deps.store.listAudit(conversationId);
    expect(audit.map((entry) => entry.action)).toContain('conversation.brief_viewed');
  });

  it('flags a draft that asks again for a known fact', async () => {
    const response = await fetch(`${server.url}/v1/conversations/${conversationId}/guard`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ draft: 'Could you confirm your email address?' }),
    });
    expect(response.status).toBe(200);
    const { findings } = (await response.json()) as { findings: { kind: string; fact?: string }[] };
    expect(findings).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'repeat_ask', fact: 'email' })]));
  });

  it('evaluates a transcript and names the problem in a bad one', async () => {
    const transcript = {
      id: 't1',
      industry: 'finance',
      events: [
        { type: 'message', author: 'customer', text: 'My email is dana@example.com and I cannot log in' },
        { type: 'handoff', trigger: 'customer_request' },
        { type: 'message', author: 'agent', text: 'Can I have your email?' },
      ],
    };
    const response = await fetch(`${server.url}/v1/eval`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify(transcript),
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { id: string; handoffIndex: number; findings: { kind: string }[] };
    expect(result).toMatchObject({ id: 't1', handoffIndex: 1 });
    expect(result.findings.map((finding) => finding.kind)).toContain('repeat_ask');

    const bad = await fetch(`${server.url}/v1/eval`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ id: 't2', events: [{ type: 'message', author: 'wizard', text: 'hi' }] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/body\.events\.0\.author/);
  });
});
