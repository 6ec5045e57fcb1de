import { z } from 'zod';
import { type EventBody, Transcript } from './events.ts';
import { STANDARD_FACTS } from './fact-values.ts';
import { extractFacts } from './facts.ts';

/**
 * Scoring of `baton eval` output against transcripts with an `expect` block, with the same value
 * comparison as the reference scorer (shared/eval/score.py) so the figures in the repo and the
 * reference agree.
 */

export const TranscriptExpect = z.object({
  facts: z.record(z.string(), z.string()).default({}),
  allow: z.record(z.string(), z.string()).default({}),
  findings: z.record(z.string(), z.array(z.string())).default({}),
});

export const ExpectedTranscript = Transcript.extend({
  expect: TranscriptExpect,
  secrets: z.array(z.string()).default([]),
});
export type ExpectedTranscript = z.infer<typeof ExpectedTranscript>;

export interface EvalOutput {
  id: string;
  brief?: { facts?: ReadonlyArray<{ name?: string; value?: unknown }> } & Record<string, unknown>;
}

function normText(value: unknown): string {
  return String(value)
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^[ .,]+|[ .,]+$/g, '');
}

function normId(value: unknown): string {
  return normText(value).replace(/[^0-9a-z]/g, '');
}

function normDigits(value: unknown): string {
  const d = String(value).replace(/\D/g, '');
  return d.length > 10 ? d.slice(-10) : d;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The calendar date as the reference scorer reads it (month first), or the text when it is not a date. */
function normDate(value: unknown): string {
  const s = normText(value);
  let m = /(\d{4})-(\d{1,2})-(\d{1,2})/.exec(s);
  if (m) return `${Number(m[1])}|${Number(m[2])}|${Number(m[3])}`;
  m = /(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})/.exec(s);
  if (m) {
    let y = Number(m[3]);
    if (y < 100) y += y > 30 ? 1900 : 2000;
    return `${y}|${Number(m[1])}|${Number(m[2])}`;
  }
  m = /([a-z]{3})[a-z]*\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})/.exec(s);
  if (m && MONTHS.includes(m[1] ?? '')) return `${Number(m[3])}|${MONTHS.indexOf(m[1] ?? '') + 1}|${Number(m[2])}`;
  m = /(\d{1,2})(?:st|nd|rd|th)? (?:of )?([a-z]{3})[a-z]*,? (\d{4})/.exec(s);
  if (m && MONTHS.includes(m[2] ?? '')) return `${Number(m[3])}|${MONTHS.indexOf(m[2] ?? '') + 1}|${Number(m[1])}`;
  return `text:${s}`;
}

function normAmount(value: unknown): string {
  const m = /\d[\d,]*(?:\.\d+)?/.exec(String(value));
  return m ? `n:${Number(m[0].replace(/,/g, ''))}` : `text:${normText(value)}`;
}

/** Whether a produced value matches the expected one for this fact (the reference scorer's rules). */
export function sameFactValue(name: string, want: string, got: unknown): boolean {
  switch (name) {
    case 'phone':
      return normDigits(want) === normDigits(got);
    case 'account_id':
    case 'order_id':
    case 'member_id':
    case 'card_last4':
    case 'zip_code':
    case 'username':
      return normId(want) === normId(got) || (name === 'card_last4' && normId(got).endsWith(normId(want)));
    case 'date_of_birth':
      return normDate(want) === normDate(got);
    case 'amount':
      return normAmount(want) === normAmount(got);
    case 'street_address': {
      const a = normId(want);
      const b = normId(got);
      return (
        a.length > 0 &&
        (a.includes(b) || b.includes(a)) &&
        Math.min(a.length, b.length) >= 0.6 * Math.max(a.length, b.length)
      );
    }
    default:
      return normText(want) === normText(got);
  }
}

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface FactScore extends Counts {
  conversations: number;
  missing: number;
  secretLeaks: number;
  byName: Record<string, Counts>;
  /** What went wrong, conversation by conversation, for reading the misses. */
  errors: Array<{ id: string; kind: 'fp' | 'fn' | 'leak'; name: string; want?: string; got?: string }>;
}

