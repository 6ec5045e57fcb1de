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
  /** What the back-office answer said (`total: 184.2 USD`, tracking events), from the core brief. */
  details: string[];
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

/** A colleague who held the conversation before: how it ended for them and what they did. */
export interface BriefPreviousAgentView {
  agentId: string;
  name: string;
  ended: 'transferred' | 'returned' | 'resolved';
  messages: number;
  lastMessage: { text: string; seq: number } | null;
  actions: BriefStepView[];
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
  previousAgents: BriefPreviousAgentView[];
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
  // `through`: the core adds colleagues' notes and work after the handoff (S6), as the API's brief does.
  const brief: Brief = buildBrief(events, {
    upTo,
    through: events.length,
    ...(customerName ? { customerName } : {}),
  });
  // The core reports 0-based positions in the array it was given; the console links by seq.
  const seqOf = (source: number) => events[source]?.seq ?? source + 1;
  const requestSeq = lastRequest >= 0 ? (events[lastRequest]?.seq ?? 0) : Number.POSITIVE_INFINITY;

  const toStep = (step: Brief['steps'][number]): BriefStepView => ({
    seq: seqOf(step.source),
    name: step.action,
    actor: step.actor ?? 'ai',
    outcome: step.outcome,
    summary: step.summary,
    details: step.details ?? [],
  });
  const NOTE_TITLE = { transfer: 'Transfer note', return: 'Hand-back note' } as const;
  const notes: BriefNoteView[] = (brief.notes ?? []).map((note) => ({
    seq: seqOf(note.source),
    author:
      note.kind === 'note'
        ? (note.authorName ?? 'Agent')
        : `${NOTE_TITLE[note.kind]}${note.authorName ? ` from ${note.authorName}` : ''}`,
    text: note.text,
  }));
  const previousAgents: BriefPreviousAgentView[] = (brief.previousAgents ?? []).map((agent) => ({
    agentId: agent.agentId,
    name: agent.name ?? agent.agentId,
    ended: agent.ended,
    messages: agent.messages,
    lastMessage: agent.lastMessage ? { text: agent.lastMessage.text, seq: seqOf(agent.lastMessage.source) } : null,
    actions: agent.actions.map(toStep),
  }));
  const since: BriefStepView[] = [];
  let queue: string | null = null;
  for (const event of events) {
    if (event.type === 'handoff.requested' && event.queue) queue = event.queue;
    if (event.type === 'handoff.queued') queue = event.queue;
    if (event.type === 'handoff.transferred' && event.queue) queue = event.queue;
    if (event.type === 'action' && event.seq > requestSeq && event.actor === 'agent') {
      since.push({
        seq: event.seq,
        name: event.name,
        actor: event.actor,
        outcome: event.outcome,
        summary: event.name,
        details: [],
      });
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
    steps: brief.steps.map(toStep),
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
    previousAgents,
  };
}
