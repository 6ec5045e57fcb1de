import { type Finding, factLabel, prepareGuard, type StoredEvent } from '@baton/core';
import { useMemo } from 'react';
import { humanize } from '../lib/format.ts';

export interface GuardFindingView {
  key: string;
  kind: Finding['kind'];
  title: string;
  message: string;
  suggestion: string;
  /** The span of the draft the finding is about; "Use this" replaces it with the suggestion. */
  start: number;
  end: number;
  /** seq of the event that makes the draft a repeat, for the "where" link. */
  sourceSeq?: number;
}

function describe(
  finding: Finding,
  seqOf: (source: number) => number,
): Pick<GuardFindingView, 'title' | 'message' | 'sourceSeq'> {
  switch (finding.kind) {
    case 'repeat_ask':
      return {
        title: `Already known: ${factLabel(finding.fact)}`,
        message: `The customer already gave this (${finding.known.value}). Asking again makes them repeat themselves.`,
        ...(finding.known.source !== null ? { sourceSeq: seqOf(finding.known.source) } : {}),
      };
    case 'repeat_action':
      return {
        title: `Already done: ${humanize(finding.action).toLowerCase()}`,
        message: `This step was already taken and ${finding.outcome === 'succeeded' ? 'succeeded' : finding.outcome === 'failed' ? 'did not help' : 'was blocked'}.`,
        sourceSeq: seqOf(finding.source),
      };
    default:
      return {
        title: 'Sounds like starting over',
        message: `“${finding.phrase}” tells the customer their conversation so far was lost.`,
      };
  }
}

/**
 * Runs the core continuity guard on the draft, in the browser, as the agent types. The slow part
 * (facts, steps, brief) is prepared once per log; each keystroke only runs the prepared guard.
 */
export function useGuard(events: readonly StoredEvent[], draft: string): GuardFindingView[] {
  const guard = useMemo(() => (events.length ? prepareGuard(events) : null), [events]);
  return useMemo(() => {
    if (!guard || !draft.trim()) return [];
    return guard(draft).map((finding, index) => ({
      key: `${finding.kind}-${finding.span.start}-${index}`,
      kind: finding.kind,
      suggestion: finding.suggestion,
      start: finding.span.start,
      end: finding.span.end,
      ...describe(finding, (source) => events[source]?.seq ?? source + 1),
    }));
  }, [guard, draft, events]);
}