function prf(tp: number, fp: number, fn: number): Counts {
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, fn, precision, recall, f1 };
}

const STD = new Set<string>(STANDARD_FACTS);

/** Fact precision, recall and F1 (overall and per fact name) and secret leaks, as the reference scorer counts them. */
export function scoreFacts(expected: readonly ExpectedTranscript[], outputs: readonly EvalOutput[]): FactScore {
  const byId = new Map(outputs.map((o) => [o.id, o]));
  const names = new Map<string, { tp: number; fp: number; fn: number }>();
  const count = (name: string) => {
    let c = names.get(name);
    if (!c) {
      c = { tp: 0, fp: 0, fn: 0 };
      names.set(name, c);
    }
    return c;
  };
  const errors: FactScore['errors'] = [];
  let missing = 0;
  let leaks = 0;
  for (const conversation of expected) {
    const want = conversation.expect.facts;
    const allow = conversation.expect.allow;
    const output = byId.get(conversation.id);
    if (!output) {
      missing += 1;
      for (const name of Object.keys(want)) count(name).fn += 1;
      continue;
    }
    const got = (output.brief?.facts ?? []).filter((f) => STD.has(String(f.name)));
    const matched = new Set<string>();
    for (const fact of got) {
      const name = String(fact.name);
      const wanted = want[name];
      const allowed = allow[name];
      if (wanted !== undefined && sameFactValue(name, wanted, fact.value)) {
        matched.add(name);
      } else if (!(allowed !== undefined && sameFactValue(name, allowed, fact.value))) {
        count(name).fp += 1;
        errors.push({
          id: conversation.id,
          kind: 'fp',
          name,
          got: String(fact.value),
          ...(wanted ? { want: wanted } : {}),
        });
      }
    }
    for (const [name, value] of Object.entries(want)) {
      if (matched.has(name)) count(name).tp += 1;
      else {
        count(name).fn += 1;
        errors.push({ id: conversation.id, kind: 'fn', name, want: value });
      }
    }
    const briefText = JSON.stringify(output.brief ?? {}).toLowerCase();
    for (const secret of conversation.secrets) {
      if (briefText.includes(secret.toLowerCase())) {
        leaks += 1;
        errors.push({ id: conversation.id, kind: 'leak', name: 'secret', want: secret });
      }
    }
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const byName: Record<string, Counts> = {};
  for (const [name, c] of [...names.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
    byName[name] = prf(c.tp, c.fp, c.fn);
  }
  return { conversations: expected.length, missing, secretLeaks: leaks, byName, errors, ...prf(tp, fp, fn) };
}

/** Parses JSON Lines of transcripts with an `expect` block; a bad line is reported by number, not fatal. */
export function parseExpectedTranscripts(text: string): {
  transcripts: ExpectedTranscript[];
  problems: Array<{ line: number; message: string }>;
} {
  const transcripts: ExpectedTranscript[] = [];
  const problems: Array<{ line: number; message: string }> = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      problems.push({ line: i + 1, message: `not JSON: ${(error as Error).message}` });
      return;
    }
    const parsed = ExpectedTranscript.safeParse(json);
    if (parsed.success) transcripts.push(parsed.data);
    else problems.push({ line: i + 1, message: parsed.error.issues[0]?.message ?? 'not a transcript' });
  });
  return { transcripts, problems };
}

/** The facts a brief shows at the first handoff (all events when there is none), as `baton eval` reports them. */
export function factsAtHandoff(events: readonly EventBody[]): Array<{ name: string; value: string; source: number }> {
  const at = events.findIndex((e) => e.type === 'handoff.requested');
  return extractFacts(at < 0 ? events : events.slice(0, at)).map(({ name, value, source }) => ({
    name,
    value,
    source,
  }));
}
