import type { Counts, ExpectedTranscript } from './score.ts';

/**
 * Guard precision, recall and F1 over `baton eval` output, counted as the reference scorer
 * (shared/eval/score.py) counts them: per labelled agent message, the set of `kind[:fact|action]` keys
 * found against the set expected; a finding on an unlabelled message is a false positive; a labelled
 * message with `[]` is a clean case that passes when nothing is found.
 */

export interface GuardOutput {
  id: string;
  findings?: ReadonlyArray<{ index?: unknown; kind?: unknown; fact?: unknown; action?: unknown }>;
}

export interface GuardScore extends Counts {
  conversations: number;
  missing: number;
  cleanPass: number;
  cleanTotal: number;
  byKind: Record<string, Counts>;
  /** Each miss and false alarm, for reading them. */
  errors: Array<{ id: string; index: string; kind: 'fp' | 'fn'; label: string }>;
}

function counts(tp: number, fp: number, fn: number): Counts {
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, fn, precision, recall, f1 };
}

export function findingKey(finding: { kind?: unknown; fact?: unknown; action?: unknown }): string {
  const kind = String(finding.kind ?? '');
  if (kind === 'repeat_ask' || kind === 'repeat_action')
    return `${kind}:${String(finding.fact ?? finding.action ?? '')}`;
  return kind;
}

export function scoreGuard(expected: readonly ExpectedTranscript[], outputs: readonly GuardOutput[]): GuardScore {
  const byId = new Map(outputs.map((output) => [output.id, output]));
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let missing = 0;
  let cleanPass = 0;
  let cleanTotal = 0;
  const kinds = new Map<string, { tp: number; fp: number; fn: number }>();
  const bump = (label: string, field: 'tp' | 'fp' | 'fn') => {
    const kind = label.split(':')[0] ?? label;
    const entry = kinds.get(kind) ?? { tp: 0, fp: 0, fn: 0 };
    entry[field]++;
    kinds.set(kind, entry);
  };
  const errors: GuardScore['errors'] = [];
  for (const transcript of expected) {
    const labelled = transcript.expect.findings;
    const output = byId.get(transcript.id);
    if (!output) {
      missing++;
      for (const labels of Object.values(labelled)) fn += labels.length;
      continue;
    }
    const found = new Map<string, Set<string>>();
    for (const finding of output.findings ?? []) {
      const index = String(finding.index);
      const set = found.get(index) ?? new Set<string>();
      set.add(findingKey(finding));
      found.set(index, set);
    }
    for (const [index, labels] of Object.entries(labelled)) {
      const got = found.get(index) ?? new Set<string>();
      const want = new Set(labels);
      for (const key of got) {
        if (want.has(key)) {
          tp++;
          bump(key, 'tp');
        } else {
          fp++;
          bump(key, 'fp');
          errors.push({ id: transcript.id, index, kind: 'fp', label: key });
        }
      }
      for (const key of want) {
        if (!got.has(key)) {
          fn++;
          bump(key, 'fn');
          errors.push({ id: transcript.id, index, kind: 'fn', label: key });
        }
      }
      if (want.size === 0) {
        cleanTotal++;
        if (got.size === 0) cleanPass++;
      }
    }
    for (const [index, got] of found) {
      if (index in labelled) continue;
      for (const key of got) {
        fp++;
        bump(key, 'fp');
        errors.push({ id: transcript.id, index, kind: 'fp', label: key });
      }
    }
  }
  const byKind: Record<string, Counts> = {};
  for (const [kind, entry] of kinds) byKind[kind] = counts(entry.tp, entry.fp, entry.fn);
  return { conversations: expected.length, missing, cleanPass, cleanTotal, byKind, errors, ...counts(tp, fp, fn) };
}
