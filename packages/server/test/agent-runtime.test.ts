import { BatonError, type StoredEvent } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentModule } from '../src/agent/agent-module.ts';
import type { AgentRuntime } from '../src/agent/agent-runtime.ts';
import type { AgentInput, AgentStep, AiAgent } from '../src/agent/ai-agent.ts';
import { PlaybookAgent } from '../src/agent/playbook-agent.ts';
import { modules } from '../src/app/modules.ts';
import { DemoBackOffice } from '../src/connectors/demo-back-office.ts';
import { demoMembers } from '../src/connectors/demo-back-office-data.ts';
import { startTestServer, type TestServer } from './helpers.ts';
import { ChatClient } from './support/chat-client.ts';

const dana = demoMembers[0]!;

/**
 * A real agent with test behaviour chosen by what the customer writes: "wait" parks the turn until the
 * test opens the gate, "crash" throws, "hang" never answers; anything else goes to the playbooks.
 */
class ScenarioAgent implements AiAgent {
  readonly name = 'scenario';
  readonly playbooks = new PlaybookAgent();
  #open: (() => void) | undefined;
  readonly #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  parked = 0;
  /** Conversations a turn started for, in order. */
  readonly turns: string[] = [];

  open(): void {
    this.#open?.();
  }

  async *respond(input: AgentInput, signal: AbortSignal): AsyncIterable<AgentStep> {
    this.turns.push(input.conversation.id);
    const last = [...input.events].reverse().find((event) => event.type === 'message' && event.author === 'customer');
    const text = last?.type === 'message' ? last.text : '';
    if (input.cause === 'customer_message' && text === 'wait') {
      this.parked++;
      await this.#gate;
      yield { type: 'events', events: [{ type: 'message', author: 'ai', text: 'Thanks for waiting.' }] };
      return;
    }
    if (input.cause === 'customer_message' && text === 'crash') throw new Error('agent bug');
    if (input.cause === 'customer_message' && text === 'hang') {
      // Ignores its abort signal on purpose: the runtime must not wait for it anyway.
      await new Promise(() => undefined);
    }
    yield* this.playbooks.respond(input, signal);
  }
}

