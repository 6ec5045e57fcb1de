import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { factsAtHandoff, parseExpectedTranscripts, scoreFacts } from '../src/index.ts';

/**
 * The quality gate of fact extraction on the development sets (see fixtures/README.md): F1 at least 0.95
 * and no secret in any brief. The held-out sets are not tuned on; they must not leak and must stay close.
 */
const DEV = join(import.meta.dirname, 'fixtures', 'dev');

function score(file: string) {
  const { transcripts, problems } = parseExpectedTranscripts(readFileSync(join(DEV, file), 'utf8'));
  expect(problems).toEqual([]);
  expect(transcripts.length).toBeGreaterThan(0);
  const outputs = transcripts.map((t) => ({ id: t.id, brief: { facts: factsAtHandoff(t.events) } }));
  return scoreFacts(transcripts, outputs);
}

describe('fact extraction quality on the development sets', () => {
  it.each(['facts-abcd.jsonl', 'facts-star.jsonl', 'facts-hand.jsonl'])('%s: F1 >= 0.95, no secret leaked', (file) => {
    const result = score(file);
    expect(result.secretLeaks, JSON.stringify(result.errors.filter((e) => e.kind === 'leak'))).toBe(0);
    expect(result.f1, JSON.stringify(result.errors.slice(0, 20))).toBeGreaterThanOrEqual(0.95);
  });

  it.each(['facts-abcd-holdout.jsonl', 'facts-star-holdout.jsonl', 'facts-hand-holdout.jsonl'])(
    '%s (held out): F1 >= 0.9, no secret leaked',
    (file) => {
      const result = score(file);
      expect(result.secretLeaks).toBe(0);
      expect(result.f1).toBeGreaterThanOrEqual(0.9);
    },
  );
});
