import type { StoredEvent } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentModule } from '../src/agent/agent-module.ts';
import type { AgentRuntime } from '../src/agent/agent-runtime.ts';
import { PlaybookAgent } from '../src/agent/playbook-agent.ts';
import { modules } from '../src/app/modules.ts';
import { DemoBackOffice } from '../src/connectors/demo-back-office.ts';
import { demoMembers } from '../src/connectors/demo-back-office-data.ts';
import { startTestServer, type TestServer } from './helpers.ts';
import { ChatClient } from './support/chat-client.ts';

const dana = demoMembers[0]!;

function actions(events: readonly StoredEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'action' ? [`${event.name}:${event.outcome}`] : []));
}

function handoffOf(events: readonly StoredEvent[]) {
  return events.find((event) => event.type === 'handoff.requested');
}

describe.each(['sqlite', 'postgres'] as const)(
  'scenarios S1-S4 through the HTTP API with the playbook agent (%s)',
  (database) => {
    let server: TestServer;
    let runtime: AgentRuntime;
    let staffToken: string;

    beforeAll(async () => {
      const agentModule = createAgentModule({ agent: new PlaybookAgent(), connector: new DemoBackOffice(), env: {} });
      server = await startTestServer({
        database,
        modules: [...modules.filter((module) => module.name !== 'agent'), agentModule],
      });
      runtime = agentModule.runtime!;
      staffToken = await server.login();
    });

    afterAll(async () => {
      await server?.close();
    });

    const chat = (industry: string) => ChatClient.start({ baseUrl: server.url, staffToken, runtime, industry });

    it('S1: account access ends in a handoff whose brief builds on the work done', async () => {
      const conversation = await chat('finance');
      const first = ChatClient.reply(await conversation.say("Hi, I can't log in to my account"));
      expect(first).toMatch(/what's the email address on your account/i);

      const second = ChatClient.reply(
        await conversation.say(`It says my password is wrong. My email is ${dana.email}`),
      );
      expect(second).toMatch(/texted a 6-digit code/);

      const third = ChatClient.reply(await conversation.say(dana.demoCode));
      expect(third).toMatch(/reset your password/);

      const fourth = ChatClient.reply(
        await conversation.say('I used the link and set a new password but it still won’t let me in'),
      );
      expect(fourth).toContain('MFA_DEVICE_NOT_REGISTERED');

      const last = await conversation.say('still not working, can I talk to a person?');
      // The core policy ranks by priority: a person asked for in frustration goes out as `frustration`, high.
      const handoff = handoffOf(last);
      expect(handoff?.type === 'handoff.requested' && handoff.trigger).toMatch(/^(customer_request|frustration)$/);
      expect(ChatClient.reply(last)).toMatch(/colleague/);

      const events = await conversation.events();
      expect(actions(events)).toEqual([
        'lookup_member:succeeded',
        'send_verification_code:succeeded',
        'verify_identity:succeeded',
        'reset_password:succeeded',
        'check_login:failed',
      ]);
      expect(JSON.stringify(events.filter((event) => event.type !== 'message'))).not.toContain(dana.demoCode);

      const brief = await conversation.brief();
      expect(brief.reason.label).toMatch(/account access/i);
      expect(brief.customer).toMatchObject({
        name: 'Dana Reyes',
        verified: true,
        verification: { method: 'one_time_code' },
      });
      expect(brief.steps.map((step) => `${step.action}:${step.outcome}`)).toEqual(
        expect.arrayContaining(['reset_password:succeeded', 'check_login:failed']),
      );
      expect(brief.errors).toEqual([expect.objectContaining({ system: 'auth', code: 'MFA_DEVICE_NOT_REGISTERED' })]);
      expect(brief.facts.map((fact) => fact.name)).toContain('email');
      expect(brief.sentiment).toBeDefined();
      expect(brief.greeting).toMatch(/^Hi Dana/);
      expect(brief.greeting).toMatch(/verified your identity/i);
      expect(brief.greeting).toMatch(/reset your password/i);
      expect(brief.greeting).toMatch(/two-step verification/i);
      expect(brief.greeting).not.toMatch(/\?$|email/i);
    });

    it('S2: a missing order escalates by policy with the refund rule, tracking and address in the brief', async () => {
      const conversation = await chat('ecommerce');
      const turn = await conversation.say('Where is my order A10493? It says delivered but I never got it.');
      expect(actions(turn)).toEqual([
        'find_order:succeeded',
        'track_shipment:succeeded',
        'check_refund_eligibility:blocked',
      ]);
      const reply = ChatClient.reply(turn);
      expect(reply).toContain('3 items, $184.20');
      expect(reply).toMatch(/front door, 2 days ago/);
      expect(handoffOf(turn)).toMatchObject({ trigger: 'policy', skills: ['refunds'] });
      expect(handoffOf(turn)).toHaveProperty('reason', expect.stringMatching(/refund above AI limit/i));

      const brief = await conversation.brief();
      const text = JSON.stringify(brief);
      expect(brief.facts.map((fact) => fact.value)).toContain('A10493');
      expect(brief.errors).toEqual([expect.objectContaining({ system: 'refunds', code: 'REFUND_LIMIT' })]);
      expect(brief.steps.map((step) => step.action)).toEqual([
        'find_order',
        'track_shipment',
        'check_refund_eligibility',
      ]);
      // The tracking events are in the record for the agent; the brief names the step.
      const tracking = (await conversation.events()).find(
        (event) => event.type === 'action' && event.name === 'track_shipment',
      );
      expect(JSON.stringify(tracking)).toContain('Delivered, left at front door');
      expect(text).toContain('track');
      expect(brief.onFile.find((fact) => fact.name === 'street_address')?.value).toMatch(/1842 W Wabansia Ave/);
    });

    it('S3: a verified patient gets the referral status, and a clinical question goes to the nurse queue', async () => {
      const conversation = await chat('healthcare');
      expect(ChatClient.reply(await conversation.say('Hi, did my cardiology referral go through?'))).toMatch(
        /full name and date of birth/,
      );
      const verified = await conversation.say("I'm Maria Gonzalez, born March 3 1962");
      expect(actions(verified)).toEqual(['verify_patient:succeeded', 'find_referral:succeeded']);
      expect(ChatClient.reply(verified)).toMatch(/sent, awaiting specialist scheduling/);
      expect(JSON.stringify(verified)).not.toMatch(/hypertension/i);

      const clinical = await conversation.say('should I keep taking my blood pressure pills until then?');
      expect(handoffOf(clinical)).toMatchObject({ trigger: 'policy', priority: 'high', skills: ['clinical'] });
      expect(ChatClient.reply(clinical)).toMatch(/nurse/);
      expect(ChatClient.reply(clinical)).not.toMatch(/keep taking|stop taking|you should/i);
      expect(actions(clinical)).toEqual([]);
    });

    it('S4: rising frustration hands off before the customer asks, at higher priority', async () => {
      const conversation = await chat('ecommerce');
      await conversation.say("My package still hasn't arrived");
      const second = await conversation.say("It's order A10512. I already gave this number to someone yesterday");
      expect(handoffOf(second)).toBeUndefined();
      const third = await conversation.say("This is ridiculous, I've done this twice already.");
      const handoff = handoffOf(third);
      expect(handoff).toMatchObject({ trigger: 'frustration' });
      expect(['high', 'urgent']).toContain(handoff?.type === 'handoff.requested' ? handoff.priority : undefined);
      expect(ChatClient.reply(third)).toMatch(/frustrating/);

      const brief = await conversation.brief();
      expect(brief.sentiment.label).toBe('frustrated');
      expect(brief.handoff).toMatchObject({ trigger: 'frustration' });
    });
  },
);
