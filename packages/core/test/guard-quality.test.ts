import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateTranscript, parseExpectedTranscripts, scoreFacts, scoreGuard } from '../src/index.ts';

/** The quality gate: the guard on its development sets, including the held-out parts. */
const SETS = ['guard-hand', 'guard-hand-holdout', 'guard-star', 'guard-star-holdout', 'scenarios'];

describe('guard quality on the development sets', () => {
  for (const name of SETS) {
    it(`${name}: guard F1 >= 0.90, no secret in any brief`, () => {
      const text = readFileSync(new URL(`./fixtures/dev/${name}.jsonl`, import.meta.url), 'utf8');
      const { transcripts, problems } = parseExpectedTranscripts(text);
      expect(problems).toEqual([]);
      const outputs = transcripts.map(evaluateTranscript);
      const guard = scoreGuard(transcripts, outputs);
      expect(guard.tp).toBeGreaterThan(0);
      expect(guard.f1, JSON.stringify(guard.errors.slice(0, 10))).toBeGreaterThanOrEqual(0.9);
      expect(guard.cleanPass / Math.max(1, guard.cleanTotal)).toBeGreaterThanOrEqual(0.9);
      expect(scoreFacts(transcripts, outputs).secretLeaks).toBe(0);
    });
  }
});
