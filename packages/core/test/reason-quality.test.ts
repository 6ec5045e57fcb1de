import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateTranscript, parseExpectedTranscripts, ReasonReference, scoreReasons } from '../src/index.ts';

/**
 * The reason for contact on the ABCD and STAR conversations of the development sets, against the dataset's
 * own label of each dialogue (fixtures/dev/reasons.json): the brief's label must be one a support lead would accept,
 * and the words it quotes must say why the customer came, never a bare greeting. `npm run eval:dev` prints
 * the same figures.
 */
const DEV = join(import.meta.dirname, 'fixtures', 'dev');
const reference = ReasonReference.parse(JSON.parse(readFileSync(join(DEV, 'reasons.json'), 'utf8')));

function score(holdout: boolean) {
  const files = readdirSync(DEV).filter((name) => name.endsWith('.jsonl') && name.includes('holdout') === holdout);
  const outputs = files.flatMap((file) =>
    parseExpectedTranscripts(readFileSync(join(DEV, file), 'utf8')).transcripts.map((transcript) =>
      evaluateTranscript(transcript),
    ),
  );
  return scoreReasons(reference, outputs);
}

describe('the reason for contact on ABCD and STAR conversations', () => {
  it.each([
    { set: 'development', holdout: false, floor: 0.9 },
    { set: 'held-out (not tuned on)', holdout: true, floor: 0.8 },
  ])('$set set: at least $floor of labels right, and no quote is a bare greeting', ({ holdout, floor }) => {
    const result = score(holdout);
    expect(result.count).toBeGreaterThan(100);
    expect(result.unmapped).toEqual([]);
    expect(result.greetingQuotes).toEqual([]);
    expect(result.accuracy, result.wrong.slice(0, 30).join('\n')).toBeGreaterThanOrEqual(floor);
  });
});

describe('scoreReasons', () => {
  const small = ReasonReference.parse({
    accepted: { refund_status: ['refund'], shirt: ['product question'] },
    dialogues: { a: 'refund_status', b: 'shirt_how_2', c: 'mystery' },
  });
  const output = (id: string, label: string, text = 'why I came') => ({ id, brief: { reason: { label, text } } });

  it('accepts a listed label, falls back to the stem, counts a guard- copy once and names what it cannot map', () => {
    const result = scoreReasons(small, [
      output('a', 'refund'),
      output('guard-a', 'billing'),
      output('b', 'general question', 'Hello there!'),
      output('c', 'refund'),
      output('unknown', 'refund'),
    ]);
    expect(result).toMatchObject({ count: 2, right: 1, accuracy: 0.5, unmapped: ['mystery'] });
    expect(result.wrong).toEqual(['b shirt_how_2: general question']);
    expect(result.greetingQuotes).toEqual(['b']);
  });
});
