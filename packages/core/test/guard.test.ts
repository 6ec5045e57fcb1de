import { describe, expect, it } from 'vitest';
import { ContinuityGuard, checkDraft, type EventBody, Finding, prepareGuard } from '../src/index.ts';
import { scenario, untilHandoff } from './scenario-fixtures.ts';

const keys = (findings: Finding[]) =>
  findings.map((finding) =>
    finding.kind === 'repeat_ask'
      ? `repeat_ask:${finding.fact}`
      : finding.kind === 'repeat_action'
        ? `repeat_action:${finding.action}`
        : 'restart_phrase',
  );

describe('continuity guard on S5 (after taking over S1)', () => {
  const events = untilHandoff(scenario('S1-S5'));
  const guard = prepareGuard(events);

  it('flags the email as a repeat ask, masked, with the message it came from', () => {
    const draft = 'Can you confirm your email address?';
    const [finding, ...rest] = guard(draft);
    expect(rest).toEqual([]);
    expect(Finding.parse(finding)).toEqual(finding);
    expect(finding).toMatchObject({
      kind: 'repeat_ask',
      fact: 'email',
      known: { value: 'd***@example.com', source: 2 },
    });
    expect(finding?.suggestion).toContain('d***@example.com');
    expect(finding?.suggestion).not.toContain('dana.reyes@example.com');
    expect(finding?.span).toEqual({ start: draft.indexOf('email address'), end: draft.indexOf('?') });
  });

  it('flags the password reset as a repeat action that did not help, and offers the next step', () => {
    const findings = guard('Have you tried resetting your password?');
    expect(keys(findings)).toEqual(['repeat_action:reset_password']);
    expect(findings[0]).toMatchObject({ source: 7, outcome: 'succeeded' });
    expect(findings[0]?.suggestion).toMatch(/already reset your password.*MFA_DEVICE_NOT_REGISTERED.*two-step/);
  });

  it('flags the restart phrase and offers the summary of the work done instead', () => {
    const findings = guard('Let me start by getting some information from you.');
    expect(keys(findings)).toEqual(['restart_phrase']);
    expect(findings[0]?.suggestion).toContain("We've verified your identity");
  });

  it('passes the next step', () => {
    expect(guard('Let me check your two-step verification settings.')).toEqual([]);
  });

  it('passes its own suggested opening line', () => {
    expect(
      guard(
        "Hi Dana, I can see you've been working on getting access to your account back. We've verified your identity and reset your password, but you're still having trouble logging in. Let me check the two-step verification settings that might be causing this.",
      ),
    ).toEqual([]);
  });
});

describe('continuity guard: adversarial drafts', () => {
  const events = untilHandoff(scenario('S1-S5'));
  const guard = prepareGuard(events);
  const cases: Array<[string, string[]]> = [
    ['Is there another email we should use for the reset link?', []],
    ["What's the email of the account holder's spouse?", []],
    ['I have your email as d***@example.com, is that still right?', []],
    ['Just to confirm, is dana.reyes@example.com still the best email?', []],
    ['Could you check your email for the link I sent?', []],
    ['Did you get the email we sent?', []],
    ['What phone number should we register for two-step verification?', []],
    ['Please try logging in again now.', []],
    ['Who am I speaking with?', ['repeat_ask:full_name']],
    ['Sure, could I get your e-mail, please?', ['repeat_ask:email']],
    ['Email please.', ['repeat_ask:email']],
    ['Can you verify your identity for me first?', ['repeat_action:verify_identity']],
    ['I can see we already reset your password, but that did not fix it.', []],
    ['Since we reset your password, have you been able to log in?', []],
    ["I'll send you a new password reset link.", ['repeat_action:send_reset_link']],
    ['Let me reset your password one more time.', ['repeat_action:reset_password']],
    ['Could you tell me what the issue is?', ['restart_phrase']],
    ['I see you were chatting with our AI assistant earlier.', ['restart_phrase']],
    ['What have you tried so far?', ['restart_phrase']],
    ['Thanks for waiting. The cause is that no device is registered for two-step verification.', []],
  ];
  for (const [draft, expected] of cases) {
    it(`${expected.length ? expected.join(', ') : 'passes'}: "${draft}"`, () => {
      expect(keys(guard(draft)).sort()).toEqual([...expected].sort());
    });
  }

  it('does not count a step a policy blocked: the human is the one allowed to do it', () => {
    const s2 = prepareGuard(untilHandoff(scenario('S2')));
    expect(s2("I'll refund your order now.")).toEqual([]);
    expect(keys(s2('Let me track your package.'))).toEqual(['repeat_action:track_shipment']);
    expect(keys(s2('Can you give me the shipping address?'))).toEqual(['repeat_ask:street_address']);
  });

  it('maps action names to words generally, not by a table of known actions', () => {
    const events: EventBody[] = [
      { type: 'message', author: 'customer', text: 'The app keeps crashing' },
      { type: 'action', name: 'restartApp', actor: 'system', outcome: 'succeeded' },
      { type: 'action', name: 'router_reboot', actor: 'system', outcome: 'failed' },
      { type: 'handoff.requested', trigger: 'manual', priority: 'normal', skills: [] },
    ];
    const guard = prepareGuard(events);
    expect(keys(guard('Try restarting the app.'))).toEqual(['repeat_action:restartApp']);
    expect(keys(guard("Let's close and reopen the application."))).toEqual(['repeat_action:restartApp']);
    expect(keys(guard('Could you reboot your router?'))).toEqual(['repeat_action:router_reboot']);
    expect(guard('Could you reinstall the app?')).toEqual([]);
    expect(guard('Can you turn your phone off and back on?')).toEqual([]);
  });

  it('"how can I help you today?" is a restart only after a handoff', () => {
    const before = untilHandoff(scenario('S1-S5')).filter((event) => !event.type.startsWith('handoff'));
    expect(checkDraft(before, 'How can I help you today?')).toEqual([]);
    expect(keys(checkDraft(untilHandoff(scenario('S1-S5')), 'How can I help you today?'))).toEqual(['restart_phrase']);
  });

  it('asking for a fact nobody gave yet passes', () => {
    const guard = prepareGuard(untilHandoff(scenario('S2')));
    expect(guard('Can I have your phone number in case the courier needs to call?')).toEqual([]);
  });
});

describe('ContinuityGuard (incremental)', () => {
  it('gives the same findings as a fresh guard while events arrive one by one', () => {
    const transcript = scenario('S1-S5');
    const incremental = new ContinuityGuard();
    transcript.events.forEach((event, index) => {
      if (event.type === 'message' && event.author === 'agent') {
        expect(incremental.check(event.text)).toEqual(prepareGuard(transcript.events.slice(0, index))(event.text));
      }
      incremental.push(event);
    });
    expect(incremental.size).toBe(transcript.events.length);
  });

  it('learns a fact the moment the customer gives it', () => {
    const guard = new ContinuityGuard({ handedOff: true });
    guard.push({ type: 'message', author: 'agent', text: "What's your order number?" });
    expect(guard.check("What's your order number?")).toEqual([]);
    guard.push({ type: 'message', author: 'customer', text: "It's B55120" });
    expect(keys(guard.check("What's your order number?"))).toEqual(['repeat_ask:order_id']);
  });
});
