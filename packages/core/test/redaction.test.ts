import { describe, expect, it } from 'vitest';
import { findSecrets, redact } from '../src/index.ts';

function secrets(text: string, previousQuestion?: string): string[] {
  return findSecrets(text, previousQuestion ? { previousQuestion } : undefined).map(
    (s) => `${s.kind}:${text.slice(s.start, s.end)}`,
  );
}

describe('findSecrets', () => {
  it.each([
    ['account 12345678 pin 4321', ['pin:4321']],
    ['4321 is my pin', ['pin:4321']],
    ['My pin# is 31459', ['pin:31459']],
    ['My PIN is either 7402 or 1596.', ['pin:7402', 'pin:1596']],
    ['the code is 482913', ['otp:482913']],
    ['482913 is the code', ['otp:482913']],
    ['my password is hunter2', ['password:hunter2']],
    ['new password: "correct horse"', ['password:correct horse']],
    ["my mother's maiden name is Smith", ['security_answer:Smith']],
    ['my first pet was called Rex, a good dog', ['security_answer:Rex']],
    ['4111 1111 1111 1111', ['card_number:4111 1111 1111 1111']],
    ['card number 4539-1488-0343-6467', ['card_number:4539-1488-0343-6467']],
    ['my ssn is 123-45-6789', ['ssn:123-45-6789']],
    ['last 4 of my social is 6789', ['ssn:6789']],
    ['the cvv is 123', ['cvv:123']],
  ])('%s', (text, expected) => {
    expect(secrets(text)).toEqual(expected);
  });

  it.each([
    ['7402', 'Right, and your PIN as well please.', ['pin:7402']],
    ['482913', 'Please enter the one-time code you received.', ['otp:482913']],
    ['Sure, it is Sanders.', "What is your mother's maiden name?", ['security_answer:Sanders']],
    ['Buddy', 'And what was the name of the pet you had as a child?', ['security_answer:Buddy']],
    ['hunter2', "What's your password?", ['password:hunter2']],
    ['6789', 'To confirm, last four of your social?', ['ssn:6789']],
    ['12345678 and 4321', 'Your account number and PIN, please?', ['pin:4321']],
  ])('%s after "%s"', (text, question, expected) => {
    expect(secrets(text, question)).toEqual(expected);
  });

  it.each([
    ['my password is not working'],
    ['I forgot my password'],
    ['my zip code is 60614'],
    ['promo code 20202 did not work'],
    ['order 12345678 never came'],
    ['call me at (312) 555-0198'],
    ['my username is nb964325'],
  ])('finds nothing in: %s', (text) => {
    expect(secrets(text)).toEqual([]);
  });

  it('does not take a refusal or a zip for a secret', () => {
    expect(secrets('I forgot.', 'Right, and your PIN as well please.')).toEqual([]);
    expect(secrets("I don't know", "What is your mother's maiden name?")).toEqual([]);
    expect(secrets('44354', 'I need two of: zip code, PIN, username')).toEqual([]);
  });
});

describe('redact', () => {
  it('replaces each secret with a marker and says where the markers are', () => {
    const { text, redactions } = redact('account 12345678 pin 4321 and my password is hunter2');
    expect(text).toBe('account 12345678 pin [pin] and my password is [password]');
    expect(redactions).toEqual([
      { kind: 'pin', start: 21, end: 26 },
      { kind: 'password', start: 46, end: 56 },
    ]);
    for (const r of redactions) expect(text.slice(r.start, r.end)).toBe(`[${r.kind}]`);
  });

  it('uses the question to redact a bare answer', () => {
    expect(redact('Sanders', { previousQuestion: "What is your mother's maiden name?" }).text).toBe(
      '[security_answer]',
    );
  });

  it('leaves a text without secrets untouched', () => {
    expect(redact('my order A10493 never arrived')).toEqual({ text: 'my order A10493 never arrived', redactions: [] });
  });
});
