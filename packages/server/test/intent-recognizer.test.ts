import { describe, expect, it } from 'vitest';
import { editDistance, recognizeIntents, stem, tokenize } from '../src/agent/intent-recognizer.ts';
import { builtInPlaybooks } from '../src/agent/playbooks/index.ts';

const tasks = builtInPlaybooks.filter((playbook) => !playbook.reactive).map(({ id, signals }) => ({ id, signals }));
const ids = (text: string) => recognizeIntents(text, tasks).map((match) => match.id);

describe('intent recognition', () => {
  it.each([
    ["I can't log in to my account", 'account_access'],
    ["i'm locked out of online banking", 'account_access'],
    ['my login isnt working since yesterday', 'account_access'],
    ['forgot my pasword', 'account_access'],
    ["can't acess my acount", 'account_access'],
    ['it wont let me sign in', 'account_access'],
    ['someone stole my card', 'card_block'],
    ['I lost my debit card, please freeze it', 'card_block'],
    ["where's my package?", 'missing_order'],
    ['my parcel never arrived', 'missing_order'],
    ['tracking says deliverd but I did not get it', 'missing_order'],
    ['I want my money back for order A10512', 'refund'],
    ['did the cardiologist get my referal?', 'referral_status'],
    ['should I stop taking my medication before the appointment?', 'clinical_question'],
  ])('recognises %j as %s', (text, intent) => {
    expect(ids(text)).toContain(intent);
  });

  it('finds several intents in one message, in the order they were written', () => {
    expect(ids('I lost my card and also I forgot my password')).toEqual(['card_block', 'account_access']);
    expect(ids('forgot my password, and I lost my card')).toEqual(['account_access', 'card_block']);
  });

  it('does not see intents in unrelated words or near misses', () => {
    expect(ids('what are your opening hours?')).toEqual([]);
    expect(ids('thanks, that is all')).toEqual([]);
    // "cart" is not "card", "pen" is not "pin": short words must match exactly.
    expect(ids('my cart is empty')).toEqual([]);
  });

  it('normalises how people type', () => {
    expect(tokenize("Can't LOG-IN, won’t work")).toEqual(['cannot', 'log', 'in', 'will', 'not', 'work']);
    expect(stem('arrived')).toBe('arriv');
    expect(stem('deliveries')).toBe('delivery');
    expect(editDistance('pasword', 'password')).toBe(1);
    expect(editDistance('acount', 'account')).toBe(1);
    expect(editDistance('recieve', 'receive')).toBe(1);
    expect(editDistance('card', 'cart')).toBe(1);
  });
});

/** The textbook full-matrix optimal string alignment distance, to check the rolling, early-exit one against. */
function fullDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i || j));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

describe('bounded edit distance', () => {
  it('agrees with the full matrix for every pair of short words over a small alphabet, at every cap', () => {
    const words = [''];
    for (let length = 1; length <= 4; length++) {
      for (const word of words.filter((candidate) => candidate.length === length - 1)) {
        for (const letter of 'abc') words.push(word + letter);
      }
    }
    const mismatches: string[] = [];
    for (const a of words) {
      for (const b of words) {
        const full = fullDistance(a, b);
        for (const cap of [1, 2, 3]) {
          if (editDistance(a, b, cap) !== Math.min(full, cap)) mismatches.push(`${a}/${b}/${cap}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    // Longer words after shorter ones: the reused rows must not carry state from one call to the next.
    expect(editDistance('deliverd', 'delivered')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
  });
});
