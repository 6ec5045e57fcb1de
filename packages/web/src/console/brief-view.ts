import { type Brief, buildBrief, factLabel, maskFact, type StoredEvent } from '@baton/core';

export interface BriefFactView {
  name: string;
  label: string;
  /** Masked: enough to recognise the value, not enough to misuse a glance at the screen. */
  value: string;
  /** seq of the event the value came from, for the click-to-source link. */
  sourceSeq: number;
  onFile: boolean;
}

export interface BriefStepView {
  seq: number;
  name: string;
  actor: string;
  outcome: 'succeeded' | 'failed' | 'blocked';
  summary: string;
}

export interface BriefErrorView {
  seq: number;
  system: string;
  code: string;
  message: string;
}

export interface BriefNoteView {
  seq: number;
  author: string;
  text: string;
}

/** What the console shows before an agent accepts: everything needed to not ask the customer again. */
export interface BriefView {
  reasonLabel: string;
  reasonText: string;
  reasonSeq: number | null;
  trigger: string | null;
  priority: string | null;
  queue: string | null;
  customerName: string | null;
  identity: { verified: boolean; method?: string; seq?: number };
  facts: BriefFactView[];
  steps: BriefStepView[];
  errors: BriefErrorView[];
  sentiment: { label: string; trend: string; frustration: number };
  unknowns: string[];
  greeting: string;
  /** What humans did after the handoff: notes (transfer notes included) and their actions. */
  notes: BriefNoteView[];
  since: BriefStepView[];
}

/**
 * The brief of the latest handoff episode, from the core (the same function the API and `baton eval`
 * use), plus what colleagues added since: a transferred conversation arrives with the same brief and
 * the first agent's notes.
 */
export function buildBriefView(events: readonly StoredEvent[], customerName?: string | null): BriefView {
  let lastRequest = -1;
  events.forEach((event, index) => {
    if (event.type === 'handoff.requested') lastRequest = index;
  });
  const upTo = lastRequest >= 0 ? lastRequest + 1 : events.length;
  const brief: Brief = buildBrief(events, { upTo, ...(customerName ? { customerName } : {}) });
  // The core reports 0-based positions in the array it was given; the console links by seq.
  const seqOf = (source: number) => events[source]?.seq ?? source + 1;
  const requestSeq = lastRequest >= 0 ? (events[lastRequest]?.seq ?? 0) : Number.POSITIVE_INFINITY;

  const notes: BriefNoteView[] = [];
  const since: BriefStepView[] = [];
  let queue: string | null = null;
  for (const event of events) {
    if (event.type === 'handoff.requested' && event.queue) queue = event.queue;
    if (event.type === 'handoff.queued') queue = event.queue;
    if (event.type === 'handoff.transferred') {
      if (event.queue) queue = event.queue;
      if (event.note) notes.push({ seq: event.seq, author: 'Transfer note', text: event.note });
    }
    if (event.type === 'handoff.returned' && event.note) {
      notes.push({ seq: event.seq, author: 'Hand-back note', text: event.note });
    }
    if (event.type === 'note') notes.push({ seq: event.seq, author: event.authorName ?? 'Agent', text: event.text });
    if (event.type === 'action' && event.seq > requestSeq && event.actor === 'agent') {
      since.push({ seq: event.seq, name: event.name, actor: event.actor, outcome: event.outcome, summary: event.name });
    }
  }

  const toFact = (onFile: boolean) => (fact: Brief['facts'][number]) => ({
    name: fact.name,
    label: factLabel(fact.name),
    value: maskFact(fact.name, fact.value),
    sourceSeq: seqOf(fact.source),
    onFile,
  });
  const facts = new Map<string, BriefFactView>();
  for (const fact of brief.onFile.map(toFact(true))) facts.set(fact.name, fact);
  for (const fact of brief.facts.map(toFact(false))) facts.set(fact.name, fact);

  return {
    reasonLabel: brief.reason.label,
    reasonText: brief.reason.text,
    reasonSeq: brief.reason.source === null ? null : seqOf(brief.reason.source),
    trigger: brief.handoff?.trigger ?? null,
    priority: brief.handoff?.priority ?? null,
    queue,
    customerName: brief.customer.name ?? null,
    identity: {
      verified: brief.customer.verified,
      ...(brief.customer.verification
        ? { method: brief.customer.verification.method, seq: seqOf(brief.customer.verification.source) }
        : {}),
    },
    facts: [...facts.values()],
    steps: brief.steps.map((step) => ({
      seq: seqOf(step.source),
      name: step.action,
      actor: step.actor ?? 'ai',
      outcome: step.outcome,
      summary: step.summary,
    })),
    errors: brief.errors.map((error) => ({
      seq: seqOf(error.source),
      system: error.system,
      code: error.code,
      message: error.message,
    })),
    sentiment: {
      label: brief.sentiment.label,
      trend: brief.sentiment.trend,
      frustration: brief.sentiment.frustration,
    },
    unknowns: brief.unknown,
    greeting: brief.greeting,
    notes,
    since,
  };
}
