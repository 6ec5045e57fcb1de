import { describe, expect, it } from 'vitest';
import {
  asksForPerson,
  checkRefund,
  decideEscalation,
  EscalationConfig,
  type EscalationConfigInput,
  EscalationTracker,
  type EventBody,
} from '../src/index.ts';
import { scenario, untilHandoff } from './scenario-fixtures.ts';

const customer = (text: string): EventBody => ({ type: 'message', author: 'customer', text });
const ai = (text: string): EventBody => ({ type: 'message', author: 'ai', text });
const beforeHandoff = (id: string) => untilHandoff(scenario(id)).filter((event) => event.type !== 'handoff.requested');

describe('asksForPerson', () => {
  const asks = [
    'can I talk to a person?',
    'I want to speak to a human',
    'HUMAN',
    'agent please',
    'representative!!',
    'Can I speak to someone?',
    'connect me with a real person',
    'get me a supervisor',
    'I need to talk to somebody who can actually help',
    'transfer me to an operator',
    'let me talk to your manager',
    'is there a live agent?',
    'talk to huamn',
    'can i get a represenative',
    'I would like to speak with a supervisior',
  ];
  const not = [
    "I'm a real person, not a bot",
    'The agent said my refund was approved',
    'your agent was rude to me yesterday',
    'I talked to someone last week about this',
    "I don't want to talk to a human, just fix it",
    'someone stole my card',
    'I need to send money to someone',
    "I can't manage to log in",
    'my travel agent booked it',
    'Where is my order?',
  ];
  for (const text of asks) it(`asks: "${text}"`, () => expect(asksForPerson(text)).toBe(true));
  for (const text of not) it(`does not ask: "${text}"`, () => expect(asksForPerson(text)).toBe(false));
});

describe('decideEscalation', () => {
  it('S1: the customer asks for a person', () => {
    expect(decideEscalation(beforeHandoff('S1-S5'))).toMatchObject({ trigger: 'customer_request', priority: 'normal' });
  });

  it('S2: a blocked refund hands off by policy', () => {
    const decision = decideEscalation(beforeHandoff('S2'));
    expect(decision).toMatchObject({ trigger: 'policy', reason: 'refund above AI limit', skills: ['refunds'] });
  });

  it('S3: a clinical question in healthcare goes to the nurse queue at high priority', () => {
    const decision = decideEscalation(beforeHandoff('S3'), { industry: 'healthcare' });
    expect(decision).toMatchObject({ trigger: 'policy', priority: 'high', skills: ['clinical'] });
    // Outside healthcare the same words are not a clinical rule.
    expect(decideEscalation(beforeHandoff('S3'), { industry: 'ecommerce' })).toBeNull();
  });

  it('S4: rising frustration hands off before the customer asks, at high priority', () => {
    const events = beforeHandoff('S4');
    const decision = decideEscalation(events, { repeatedFailures: 5 });
    expect(decision).toMatchObject({ trigger: 'frustration', priority: 'high' });
    // One calm message does not.
    expect(decideEscalation([customer('I need to change my address')])).toBeNull();
  });

  it('the same action failing repeatedly', () => {
    const fail: EventBody = { type: 'action', name: 'charge_card', actor: 'ai', outcome: 'failed' };
    expect(decideEscalation([customer('pay my bill'), fail])).toBeNull();
    expect(decideEscalation([customer('pay my bill'), fail, fail])).toMatchObject({
      trigger: 'repeated_failure',
      reason: 'charge_card failed 2 times',
    });
    expect(decideEscalation([customer('pay my bill'), fail, fail], { repeatedFailures: 3 })).toBeNull();
  });

  it('the AI not understanding, marked by an action or said in its message', () => {
    const marker: EventBody = { type: 'action', name: 'ai.not_understood', actor: 'ai', outcome: 'failed' };
    const events: EventBody[] = [
      customer('blorp the flange'),
      marker,
      ai('Could you say that another way?'),
      customer('the flange, blorped'),
      ai("Sorry, I didn't understand that."),
    ];
    expect(decideEscalation(events.slice(0, 3))).toBeNull();
    expect(decideEscalation(events)).toMatchObject({ trigger: 'not_understood' });
    // An understood turn in between resets the count.
    expect(
      decideEscalation([...events.slice(0, 3), ai('Got it, checking now.'), customer('ok'), events[4] as EventBody]),
    ).toBeNull();
  });

  it('suspected fraud goes to the fraud team at once', () => {
    expect(decideEscalation([customer('Someone transferred $500 from my account, I did not make this')])).toMatchObject(
      {
        trigger: 'policy',
        priority: 'urgent',
        skills: ['fraud'],
      },
    );
  });

  it('configurable rules, and nothing once a human has the conversation', () => {
    const config: EscalationConfigInput = {
      rules: [{ name: 'legal', pattern: '\\b(lawyer|sue|legal action)\\b', skills: ['legal'], priority: 'high' }],
    };
    expect(decideEscalation([customer('I will take legal action')], config)).toMatchObject({
      trigger: 'policy',
      skills: ['legal'],
      reason: 'rule legal',
    });
    const handedOff: EventBody[] = [
      customer('agent please'),
      { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] },
      customer('hello? human please'),
    ];
    expect(decideEscalation(handedOff)).toBeNull();
    expect(decideEscalation([...handedOff, { type: 'handoff.returned' }, customer('agent!')])).toMatchObject({
      trigger: 'customer_request',
    });
  });

  it('a frustrated request for a person waits less', () => {
    expect(decideEscalation([customer('This is RIDICULOUS, still not working!!! get me a human')])).toMatchObject({
      trigger: 'customer_request',
      priority: 'high',
    });
  });

  it('a tracker fed one event at a time decides like the whole log at every step; a clone goes its own way', () => {
    const failed: EventBody = { type: 'action', name: 'find_order', actor: 'ai', outcome: 'failed' };
    const log: EventBody[] = [
      ...scenario('S1-S5').events,
      { type: 'handoff.returned' },
      customer('where is my order?'),
      failed,
      ai("Sorry, I didn't understand."),
      customer('This is RIDICULOUS!!! still not working'),
      ...scenario('S4').events,
    ];
    for (const config of [{}, { industry: 'healthcare', frustration: { window: 2 } }, { repeatedFailures: 1 }]) {
      const parsed = EscalationConfig.parse(config);
      const tracker = new EscalationTracker();
      log.forEach((event, index) => {
        tracker.push(event);
        expect(tracker.size).toBe(index + 1);
        expect(tracker.decide(parsed)).toEqual(decideEscalation(log.slice(0, index + 1), config));
      });
    }
    const tracker = new EscalationTracker();
    tracker.push(customer('where is my order?'));
    const copy = tracker.clone();
    copy.push(failed);
    copy.push(failed);
    copy.push(customer('ok'));
    expect(copy.decide(EscalationConfig.parse({}))).toMatchObject({ trigger: 'repeated_failure' });
    expect(tracker.decide(EscalationConfig.parse({}))).toBeNull();
    expect(tracker.size).toBe(1);
  });

  it('refunds above the limit are not for the AI', () => {
    expect(checkRefund(80)).toEqual({ allowed: true });
    expect(checkRefund(184.2)).toMatchObject({ allowed: false, error: { code: 'REFUND_LIMIT' } });
    expect(checkRefund(184.2, { refundLimit: 500 })).toEqual({ allowed: true });
    expect(EscalationConfig.parse({})).toMatchObject({ refundLimit: 100, repeatedFailures: 2, notUnderstood: 2 });
  });
});
