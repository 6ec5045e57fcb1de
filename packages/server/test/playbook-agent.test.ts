import { decideEscalation } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { PlaybookAgent } from '../src/agent/playbook-agent.ts';
import { demoMembers } from '../src/connectors/demo-back-office-data.ts';
import { AgentHarness } from './support/agent-harness.ts';

class Harness extends AgentHarness {
  constructor(industry: string) {
    super(new PlaybookAgent(), industry);
  }
}

const dana = demoMembers[0]!;

describe('PlaybookAgent', () => {
  it('plays account access (S1): identify, verify by code, reset, then report the login error', async () => {
    const chat = new Harness('finance');
    const first = await chat.say("Hi, I can't log into my account");
    expect(first).toMatch(/email address/i);
    expect(chat.actions()).toEqual([]);

    const second = await chat.say(`It keeps saying my password is wrong. My email is ${dana.email}`);
    expect(chat.actions()).toEqual(['lookup_member:succeeded', 'send_verification_code:succeeded']);
    expect(second).toContain('Dana');
    expect(second).toMatch(/6-digit code/);
    expect(second).toContain('0198');

    const third = await chat.say(dana.demoCode);
    expect(chat.actions().slice(2)).toEqual(['verify_identity:succeeded', 'reset_password:succeeded']);
    expect(third).toMatch(/reset your password/);
    expect(JSON.stringify(chat.events.filter((event) => event.type !== 'message'))).not.toContain(dana.demoCode);
    expect(chat.events.some((event) => event.type === 'identity' && event.result === 'verified')).toBe(true);

    const fourth = await chat.say('I used the link and set a new password but it still won’t let me sign in');
    expect(chat.actions().at(-1)).toBe('check_login:failed');
    expect(fourth).toContain('MFA_DEVICE_NOT_REGISTERED');

    // Nothing the customer already gave is asked again.
    for (const event of chat.events) {
      if (event.type === 'message' && event.author === 'ai' && event.seq > 3)
        expect(event.text).not.toMatch(/what's the email|member number\?/i);
    }
  });

  it('asks for the code again after a wrong one, without resending or re-identifying', async () => {
    const chat = new Harness('finance');
    await chat.say(`locked out of online banking, member number ${dana.memberId}`);
    const wrong = await chat.say('123456');
    expect(wrong).toMatch(/didn't match/);
    const right = await chat.say(`sorry, it's ${dana.demoCode}`);
    expect(right).toMatch(/reset your password/);
    expect(chat.actions()).toEqual([
      'lookup_member:succeeded',
      'send_verification_code:succeeded',
      'verify_identity:failed',
      'verify_identity:succeeded',
      'reset_password:succeeded',
    ]);
  });

  it('plays the missing order (S2) and asks for a human when the refund is above its limit', async () => {
    const chat = new Harness('ecommerce');
    const reply = await chat.say('Where is my order A10493? It says delivered but I never got it.');
    expect(chat.actions()).toEqual([
      'find_order:succeeded',
      'track_shipment:succeeded',
      'check_refund_eligibility:blocked',
    ]);
    expect(reply).toContain('3 items, $184.20');
    expect(reply).toMatch(/front door, 2 days ago/);
    expect(chat.handoffs).toEqual([
      { trigger: 'policy', reason: 'refund above AI limit', priority: 'normal', skills: ['refunds'] },
    ]);
  });

  it('understands typos and paraphrases, and several intents in one message', async () => {
    const chat = new Harness('other');
    const reply = await chat.say('i lost my card yesterday and also I forgot my pasword');
    expect(reply).toMatch(/block that card/i);
    const answer = await chat.say(`email ${dana.email}`);
    expect(answer).toMatch(/6-digit code/);
    await chat.say(dana.demoCode);
    const card = await chat.say('the one ending 4417');
    expect(card).toMatch(/4417 is blocked/);
    // The second intent picks up where identity already stands: no new code, straight to the reset.
    expect(chat.actions()).toEqual([
      'lookup_member:succeeded',
      'send_verification_code:succeeded',
      'verify_identity:succeeded',
      'block_card:succeeded',
      'reset_password:succeeded',
    ]);
    expect(card).toMatch(/reset your password/);
  });

  it('verifies a patient and reads the referral status (S3), then sends a clinical question to a nurse', async () => {
    const chat = new Harness('healthcare');
    const ask = await chat.say('Hi, did my cardiology referral go through?');
    expect(ask).toMatch(/full name and date of birth/);
    const status = await chat.say("I'm Maria Gonzalez, born March 3 1962");
    expect(chat.actions()).toEqual(['verify_patient:succeeded', 'find_referral:succeeded']);
    expect(status).toMatch(/sent, awaiting specialist scheduling/);
    expect(status).toContain('Maria');
    const clinical = await chat.say('should I keep taking my blood pressure pills until then?');
    expect(clinical).toMatch(/nurse/);
    expect(clinical).not.toMatch(/keep taking|stop taking/i);
    expect(chat.handoffs).toEqual([
      { trigger: 'policy', reason: 'clinical question', priority: 'high', skills: ['clinical'] },
    ]);
  });

  it('answers a hello with a hello, but not a hello that comes with the reason for writing', async () => {
    expect(await new Harness('other').say('Hi there!')).toMatch(/What can I help you with/);
    expect(await new Harness('other').say('Hello, good morning')).toMatch(/What can I help you with/);
    // The customer said why they came: asking "what can I help you with?" would make them say it again.
    const chat = new Harness('other');
    const reply = await chat.say('Hi! I received my shirt today however it is the wrong size.');
    expect(reply).not.toMatch(/What can I help you with today/);
    expect(chat.actions()).toEqual(['ai.not_understood:failed']);
  });

  it('greets, and marks each turn it did not understand so the policy can hand off', async () => {
    const chat = new Harness('other');
    expect(await chat.say('hello')).toMatch(/What can I help you with/);
    expect(decideEscalation(chat.events)).toBeNull();
    expect(await chat.say('blorp zzz')).toMatch(/didn't quite understand/);
    expect(decideEscalation(chat.events)).toBeNull();
    await chat.say('qwerty uiop');
    expect(chat.actions()).toEqual(['ai.not_understood:failed', 'ai.not_understood:failed']);
    expect(decideEscalation(chat.events)).toMatchObject({ trigger: 'not_understood' });
  });
});
