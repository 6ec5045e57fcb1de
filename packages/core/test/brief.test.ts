import { describe, expect, it } from 'vitest';
import { Brief, buildBrief, type EventBody, nextStepFor, renderBrief } from '../src/index.ts';
import { scenario, untilHandoff } from './scenario-fixtures.ts';

/** An action the AI took, with its outcome. */
const action = (name: string, outcome: 'succeeded' | 'failed' = 'succeeded'): EventBody => ({
  type: 'action',
  name,
  actor: 'ai',
  outcome,
});

describe('buildBrief', () => {
  it('S1: reason, verification, steps, error and an opening line that builds on the work done', () => {
    const s1 = scenario('S1-S5');
    const brief = buildBrief(s1.events);
    expect(Brief.parse(brief)).toEqual(brief);
    expect(brief.reason.label).toBe('account access');
    expect(brief.reason.text).toContain("can't log in");
    expect(brief.customer).toMatchObject({
      name: 'Dana Reyes',
      verified: true,
      verification: { method: 'one-time code' },
    });
    expect(brief.facts.map((fact) => fact.name)).toContain('email');
    expect(brief.steps.map((step) => [step.action, step.outcome])).toEqual([
      ['verify_identity', 'succeeded'],
      ['reset_password', 'succeeded'],
      ['send_reset_link', 'succeeded'],
      ['check_login', 'failed'],
    ]);
    expect(brief.errors).toEqual([
      {
        system: 'auth',
        code: 'MFA_DEVICE_NOT_REGISTERED',
        message: 'no MFA device registered for this member',
        source: 11,
      },
    ]);
    expect(brief.handoff).toMatchObject({ trigger: 'customer_request', source: 13 });
    // The brief stops at the handoff: the agent's drafts after it are not part of it.
    expect(brief.upTo).toBe(14);
    expect(brief.greeting).toMatch(/^Hi Dana, I can see you've been working on getting access to your account back\./);
    expect(brief.greeting).toContain("We've verified your identity, reset your password");
    expect(brief.greeting).toContain("but you're still having trouble logging in.");
    expect(brief.greeting).toContain('Let me check the two-step verification settings');
    expect(brief.greeting).not.toMatch(/email|who (?:am I|I'm) speaking|start by/i);
  });

  it('S1: the one-time code the customer typed appears nowhere in the brief', () => {
    const brief = buildBrief(scenario('S1-S5').events);
    expect(JSON.stringify(brief)).not.toContain('581204');
  });

  it('S2: lists the order, the tracking, the refund rule that blocked the AI and the address on file', () => {
    const brief = buildBrief(scenario('S2').events);
    expect(brief.reason.label).toBe('missing order');
    expect(brief.facts).toContainEqual(expect.objectContaining({ name: 'order_id', value: 'A10493', source: 0 }));
    expect(brief.onFile).toContainEqual(
      expect.objectContaining({ name: 'street_address', value: '12 Elm St, Springfield, IL 62704', source: 1 }),
    );
    expect(brief.steps.find((step) => step.action === 'track_shipment')).toMatchObject({
      outcome: 'succeeded',
      source: 2,
    });
    expect(brief.failed).toEqual([
      { action: 'refund_order', outcome: 'blocked', source: 6, why: 'refund above AI limit' },
    ]);
    expect(brief.errors[0]).toMatchObject({ system: 'policy', code: 'REFUND_LIMIT' });
    expect(brief.handoff).toMatchObject({ trigger: 'policy', reason: 'refund above AI limit', skills: ['refunds'] });
    expect(brief.unknown).toEqual([]);
    expect(brief.greeting).toContain('order A10493');
    expect(brief.greeting).not.toMatch(/order number/i);
    expect(renderBrief(brief)).toContain('REFUND_LIMIT');
  });

  it('S3 and S4: referral reason and verification; frustration with its trend', () => {
    const s3 = buildBrief(scenario('S3').events);
    expect(s3.reason.label).toBe('referral status');
    expect(s3.customer).toMatchObject({ verified: true, verification: { method: 'name and date of birth' } });
    expect(s3.handoff).toMatchObject({ priority: 'high', skills: ['clinical'] });
    const s4 = buildBrief(scenario('S4').events);
    expect(s4.sentiment.label).toBe('frustrated');
    expect(s4.sentiment.trend).toBe('rising');
    expect(s4.sentiment.evidence.at(-1)?.text).toContain('ridiculous');
    expect(s4.greeting).toMatch(/sorry/i);
  });

  it('asks in its opening line only for what is still unknown', () => {
    const events: EventBody[] = [
      { type: 'message', author: 'customer', text: "My package never arrived and it's been two weeks" },
      { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] },
    ];
    const brief = buildBrief(events);
    expect(brief.reason.label).toBe('missing order');
    expect(brief.unknown).toEqual(['order_id']);
    expect(brief.greeting).toContain('order number');
  });

  describe('the reason for contact', () => {
    const chat = (...turns: Array<[author: 'customer' | 'ai', text: string]>): EventBody[] => [
      ...turns.map(([author, text]): EventBody => ({ type: 'message', author, text })),
      { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] },
    ];

    it('quotes what the customer came for, not their greeting or their answer to a question', () => {
      const brief = buildBrief(
        chat(
          ['customer', 'Hello there!'],
          ['ai', 'Hi! What can I do for you?'],
          ['customer', 'Hmm, the checkout page just hangs on a blank screen'],
          ['ai', 'Sorry about that. Could I have your full name?'],
          ['customer', 'Priya Natarajan'],
        ),
      );
      expect(brief.reason).toMatchObject({ label: 'technical issue', source: 2 });
      expect(brief.reason.text).toContain('checkout page');
    });

    it('skips a short answer to a question for a detail even when no reason matched', () => {
      const brief = buildBrief(
        chat(
          ['ai', 'Before we start, what is your username?'],
          ['customer', 'mk_2291'],
          ['customer', 'Got a question regarding the loyalty points I earned last spring'],
        ),
      );
      expect(brief.reason.label).toBe('general question');
      expect(brief.reason.text).toContain('loyalty points');
      expect(brief.greeting).toMatch(/^Hi there, I've read through our conversation so far\./);
    });

    it('quotes the message that gives the reason, not an earlier bare answer holding its word', () => {
      const brief = buildBrief(
        chat(
          ['ai', 'Hello! What is your username?'],
          ['customer', 'username: jb_0412'],
          ['ai', 'Thanks. How can I help?'],
          ['customer', 'I forgot my password and the reset email never shows up'],
        ),
      );
      expect(brief.reason).toMatchObject({ label: 'account access', source: 3 });
    });

    it("counts an action for the reason its verb names: cancel_reservation is a cancellation's, not a booking's", () => {
      expect(buildBrief([action('get_reservation_details'), action('cancel_reservation')]).reason.label).toBe(
        'cancellation',
      );
      expect(buildBrief([action('update_reservation_flights')]).reason.label).toBe('booking');
    });

    it.each([
      ['My discount code says it is expired at checkout', 'promo code'],
      ['The same jacket costs $30 less at another shop, can you match the price?', 'pricing'],
      ['Is the wool coat lined, and does it come in navy?', 'product question'],
      ['I want to add a second lamp to the order I placed this morning', 'order change'],
      ['How do I renew my gold membership before it lapses?', 'subscription'],
      ['My insurance claim for the MRI was rejected', 'claim'],
      ['Whenever I search for sandals I get unrelated results', 'technical issue'],
      ['Somebody just withdrew $200 from my checking account, it was not me', 'fraud'],
      ['The phone number on my account is wrong', 'account update'],
      ['I got the wrong colour and want to send it back', 'refund'],
      ['Can I move my Tuesday flight to Friday morning?', 'booking'],
      ['I need to reschedule my flight home to next week', 'booking'],
      ['Can I reschedule my dental appointment?', 'appointment'],
      ['My connecting flight to Denver was cancelled and I am stuck at the gate', 'travel disruption'],
      ['Please cancel my hotel booking for next week', 'cancellation'],
      ['I want to cancel my flight booking to Lisbon', 'cancellation'],
      ['Is the downtown branch open on Sunday?', 'store hours'],
      ['There are two withdrawals from my savings account this morning', 'fraud'],
      ['$250 is gone from my checking account', 'fraud'],
      ['How much money is in my checking account?', 'balance'],
      ['I have not recieved the blender I ordered two weeks ago', 'missing order'],
    ])('"%s" → %s', (text, label) => {
      expect(buildBrief(chat(['customer', text])).reason.label).toBe(label);
    });
  });

  it('opens on the last outcome of each action: a retry that worked is done, a step that then failed is the problem', () => {
    const brief = buildBrief([
      { type: 'message', author: 'customer', text: 'I need to book a table for four tonight' },
      action('book_table', 'failed'),
      action('book_table', 'succeeded'),
      action('send_confirmation', 'succeeded'),
      action('send_confirmation', 'failed'),
      { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] },
    ]);
    expect(brief.greeting).toContain("We've booked the table, but we weren't able to send the confirmation.");
    expect(brief.greeting).not.toMatch(/sent the confirmation|able to book/);
  });

  it('never quotes a PIN from the customer words it shows', () => {
    const events: EventBody[] = [
      {
        type: 'message',
        author: 'customer',
        text: 'Someone took $500 from my account!! my pin is 7402 and acct 84318931431',
      },
      {
        type: 'message',
        author: 'customer',
        text: "I remember my PIN again, it's either 5380 or 9503. This is ridiculous!!",
      },
    ];
    const text = JSON.stringify(buildBrief(events));
    for (const secret of ['7402', '5380', '9503']) expect(text).not.toContain(secret);
  });

  it('turns an error code into a next step by its shape, not a list of codes', () => {
    expect(nextStepFor({ system: 'auth', code: 'TOTP_SEED_MISSING', message: '' })).toMatch(/two-step/);
    expect(nextStepFor({ system: 'core', code: 'ACCOUNT_LOCKED_OUT', message: '' })).toMatch(/locked/);
    expect(nextStepFor({ system: 'x', code: 'E42', message: '' })).toContain('E42');
  });

  it('stops at the first handoff by default and honours upTo', () => {
    const events = untilHandoff(scenario('S1-S5'));
    expect(buildBrief(events, { upTo: 3 }).steps).toEqual([]);
    expect(buildBrief(events, { upTo: 3 }).upTo).toBe(3);
  });
});
