import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateTranscript, parseExpectedTranscripts, type Transcript } from '../src/index.ts';
import { acceptedReasons } from './fixtures/abcd-reasons.ts';

/**
 * The reason for contact on the ABCD conversations of the development sets, against ABCD's own label of
 * each dialogue (its subflow, fixtures/dev/abcd-subflows.json): the brief's label must be one a support
 * lead would accept for it (fixtures/abcd-reasons.ts), and the words it quotes must say why the customer
 * came, never a bare greeting.
 */
const DEV = join(import.meta.dirname, 'fixtures', 'dev');
const subflows = JSON.parse(readFileSync(join(DEV, 'abcd-subflows.json'), 'utf8')) as Record<string, string>;

function abcdTranscripts(holdout: boolean): Array<Transcript & { subflow: string }> {
  const seen = new Set<string>();
  const out: Array<Transcript & { subflow: string }> = [];
  for (const file of readdirSync(DEV).filter((name) => name.endsWith('.jsonl'))) {
    if (file.includes('holdout') !== holdout) continue;
    const { transcripts } = parseExpectedTranscripts(readFileSync(join(DEV, file), 'utf8'));
    for (const transcript of transcripts) {
      const id = transcript.id.replace(/^guard-/, '');
      const subflow = subflows[id];
      if (subflow === undefined || seen.has(id)) continue;
      seen.add(id);
      out.push({ ...transcript, subflow });
    }
  }
  return out;
}

function judge(holdout: boolean) {
  const transcripts = abcdTranscripts(holdout);
  const wrong: string[] = [];
  const greetings: string[] = [];
  for (const transcript of transcripts) {
    const { reason } = evaluateTranscript(transcript).brief;
    const accepted = acceptedReasons(transcript.subflow);
    expect(accepted, `subflow ${transcript.subflow} has no accepted reasons`).toBeDefined();
    if (!accepted?.includes(reason.label)) wrong.push(`${transcript.id} ${transcript.subflow}: ${reason.label}`);
    if (/^\W*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))(?: there)?\W*$/i.test(reason.text)) {
      greetings.push(`${transcript.id}: ${reason.text}`);
    }
  }
  return { count: transcripts.length, accuracy: 1 - wrong.length / transcripts.length, wrong, greetings };
}

describe('the reason for contact on ABCD conversations', () => {
  it('development set: at least 85% of labels are right, and no quote is a bare greeting', () => {
    const result = judge(false);
    expect(result.count).toBeGreaterThan(100);
    expect(result.greetings).toEqual([]);
    expect(result.accuracy, result.wrong.slice(0, 30).join('\n')).toBeGreaterThanOrEqual(0.85);
  });

  it('held-out set (not tuned on): at least 75% right, no quote a bare greeting', () => {
    const result = judge(true);
    expect(result.count).toBeGreaterThan(100);
    expect(result.greetings).toEqual([]);
    expect(result.accuracy, result.wrong.slice(0, 30).join('\n')).toBeGreaterThanOrEqual(0.75);
  });
});
