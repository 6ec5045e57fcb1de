import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText } from 'ai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LlmAgent } from '../src/agent/llm-agent.ts';
import { demoMembers } from '../src/connectors/demo-back-office-data.ts';
import { AgentHarness } from './support/agent-harness.ts';
import { OpenAiFakeServer } from './support/openai-fake-server.ts';

const dana = demoMembers[0]!;
let fake: OpenAiFakeServer;

beforeAll(async () => {
  fake = await new OpenAiFakeServer().start();
});
afterAll(async () => {
  await fake.stop();
});
afterEach(() => {
  expect(fake.remaining).toBe(0);
  fake.requests.length = 0;
});

function agent(options: { timeoutMs?: number; maxRetries?: number; baseUrl?: string } = {}) {
  return new LlmAgent({
    baseUrl: options.baseUrl ?? fake.baseUrl,
    model: 'scripted-model',
    apiKey: 'sk-test',
    maxRetries: options.maxRetries ?? 0,
    timeoutMs: options.timeoutMs ?? 10_000,
  });
}

function toolMessages(index: number) {
  return fake.requests[index]?.body.messages.filter((message) => message.role === 'tool') ?? [];
}

describe('LlmAgent against a scripted OpenAI-format server', () => {
  it('plays S1 with tools from the registry, corrects a bad tool call and hands off on request', async () => {
    const chat = new AgentHarness(agent(), 'finance');

    fake.script({ text: "I'm sorry you're locked out. What's the email address on your account?" });
    const first = await chat.say("Hi, I can't log into my account");
    expect(first).toMatch(/email address/);
    const firstRequest = fake.requests[0]!;
    expect(firstRequest.body.stream).toBe(true);
    expect(firstRequest.headers.authorization).toBe('Bearer sk-test');
    expect(firstRequest.body.tools?.map((offered) => offered.function.name)).toEqual(
      expect.arrayContaining(['lookup_member', 'verify_identity', 'reset_password', 'check_login', 'request_handoff']),
    );
    expect(chat.deltas.join('')).toBe(first);

    fake.script(
      { toolCalls: [{ name: 'lookup_member', arguments: { email: dana.email } }] },
      // A bad call: the argument is misnamed. The registry's validation error goes back to the model.
      { toolCalls: [{ name: 'send_verification_code', arguments: { member: dana.memberId } }] },
      { toolCalls: [{ name: 'send_verification_code', arguments: { member_id: dana.memberId } }] },
      { text: 'Thanks, Dana. I texted a 6-digit code to the phone ending 0198. What is the code?' },
    );
    await chat.say(`It says my password is wrong. It's ${dana.email}`);
    expect(chat.actions()).toEqual([
      'lookup_member:succeeded',
      'send_verification_code:failed',
      'send_verification_code:succeeded',
    ]);
    const invalid = chat.events.find((event) => event.type === 'action' && event.outcome === 'failed');
    expect(invalid).toMatchObject({ error: { system: 'baton', code: 'INVALID_INPUT' } });
    const errorShown = toolMessages(3).at(-1);
    expect(String(errorShown?.content)).toContain('INVALID_INPUT');
    expect(String(errorShown?.content)).toContain('member_id');
    // The system prompt carries what is known, so the model has no reason to ask again.
    const system = String(fake.requests[1]?.body.messages[0]?.content);
    expect(system).toContain(`email: ${dana.email}`);

    fake.script(
      { toolCalls: [{ name: 'verify_identity', arguments: { member_id: dana.memberId, code: dana.demoCode } }] },
      { toolCalls: [{ name: 'reset_password', arguments: { member_id: dana.memberId } }] },
      {
        text: "You're verified and I reset your password; a reset link is in your email. Tell me how signing in goes.",
      },
    );
    await chat.say(dana.demoCode);
    expect(chat.actions().slice(3)).toEqual(['verify_identity:succeeded', 'reset_password:succeeded']);
    expect(chat.events.some((event) => event.type === 'identity' && event.result === 'verified')).toBe(true);
    expect(JSON.stringify(chat.events.filter((event) => event.type === 'action'))).not.toContain(dana.demoCode);

    fake.script(
      { toolCalls: [{ name: 'check_login', arguments: { member_id: dana.memberId } }] },
      { text: 'The login service still refuses it with MFA_DEVICE_NOT_REGISTERED.' },
    );
    await chat.say('I set a new password but it still won’t let me in');
    expect(chat.events.at(-2)).toMatchObject({
      type: 'action',
      name: 'check_login',
      outcome: 'failed',
      error: { system: 'auth', code: 'MFA_DEVICE_NOT_REGISTERED' },
    });
    // Steps already taken are in the prompt, with their errors.
    fake.script(
      {
        toolCalls: [
          {
            name: 'request_handoff',
            arguments: {
              reason: 'login fails: MFA device not registered',
              trigger: 'customer_request',
              skills: ['accounts'],
            },
          },
        ],
      },
      { text: 'Of course. A colleague is taking over and will see everything we did.' },
    );
    await chat.say('still not working, can I talk to a person?');
    const lastSystem = String(fake.requests.at(-2)?.body.messages[0]?.content);
    expect(lastSystem).toContain('reset_password');
    expect(lastSystem).toContain('MFA_DEVICE_NOT_REGISTERED');
    expect(lastSystem).toContain('identity verified (one_time_code)');
    expect(chat.handoffs).toEqual([
      {
        trigger: 'customer_request',
        reason: 'login fails: MFA device not registered',
        priority: 'normal',
        skills: ['accounts'],
      },
    ]);
  });

  it('plays S2: finds the order, tracks it, is blocked on the refund and hands off by policy', async () => {
    const chat = new AgentHarness(agent(), 'ecommerce');
    fake.script(
      {
        toolCalls: [
          { name: 'find_order', arguments: { order_id: 'A10493' } },
          { name: 'track_shipment', arguments: { order_id: 'A10493' } },
        ],
      },
      { toolCalls: [{ name: 'check_refund_eligibility', arguments: { order_id: 'A10493' } }] },
      {
        toolCalls: [
          {
            name: 'request_handoff',
            arguments: { reason: 'refund above AI limit', trigger: 'policy', skills: ['refunds'] },
          },
        ],
      },
      { text: 'Your order of 3 items ($184.20) shows delivered two days ago. A colleague will refund or reship it.' },
    );
    await chat.say('Where is my order A10493? It says delivered but I never got it.');
    expect(chat.actions()).toEqual([
      'find_order:succeeded',
      'track_shipment:succeeded',
      'check_refund_eligibility:blocked',
    ]);
    expect(chat.events.find((event) => event.type === 'action' && event.outcome === 'blocked')).toMatchObject({
      error: { system: 'refunds', code: 'REFUND_LIMIT' },
    });
    expect(chat.handoffs).toEqual([
      { trigger: 'policy', reason: 'refund above AI limit', priority: 'normal', skills: ['refunds'] },
    ]);
    // The model saw the tool results, including the blocked refund.
    expect(
      toolMessages(2)
        .map((message) => String(message.content))
        .join(' '),
    ).toContain('REFUND_LIMIT');
  });

  it('hands off with trigger error when the provider times out, and records why', async () => {
    const chat = new AgentHarness(agent({ timeoutMs: 300 }), 'ecommerce');
    fake.script({ hang: true });
    const reply = await chat.say('Where is my order A10493?');
    expect(reply).toMatch(/colleague/);
    expect(chat.events.find((event) => event.type === 'action')).toMatchObject({
      name: 'generate_reply',
      outcome: 'failed',
      error: { system: 'llm', code: 'TIMEOUT' },
    });
    expect(chat.handoffs).toEqual([
      { trigger: 'error', reason: 'AI unavailable: TIMEOUT', priority: 'normal', skills: [] },
    ]);
  });

  it.each([
    [{ status: 429, error: { message: 'Rate limit reached' } }, 'RATE_LIMITED'],
    [{ status: 503, error: { message: 'The server is overloaded' } }, 'PROVIDER_UNAVAILABLE'],
    [{ disconnect: true as const }, 'UNREACHABLE'],
  ])('hands off when the provider answers %o', async (reply, code) => {
    const chat = new AgentHarness(agent(), 'finance');
    fake.script(reply);
    await chat.say('I lost my card');
    expect(chat.events.find((event) => event.type === 'action')).toMatchObject({ error: { system: 'llm', code } });
    expect(chat.handoffs[0]?.trigger).toBe('error');
  });

  it('hands off when nothing listens at the configured URL', async () => {
    const closed = await new OpenAiFakeServer().start();
    const url = closed.baseUrl;
    await closed.stop();
    const chat = new AgentHarness(agent({ baseUrl: url }), 'finance');
    await chat.say('hello?');
    expect(chat.events.find((event) => event.type === 'action')).toMatchObject({ error: { code: 'UNREACHABLE' } });
    expect(chat.handoffs[0]?.trigger).toBe('error');
  });

  it('answers non-streaming requests with JSON too', async () => {
    fake.script({ toolCalls: [{ name: 'find_order', arguments: { order_id: 'A10493' } }] });
    const model = createOpenAICompatible({ name: 'fake', baseURL: fake.baseUrl }).chatModel('scripted-model');
    const result = await generateText({ model, prompt: 'where is A10493', maxRetries: 0 });
    expect(fake.requests[0]?.body.stream).toBeFalsy();
    expect(result.toolCalls.map((call) => [call.toolName, call.input])).toEqual([
      ['find_order', { order_id: 'A10493' }],
    ]);
  });
});
