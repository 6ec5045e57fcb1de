import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AiAgent } from '../src/agent/ai-agent.ts';
import { LlmAgent } from '../src/agent/llm-agent.ts';
import { PlaybookAgent } from '../src/agent/playbook-agent.ts';
import { demoMembers } from '../src/connectors/demo-back-office-data.ts';
import { AgentHarness } from './support/agent-harness.ts';
import { OpenAiFakeServer, type Script } from './support/openai-fake-server.ts';

/**
 * The AiAgent contract, run against both implementations: the same customer turns must produce the
 * same record (actions, identity checks, masking) and the same handoff. The LLM side is scripted with
 * the calls a model makes; the playbook side decides for itself.
 */
const dana = demoMembers[0]!;
let fake: OpenAiFakeServer;

beforeAll(async () => {
  fake = await new OpenAiFakeServer().start();
});
afterAll(async () => {
  await fake.stop();
});

interface Implementation {
  name: string;
  agent: () => AiAgent;
  /** What the model would do for each customer turn (ignored by the playbook agent). */
  script: (...turn: Script[]) => void;
}

const implementations: Implementation[] = [
  { name: 'playbook', agent: () => new PlaybookAgent(), script: () => undefined },
  {
    name: 'llm',
    agent: () => new LlmAgent({ baseUrl: fake.baseUrl, model: 'scripted', maxRetries: 0 }),
    script: (...turn) => fake.script(...turn),
  },
];

describe.each(implementations)('AiAgent contract: $name', ({ agent, script }) => {
  it('records S2 the same way: three actions, the blocked refund, a policy handoff to refunds', async () => {
    const chat = new AgentHarness(agent(), 'ecommerce');
    script(
      {
        toolCalls: [
          { name: 'find_order', arguments: { order_id: 'A10493' } },
          { name: 'track_shipment', arguments: { order_id: 'A10493' } },
        ],
      },
      { toolCalls: [{ name: 'check_refund_eligibility', arguments: { order_id: 'A10493' } }] },
      { toolCalls: [{ name: 'request_handoff', arguments: { reason: 'refund above AI limit', skills: ['refunds'] } }] },
      { text: 'A colleague will refund or reship your order.' },
    );
    const reply = await chat.say('Where is my order A10493? It says delivered but I never got it.');
    expect(reply).not.toBe('');
    expect(chat.actions()).toEqual([
      'find_order:succeeded',
      'track_shipment:succeeded',
      'check_refund_eligibility:blocked',
    ]);
    expect(chat.handoffs).toEqual([expect.objectContaining({ trigger: 'policy', skills: ['refunds'] })]);
  });

  it('verifies identity the same way: pending then verified, the code never in the record', async () => {
    const chat = new AgentHarness(agent(), 'finance');
    script(
      { toolCalls: [{ name: 'lookup_member', arguments: { email: dana.email } }] },
      { toolCalls: [{ name: 'send_verification_code', arguments: { member_id: dana.memberId } }] },
      { text: 'I texted you a code. What is it?' },
    );
    await chat.say(`I'm locked out of online banking, my email is ${dana.email}`);
    script(
      { toolCalls: [{ name: 'verify_identity', arguments: { member_id: dana.memberId, code: dana.demoCode } }] },
      { toolCalls: [{ name: 'reset_password', arguments: { member_id: dana.memberId } }] },
      { text: 'Verified, and your password is reset.' },
    );
    await chat.say(dana.demoCode);
    expect(chat.actions()).toEqual([
      'lookup_member:succeeded',
      'send_verification_code:succeeded',
      'verify_identity:succeeded',
      'reset_password:succeeded',
    ]);
    const identity = chat.events.flatMap((event) =>
      event.type === 'identity' ? [`${event.method}:${event.result}`] : [],
    );
    expect(identity).toEqual(['one_time_code:pending', 'one_time_code:verified']);
    const record = JSON.stringify(chat.events.filter((event) => event.type !== 'message'));
    expect(record).not.toContain(dana.demoCode);
    expect(fake.remaining).toBe(0);
  });
});