describe('AgentRuntime in a running server', () => {
  let server: TestServer;
  let runtime: AgentRuntime;
  let staffToken: string;
  const agent = new ScenarioAgent();

  beforeAll(async () => {
    const agentModule = createAgentModule({ agent, connector: new DemoBackOffice(), env: {} });
    server = await startTestServer({ modules: [...modules.filter((module) => module.name !== 'agent'), agentModule] });
    runtime = agentModule.runtime!;
    staffToken = await server.login();
  });
  afterAll(async () => {
    agent.open();
    await server?.close();
  });

  const chat = (industry: string) => ChatClient.start({ baseUrl: server.url, staffToken, runtime, industry });

  it('answers other conversations while one turn is stuck, then finishes the stuck one', async () => {
    const slow = await chat('other');
    const posted = await fetch(`${server.url}/v1/conversations/${slow.conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-customer-token': slow.customerToken },
      body: JSON.stringify({ text: 'wait' }),
    });
    expect(posted.status).toBe(201);
    while (agent.parked === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    const other = await chat('ecommerce');
    const reply = ChatClient.reply(await other.say('Where is my order A10512?'));
    expect(reply).toContain('A10512');
    expect((await slow.events()).filter((event) => event.type === 'message' && event.author === 'ai')).toEqual([]);

    agent.open();
    await runtime.idle(slow.conversationId);
    expect(ChatClient.reply(await slow.events())).toBe('Thanks for waiting.');
  });

  it('stops without starting the turns still waiting for a slot', async () => {
    // One turn at a time: a parked turn holds the only slot and another conversation's turn waits for it.
    const scenario = new ScenarioAgent();
    const single = createAgentModule({ agent: scenario, env: { BATON_AGENT_CONCURRENCY: '1' } });
    const stopping = await startTestServer({
      modules: [...modules.filter((module) => module.name !== 'agent'), single],
    });
    const token = await stopping.login();
    const start = () =>
      ChatClient.start({ baseUrl: stopping.url, staffToken: token, runtime: single.runtime!, industry: 'other' });
    const parked = await start();
    const queued = await start();
    const post = (conversation: ChatClient, text: string) =>
      fetch(`${stopping.url}/v1/conversations/${conversation.conversationId}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-customer-token': conversation.customerToken },
        body: JSON.stringify({ text }),
      });
    expect((await post(parked, 'wait')).status).toBe(201);
    while (scenario.parked === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await post(queued, 'Where is my order A10512?')).status).toBe(201);
    const turnsBefore = scenario.turns.filter((id) => id === queued.conversationId).length;

    await stopping.close();
    // The parked turn was aborted; the waiting one never reached the agent.
    expect(scenario.turns.filter((id) => id === queued.conversationId).length).toBe(turnsBefore);
    scenario.open();
  });

  it('hands off with trigger error when the agent crashes or runs out of time', async () => {
    const impatient = createAgentModule({ agent: new ScenarioAgent(), env: {}, turnTimeoutMs: 300 });
    const second = await startTestServer({
      modules: [...modules.filter((module) => module.name !== 'agent'), impatient],
    });
    const token = await second.login();
    for (const [text, code] of [
      ['crash', 'AGENT_ERROR'],
      ['hang', 'TIMEOUT'],
    ] as const) {
      const conversation = await ChatClient.start({
        baseUrl: second.url,
        staffToken: token,
        runtime: impatient.runtime!,
        industry: 'other',
      });
      const turn = await conversation.say(text);
      expect(turn.find((event) => event.type === 'action')).toMatchObject({
        name: 'generate_reply',
        outcome: 'failed',
        error: { system: 'agent', code },
      });
      expect(turn.find((event) => event.type === 'handoff.requested')).toMatchObject({ trigger: 'error' });
      expect(ChatClient.reply(turn)).toMatch(/colleague/);
    }
    await second.close();
  });

  it('never writes while a human owns the conversation, and picks up after a hand-back without asking again (S7)', async () => {
    const conversation = await chat('finance');
    await conversation.say(`I can't sign in. My email is ${dana.email}`);
    await conversation.say(dana.demoCode);
    await conversation.say('it still does not let me in');
    await conversation.say('can I talk to a person please?');
    const service = server.server.deps.service;
    const id = conversation.conversationId;
    await service.append(id, [{ type: 'handoff.accepted', agentId: 'agent-alex', agentName: 'Alex' }], {
      kind: 'system',
    });

    const before = (await conversation.events()).length;
    const whileHuman = await fetch(`${server.url}/v1/conversations/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-customer-token': conversation.customerToken },
      body: JSON.stringify({ text: 'hello? is anyone there? I need help' }),
    });
    expect(whileHuman.status).toBe(201);
    await new Promise((resolve) => setImmediate(resolve));
    await runtime.idle(id);
    const during = await conversation.events(before);
    expect(during.map((event) => event.type === 'message' && event.author)).toEqual(['customer']);
    // The service refuses the AI too, whatever a runtime might try.
    await expect(
      service.append(id, [{ type: 'message', author: 'ai', text: 'I can help!' }], { kind: 'ai' }),
    ).rejects.toSatisfy((error) => BatonError.is(error) && error.code === 'not_owner');

    await service.append(
      id,
      [
        {
          type: 'message',
          author: 'agent',
          authorId: 'agent-alex',
          authorName: 'Alex',
          text: 'I registered your new phone for two-step verification.',
        },
        {
          type: 'action',
          name: 'register_mfa_device',
          actor: 'agent',
          actorId: 'agent-alex',
          outcome: 'succeeded',
        },
      ],
      { kind: 'agent', id: 'agent-alex', name: 'Alex' },
    );
    const handBack = (await conversation.events()).length;
    await service.append(
      id,
      [{ type: 'handoff.returned', fromAgentId: 'agent-alex', note: 'MFA device registered, login works now' }],
      { kind: 'agent', id: 'agent-alex', name: 'Alex' },
    );
    let welcome: StoredEvent[] = [];
    while (!welcome.some((event) => event.type === 'message' && event.author === 'ai')) {
      await runtime.idle(id);
      welcome = await conversation.events(handBack);
      if (!welcome.some((event) => event.type === 'message')) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const text = ChatClient.reply(welcome);
    expect(text).toMatch(/^Thanks for your patience, Dana\./);
    // The hand-back note is internal: the customer hears what was done, not the note.
    expect(text).not.toContain('MFA device registered');
    expect(text).toContain('register mfa device');
    expect(text).not.toMatch(/email|code|member number/i);

    const after = await conversation.say('great, thank you!');
    expect(ChatClient.reply(after)).toMatch(/welcome/i);
    expect(after.filter((event) => event.type === 'action')).toEqual([]);
  });

  it('keeps a waiting customer company and asks only for what is still missing, once (S9)', async () => {
    const conversation = await chat('ecommerce');
    expect(ChatClient.reply(await conversation.say('My package never arrived'))).toMatch(/order number/);
    const handoff = await conversation.say('I want to talk to a real person');
    expect(handoff.find((event) => event.type === 'handoff.requested')).toMatchObject({ trigger: 'customer_request' });

    const waiting = ChatClient.reply(await conversation.say('ok, how long will this take?'));
    expect(waiting).toMatch(/Thanks for waiting/);
    expect(waiting).toMatch(/number \d+ in the queue|as soon as one is free/);
    expect(waiting).toContain('your order number');

    const answered = await conversation.say("It's A10493");
    const reply = ChatClient.reply(answered);
    expect(reply).not.toContain('your order number');
    expect(reply).toMatch(/won't need to repeat/);
    const all = await conversation.events();
    const afterHandoff = all.filter((event) => event.seq > (handoff.at(-1)?.seq ?? 0));
    expect(afterHandoff.filter((event) => event.type === 'action')).toEqual([]);
    expect(afterHandoff.filter((event) => event.type === 'handoff.requested')).toEqual([]);

    // Once an agent owns it, the AI is silent again.
    const service = server.server.deps.service;
    await service.append(conversation.conversationId, [{ type: 'handoff.accepted', agentId: 'agent-kim' }], {
      kind: 'system',
    });
    const before = (await conversation.events()).length;
    await fetch(`${server.url}/v1/conversations/${conversation.conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-customer-token': conversation.customerToken },
      body: JSON.stringify({ text: 'hello?' }),
    });
    await new Promise((resolve) => setImmediate(resolve));
    await runtime.idle(conversation.conversationId);
    const during = await conversation.events(before);
    expect(during.filter((event) => event.type === 'message' && event.author === 'ai')).toEqual([]);
  });

  it('hands off on the turn it did not understand once too often, without first asking to rephrase', async () => {
    const conversation = await chat('ecommerce');
    expect(ChatClient.reply(await conversation.say('blorp zzz'))).toMatch(/didn't quite understand/);
    const second = await conversation.say('qwxv plonk');
    const said = second.filter((event) => event.type === 'message' && event.author === 'ai');
    // One sentence for the customer: the handoff, not "could you tell me in other words" and then the handoff.
    expect(said).toHaveLength(1);
    expect(ChatClient.reply(second)).not.toMatch(/didn't quite understand/);
    const upToRequest = second.slice(0, second.findIndex((event) => event.type === 'handoff.requested') + 1);
    expect(upToRequest.map((event) => (event.type === 'action' ? `action:${event.name}` : event.type))).toEqual([
      'action:ai.not_understood',
      'message',
      'handoff.requested',
    ]);
    expect(upToRequest.at(-1)).toMatchObject({ type: 'handoff.requested', trigger: 'not_understood' });
  });

  it('reads from the store what another process wrote, which its own notices skip', async () => {
    const conversation = await chat('ecommerce');
    expect(ChatClient.reply(await conversation.say('Where is my order?'))).toMatch(/order number/);
    // Another process wrote this: this process's service and runtime were never told.
    await server.server.deps.store.append(conversation.conversationId, [
      { type: 'fact', name: 'order_id', value: 'A10512', via: 'system' },
    ]);
    expect(ChatClient.reply(await conversation.say('any news?'))).toContain('A10512');
  });

  it('reads a one-time code the record redacts, and never stores it', async () => {
    const conversation = await chat('finance');
    await conversation.say(`I'm locked out of online banking, my email is ${dana.email}`);
    expect(ChatClient.reply(await conversation.say('111111'))).toMatch(/didn't match/);
    // Typed after "type the 6-digit code again", the code is redacted before the store sees it.
    const retry = await conversation.say(`sorry, it's ${dana.demoCode}`);
    expect(ChatClient.reply(retry)).toMatch(/reset your password/);
    const events = await conversation.events();
    expect(events.flatMap((event) => (event.type === 'action' ? [`${event.name}:${event.outcome}`] : []))).toEqual([
      'lookup_member:succeeded',
      'send_verification_code:succeeded',
      'verify_identity:failed',
      'verify_identity:succeeded',
      'reset_password:succeeded',
    ]);
    const typed = events.find((event) => event.type === 'message' && event.text.startsWith('sorry'));
    expect(typed).toMatchObject({ redactions: [expect.objectContaining({ kind: 'otp' })] });
    expect(JSON.stringify(events)).not.toContain(dana.demoCode);
  });
});
