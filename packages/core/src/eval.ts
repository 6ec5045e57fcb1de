import { z } from 'zod';
import { Brief, buildBrief } from './brief.ts';
import type { Transcript } from './events.ts';
import { HandoffMetrics, handoffMetrics, replayGuard } from './metrics.ts';

/**
 * `evaluateTranscript`: the replay behind `baton eval` and the API's transcript route. The contract other
 * tools rely on: the brief at the first `handoff` event; findings for every agent message after it, each
 * judged on everything before it; `index` and `source` are 0-based positions in the transcript's events.
 */

export const EvalFinding = z.object({
  /** The agent message the finding is about. */
  index: z.number().int().nonnegative(),
  kind: z.enum(['repeat_ask', 'repeat_action', 'restart_phrase']),
  fact: z.string().optional(),
  action: z.string().optional(),
  phrase: z.string().optional(),
  /** Where the known fact or the earlier step came from. */
  source: z.number().int().nonnegative().nullable().optional(),
  known: z.object({ value: z.string(), source: z.number().int().nonnegative().nullable() }).optional(),
  suggestion: z.string(),
  span: z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() }),
});
export type EvalFinding = z.infer<typeof EvalFinding>;

export const EvalResult = z.object({
  id: z.string(),
  industry: z.string().optional(),
  handoffIndex: z.number().int().nonnegative().nullable(),
  brief: Brief,
  findings: z.array(EvalFinding),
  metrics: HandoffMetrics,
});
export type EvalResult = z.infer<typeof EvalResult>;

export function evaluateTranscript(transcript: Transcript): EvalResult {
  const events = transcript.events;
  const replay = replayGuard(events);
  const upTo = replay.handoffIndex === null ? events.length : replay.handoffIndex + 1;
  const brief = buildBrief(events, {
    upTo,
    ...(transcript.industry ? { industry: transcript.industry } : {}),
  });
  const findings: EvalFinding[] = [];
  for (const message of replay.messages) {
    for (const finding of message.findings) {
      if (finding.kind === 'repeat_ask') {
        findings.push({
          index: message.index,
          kind: finding.kind,
          fact: finding.fact,
          source: finding.known.source,
          known: finding.known,
          suggestion: finding.suggestion,
          span: finding.span,
        });
      } else if (finding.kind === 'repeat_action') {
        findings.push({
          index: message.index,
          kind: finding.kind,
          action: finding.action,
          source: finding.source,
          suggestion: finding.suggestion,
          span: finding.span,
        });
      } else {
        findings.push({
          index: message.index,
          kind: finding.kind,
          phrase: finding.phrase,
          suggestion: finding.suggestion,
          span: finding.span,
        });
      }
    }
  }
  const result: EvalResult = {
    id: transcript.id,
    handoffIndex: replay.handoffIndex,
    brief,
    findings,
    metrics: handoffMetrics(events, replay),
  };
  if (transcript.industry) result.industry = transcript.industry;
  return result;
}
