import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentModule } from '../src/agent/agent-module.ts';
import type { AgentRuntime } from '../src/agent/agent-runtime.ts';
import { modules } from '../src/app/modules.ts';
import { startTestServer, type TestServer } from './helpers.ts';
import { ChatClient } from './support/chat-client.ts';
import { OpenAiFakeServer } from './support/openai-fake-server.ts';

/** The LLM agent configured the way an operator does it (BATON_LLM_*), driven through the HTTP API. */
describe('LLM agent in a running server, configured from the environment', () => {
  let fake: OpenAiFakeServer;
  let server: TestServer;
  let runtime: AgentRuntime;
  let staffToken: string;

  beforeAll(async () => {
    fake = await new OpenAiFakeServer().start();
    const agentModule = createAgentModule({ env: { BATON_LLM_TIMEOUT_MS: '500' } });
    server = await startTestServer({
      modules: [...modules.filter((module) => module.name !== 'agent'), agentModule],
      env: { BATON_LLM_BASE_URL: fake.baseUrl, BATON_LLM_MODEL: 'llama3.1:8b', BATON_LLM_API_KEY: 'sk-local' },
    });
    runtime = agentModule.runtime!;
    staffToken = await server.login();
  });
  afterAll(async () => {
    await server?.close();
    await fake?.stop();
  });

  it('plays S2: tool calls become actions, the blocked refund hands off by policy', async () => {
    expect(runtime.agentName).toBe('llm');
    const conversation = await ChatClient.start({ baseUrl: server.url, staffToken, runtime, industry: 'ecommerce' });
    fake.script(
      { toolCalls: [{ name: 'find_order', arguments: { order_id: 'A10493' } }] },
      { toolCalls: [{ name: 'track_shipment', arguments: { order_id: 'A10493' } }] },
      { toolCalls: [{ name: 'check_refund_eligibility', arguments: { order_id: 'A10493' } }] },
      {
        text: "Your order shows delivered to the front door two days ago. The $184.20 refund needs a colleague's approval, so I'm passing you to one now.",
      },
    );
    const turn = await conversation.say('Where is my order A10493? It says delivered but I never got it.');
    expect(turn.flatMap((event) => (event.type === 'action' ? [`${event.name}:${event.outcome}`] : []))).toEqual([
      'find_order:succeeded',
      'track_shipment:succeeded',
      'check_refund_eligibility:blocked',
    ]);
    expect(turn.find((event) => event.type === 'handoff.requested')).toMatchObject({
      trigger: 'policy',
      skills: ['refunds'],
      reason: expect.stringMatching(/refund above AI limit/i),
    });
    expect(fake.requests[0]?.body.model).toBe('llama3.1:8b');
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer sk-local');
    expect(String(fake.requests[0]?.body.messages.at(-1)?.content)).toContain('A10493');
  });

  it('hands off with the error in the record when the model does not answer in time', async () => {
    const conversation = await ChatClient.start({ baseUrl: server.url, staffToken, runtime, industry: 'finance' });
    fake.script({ hang: true });
    const turn = await conversation.say("I can't log in to online banking");
    expect(turn.find((event) => event.type === 'action')).toMatchObject({
      name: 'generate_reply',
      outcome: 'failed',
      error: { system: 'llm', code: 'TIMEOUT' },
    });
    expect(turn.find((event) => event.type === 'handoff.requested')).toMatchObject({ trigger: 'error' });
    expect(ChatClient.reply(turn)).toMatch(/colleague/);
  });
});
