import type { StoredEvent } from '@baton/core';

export interface BriefFact {
  name: string;
  value: string;
  /** seq of the message the fact came from, for the click-to-source link. */
  sourceSeq?: number;
  via?: string;
}

export interface BriefStep {
  seq: number;
  name: string;
  actor: string;
  outcome: 'succeeded' | 'failed' | 'blocked';
  detail?: string;
}

export interface BriefError {
  seq: number;
  system: string;
  code: string;
  message: string;
}

export interface BriefNote {
  seq: number;
  author: string;
  text: string;
}

/** What the console shows before an agent accepts: everything needed to not ask the customer again. */
export interface BriefView {
  reason: string | null;
  trigger: string | null;
  priority: string | null;
  queue: string | null;
  identity: { status: 'verified' | 'failed' | 'pending' | 'unknown'; method?: string; subject?: string };
  facts: BriefFact[];
  steps: BriefStep[];
  errors: BriefError[];
  sentiment: { label: string; trend: string; frustration: number } | null;
  unknowns: string[];
  opening: string | null;
  customerSaid: { seq: number; text: string } | null;
  notes: BriefNote[];
  customerName: string | null;
}

/** A masked value for the screen: enough to recognise it, not enough to misuse a shoulder-surfed glance. */
export function maskValue(name: string, value: string): string {
  if (/email/.test(name)) {
    const [user = '', domain = ''] = value.split('@');
    return domain ? `${user.slice(0, 1)}${'•'.repeat(Math.max(2, Math.min(6, user.length - 1)))}@${domain}` : value;
  }
  if (/phone|card|account|member|ssn|date_of_birth/.test(name)) {
    const visible = value.slice(-4);
    return `${'•'.repeat(Math.max(2, Math.min(8, value.length - 4)))}${visible}`;
  }
  return value;
}

/**
 * Builds the brief from the log. Seqs are 1-based and gapless, so a transcript index `i` (what the core's
 * analysers report) is the event with seq `i + 1`.
 */
export function buildBriefView(events: readonly StoredEvent[]): BriefView {
  let reason: string | null = null;
  let trigger: string | null = null;
  let priority: string | null = null;
  let queue: string | null = null;
  let identity: BriefView['identity'] = { status: 'unknown' };
  const facts = new Map<string, BriefFact>();
  const steps: BriefStep[] = [];
  const errors: BriefError[] = [];
  const notes: BriefNote[] = [];
  let customerSaid: BriefView['customerSaid'] = null;
  let customerName: string | null = null;

  for (const event of events) {
    switch (event.type) {
      case 'handoff.requested':
        reason = event.reason ?? null;
        trigger = event.trigger;
        priority = event.priority;
        queue = event.queue ?? queue;
        break;
      case 'handoff.queued':
        queue = event.queue;
        break;
      case 'handoff.transferred':
        if (event.note) notes.push({ seq: event.seq, author: 'Transfer note', text: event.note });
        queue = event.queue ?? queue;
        break;
      case 'note':
        notes.push({ seq: event.seq, author: event.authorName ?? 'Agent', text: event.text });
        break;
      case 'identity':
        identity = {
          status: event.result,
          method: event.method,
          ...(event.subject ? { subject: event.subject } : {}),
        };
        break;
      case 'fact':
        facts.set(event.name, {
          name: event.name,
          value: event.value,
          ...(event.source !== undefined ? { sourceSeq: event.source } : {}),
          via: event.via,
        });
        if (event.name === 'full_name' && !customerName) customerName = event.value;
        break;
      case 'action': {
        const detail = event.error
          ? `${event.error.system}: ${event.error.code}`
          : event.result
            ? summarize(event.result)
            : undefined;
        steps.push({
          seq: event.seq,
          name: event.name,
          actor: event.actor,
          outcome: event.outcome,
          ...(detail ? { detail } : {}),
        });
        if (event.error) errors.push({ seq: event.seq, ...event.error });
        break;
      }
      case 'message':
        if (event.author === 'customer') customerSaid = { seq: event.seq, text: event.text };
        break;
      default:
        break;
    }
  }

  const sentiment: { label: string; trend: string; frustration: number } | null = null;

  return {
    reason,
    trigger,
    priority,
    queue,
    identity,
    facts: [...facts.values()],
    steps,
    errors,
    sentiment,
    unknowns: [],
    opening: null,
    customerSaid,
    notes,
    customerName,
  };
}

function summarize(result: Record<string, unknown>): string | undefined {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      parts.push(`${key.replace(/_/g, ' ')}: ${String(value)}`);
    }
    if (parts.length >= 3) break;
  }
  return parts.length ? parts.join(' · ') : undefined;
}
