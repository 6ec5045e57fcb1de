import { z } from 'zod';

/**
 * Scoring of the brief's reason for contact against a dataset's own labels (ABCD's subflows): each
 * dataset label lists the Baton reasons a support lead would accept for it. Pure; the reference lives with
 * the development sets (packages/core/test/fixtures/dev/reasons.json).
 */
export const ReasonReference = z.object({
  /** Dataset label → the Baton reason labels accepted for it. */
  accepted: z.record(z.string(), z.array(z.string()).min(1)),
  /** Conversation id → its dataset label. */
  dialogues: z.record(z.string(), z.string()),
});
export type ReasonReference = z.infer<typeof ReasonReference>;

export interface ReasonOutput {
  id: string;
  brief: { reason: { label: string; text: string } };
}

export interface ReasonScore {
  count: number;
  right: number;
  accuracy: number;
  /** `id label: given` for every reason not accepted. */
  wrong: string[];
  /** Ids whose quoted words are a bare greeting ("Hi", "Hello there!"): no reason at all. */
  greetingQuotes: string[];
  /** Dataset labels the reference has no accepted reasons for (a reference to complete). */
  unmapped: string[];
}

const BARE_GREETING = /^\W*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))(?: there)?\W*$/i;

/**
 * The accepted reasons of a dataset label: its own entry, else the one of its stem (ABCD numbers variants:
 * `shirt_how_4` → `shirt`, `pricing_2` → `pricing`).
 */
export function acceptedReasons(reference: ReasonReference, label: string): readonly string[] | undefined {
  return reference.accepted[label] ?? reference.accepted[label.split('_')[0] ?? label];
}

/**
 * Scores the outputs the reference labels (`guard-` copies of a dialogue count once, under its own id);
 * outputs it does not know are left out.
 */
export function scoreReasons(reference: ReasonReference, outputs: readonly ReasonOutput[]): ReasonScore {
  const seen = new Set<string>();
  const score: ReasonScore = { count: 0, right: 0, accuracy: 0, wrong: [], greetingQuotes: [], unmapped: [] };
  for (const output of outputs) {
    const id = output.id.replace(/^guard-/, '');
    const label = reference.dialogues[id];
    if (label === undefined || seen.has(id)) continue;
    seen.add(id);
    const accepted = acceptedReasons(reference, label);
    if (!accepted) {
      score.unmapped.push(label);
      continue;
    }
    score.count++;
    const { reason } = output.brief;
    if (accepted.includes(reason.label)) score.right++;
    else score.wrong.push(`${id} ${label}: ${reason.label}`);
    if (BARE_GREETING.test(reason.text)) score.greetingQuotes.push(id);
  }
  score.accuracy = score.count === 0 ? 0 : score.right / score.count;
  return score;
}
