import { z } from 'zod';
import type { EventBody, SystemError } from './events.ts';
import { HandoffTrigger, Priority } from './events.ts';
import { scoreMessage } from './sentiment.ts';

/**
 * The escalation policy: from the record, decides whether the AI should hand the conversation to a human,
 * why, how urgently and to whom. Pure; the agent runtime calls it after every event it appends.
 *
 * How the AI marks that it did not understand: it appends an action `ai.not_understood` (outcome
 * `failed`) for that turn. An AI message that itself says so ("Sorry, I didn't understand…") counts too,
 * so bots that only post messages are covered.
 */

const RuleSchema = z.object({
  name: z.string().min(1).max(60),
  /** A case-insensitive regular expression tested on the latest customer message. */
  pattern: z.string().min(1).max(500),
  skills: z.array(z.string().min(1).max(40)).default([]),
  priority: Priority.default('normal'),
  reason: z.string().max(500).optional(),
  /** Only in this industry (finance, ecommerce, healthcare, other); every industry when absent. */
  industry: z.string().max(40).optional(),
});

export const EscalationConfig = z.object({
  industry: z.string().max(40).optional(),
  /** The customer asks for a person. */
  personRequest: z.boolean().default(true),
  frustration: z
    .object({
      enabled: z.boolean().default(true),
      /** Frustration (0..1) of the latest customer message at or above which the AI hands off. */
      threshold: z.number().min(0).max(1).default(0.7),
      /** How many recent customer messages the trend looks at. */
      window: z.number().int().min(2).max(20).default(3),
    })
    .prefault({}),
  /** The same action failing this many times hands off. */
  repeatedFailures: z.number().int().min(1).default(2),
  /** This many consecutive not-understood AI turns hand off. */
  notUnderstood: z.number().int().min(1).default(2),
  /** Refunds above this amount are not for the AI (see `checkRefund`). */
  refundLimit: z.number().nonnegative().default(100),
  /** Clinical questions in healthcare go to a nurse. */
  clinical: z
    .object({
      enabled: z.boolean().default(true),
      skill: z.string().default('clinical'),
      priority: Priority.default('high'),
    })
    .prefault({}),
  /** Suspected fraud goes to the fraud team at once. */
  fraud: z
    .object({
      enabled: z.boolean().default(true),
      skill: z.string().default('fraud'),
      priority: Priority.default('urgent'),
    })
    .prefault({}),
  rules: z.array(RuleSchema).default([]),
});
export type EscalationConfig = z.infer<typeof EscalationConfig>;
export type EscalationConfigInput = z.input<typeof EscalationConfig>;

export const EscalationDecision = z.object({
  trigger: HandoffTrigger,
  reason: z.string(),
  priority: Priority,
  skills: z.array(z.string()),
  /** 0-based index of the event that tipped the decision. */
  source: z.number().int().nonnegative().optional(),
});
export type EscalationDecision = z.infer<typeof EscalationDecision>;

const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

const PERSON_WORDS = [
  'human',
  'person',
  'agent',
  'representative',
  'operator',
  'supervisor',
  'manager',
  'rep',
  'staff',
  'employee',
  'somebody',
  'someone',
  'anyone',
  'anybody',
  'people',
  'associate',
  'advisor',
  'adviser',
];
/** Typos of the long person words ("huamn", "represenative", "supervisior") within one or two edits. */
const FUZZY_TARGETS = ['human', 'person', 'agent', 'representative', 'operator', 'supervisor', 'manager'];

/** Optimal string alignment distance (edits and adjacent swaps), giving up above `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (before[j - 2] ?? 0) + 1);
      }
      current.push(value);
    }
    if (Math.min(...current) > max) return max + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? max + 1;
}

/** The person word a token stands for, by token: the fuzzy match is the costly part, and words recur. */
const personWords = new Map<string, string | null>();

function personWord(token: string): string | undefined {
  return remember(personWords, token, (key) => readPersonWord(key) ?? null) ?? undefined;
}

function readPersonWord(token: string): string | undefined {
  const plain = token.replace(/s$/, '');
  if (PERSON_WORDS.includes(token) || PERSON_WORDS.includes(plain)) return PERSON_WORDS.includes(token) ? token : plain;
  if (token.length < 5 || NOT_FUZZY.has(token)) return undefined;
  for (const target of FUZZY_TARGETS) {
    const max = target.length >= 9 ? 2 : 1;
    if (editDistance(token, target, max) <= max) return target;
  }
  return undefined;
}

const NOT_FUZZY = new Set([
  'manage',
  'managed',
  'humane',
  'humans',
  'operate',
  'operated',
  'persona',
  'parson',
  'agency',
  'urgent',
  'argent',
  'prison',
]);
const WEAK_PERSON = new Set(['someone', 'somebody', 'anyone', 'anybody', 'people']);
const REQUEST_VERB =
  /\b(?:talk|speak|chat|connect|transfer|put me (?:through|on)|get me|give me|want|need|request|escalate|reach|let me|bring|call me|can i (?:get|have)|is there|i'?d like|hand me|pass me|switch me)\b/;
const STRONG_VERB = /\b(?:talk|speak|chat|connect|transfer|put me (?:through|on)|escalate|switch me|hand me|pass me)\b/;
const NEGATED =
  /\b(?:don'?t|do not|no need to|never|won'?t|wouldn'?t|not)\s+(?:\w+\s+){0,2}(?:want|need|talk|speak|chat|like|ask)\b/;
const NOT_A_REQUEST_PERSON =
  /\b(?:i'?m|i am|im) (?:a |an )?(?:real |actual )?(?:person|human)|(?:travel|insurance|real estate|estate|secret|free) agent|(?:(?:the|your|an?|that|this|other|last|previous) )?(?:agent|rep|representative|person|operator) (?:said|told|says|was|is|did|gave|promised|hung|mentioned)|\b(?:talked|spoke|chatted|spoken) (?:to|with)\b/;

/** Whether a customer message asks for a person. */
export function asksForPerson(text: string): boolean {
  const lower = text.toLowerCase().replace(/[’‘]/g, "'");
  if (NEGATED.test(lower)) return false;
  const tokens = lower.split(/[^a-z']+/).filter(Boolean);
  const people = tokens.map(personWord);
  const found = people.findIndex((word) => word !== undefined);
  if (found < 0) return false;
  const masked = lower.replace(NOT_A_REQUEST_PERSON, ' ');
  const maskedTokens = masked.split(/[^a-z']+/).filter(Boolean);
  const maskedPeople = maskedTokens.map(personWord).filter((word): word is string => word !== undefined);
  if (maskedPeople.length === 0) return false;
  const strong = maskedPeople.some((word) => !WEAK_PERSON.has(word));
  if (strong && REQUEST_VERB.test(masked)) return true;
  if (!strong && STRONG_VERB.test(masked)) return true;
  // "human please", "AGENT", "representative!!": a short message that is only the ask.
  const words = maskedTokens.filter(
    (token) => !['please', 'pls', 'plz', 'now', 'a', 'an', 'the', 'real', 'live'].includes(token),
  );
  return strong && words.length <= 2;
}

const CLINICAL =
  /\b(?:should i (?:keep |stop |start |still |be )?(?:tak(?:e|ing)|us(?:e|ing)|worried|concerned|go to|see a doctor)|can i (?:take|stop|mix|drink)|is it (?:safe|normal|ok|okay|dangerous)|dos(?:e|age|ing)|side[- ]effects?|symptoms?|pain|medication|medicine|meds|pills?|tablets?|prescri\w+|diagnos\w+|blood (?:pressure|sugar)|fever|allerg\w+|interact\w*|\d+ ?mg\b|treatment|rash|dizz\w+|bleed\w*|pregnan\w+)\b/;
const CLINICAL_EMERGENCY =
  /\b(?:chest pain|can'?t breathe|cannot breathe|short(?:ness)? of breath|suicid\w*|overdos\w*|kill myself|stroke|unconscious|severe bleeding)\b/;
const QUESTION_LIKE = /\?|\b(?:should i|can i|is it|do i|what (?:if|should)|how (?:much|many|often))\b/;

const FRAUD =
  /\b(?:fraud\w*|unauthori[sz]ed|did(?:n'?t| not) (?:make|authori[sz]e|do) (?:this|that|these|those|the|a|any)|don'?t recogni[sz]e (?:this|that|these|the|a)|identity theft|stolen (?:card|identity|account)|(?:card|account|identity) (?:was |has been |got )?(?:stolen|hacked|compromised)|hacked|someone (?:has )?(?:used|transferred|took|withdrew|charged|stole|accessed|opened)|scam(?:med)?)\b/;

const AI_NOT_UNDERSTOOD =
  /\b(?:(?:did(?:n'?t| not)|do(?:n'?t| not)) (?:quite )?(?:understand|get that|follow)|not sure (?:what|i understand)|could you (?:please )?(?:rephrase|say that another way)|i'?m (?:sorry, )?(?:not able to|unable to) understand|can you rephrase)\b/;

/** The most recent customer messages the tracker keeps: the largest frustration window allowed. */
const RECENT_CUSTOMER = 20;

/** What the policy reads in a customer message, whatever the settings: computed once per text. */
interface CustomerReading {
  fraud: boolean;
  emergency: boolean;
  clinicalQuestion: boolean;
  asksForPerson: boolean;
}

/** Bounded per-text memos: a conversation's latest messages are read again on every turn. */
const MEMO_LIMIT = 4000;
const customerReadings = new Map<string, CustomerReading>();
const notUnderstoodTexts = new Map<string, boolean>();
const rulePatterns = new Map<string, RegExp | null>();

function remember<T>(memo: Map<string, T>, key: string, compute: (key: string) => T): T {
  const found = memo.get(key);
  if (found !== undefined) return found;
  if (memo.size >= MEMO_LIMIT) memo.clear();
  const value = compute(key);
  memo.set(key, value);
  return value;
}

function readCustomer(text: string): CustomerReading {
  return remember(customerReadings, text, () => {
    const lower = text.toLowerCase().replace(/[’‘]/g, "'");
    return {
      fraud: FRAUD.test(lower),
      emergency: CLINICAL_EMERGENCY.test(lower),
      clinicalQuestion: CLINICAL.test(lower) && QUESTION_LIKE.test(lower),
      asksForPerson: asksForPerson(text),
    };
  });
}

function saysNotUnderstood(text: string): boolean {
  return remember(notUnderstoodTexts, text, () => AI_NOT_UNDERSTOOD.test(text.toLowerCase().replace(/[’‘]/g, "'")));
}

/** A rule's pattern, compiled once; null when it is not a valid regular expression (the rule is skipped). */
function rulePattern(pattern: string): RegExp | null {
  return remember(rulePatterns, pattern, () => {
    try {
      return new RegExp(pattern, 'i');
    } catch {
      return null;
    }
  });
}

/**
 * The escalation policy's view of one log, kept up to date one event at a time: a runtime that keeps it
 * between turns decides in time independent of the conversation's length. `decideEscalation` is this
 * tracker fed the whole log, so both always decide the same.
 *
 * Everything it keeps is independent of the settings; `decide` applies them.
 */
export class EscalationTracker {
  /** Events seen: the index the next pushed event gets. */
  #count = 0;
  #returned = -1;
  #requested = -1;
  #lastCustomer = -1;
  #lastCustomerText = '';
  // What follows is about the events since the last hand-back only (reset by `handoff.returned`).
  /** The latest customer messages, oldest first (at most RECENT_CUSTOMER). */
  #recent: { index: number; text: string }[] = [];
  #blocked: { index: number; event: Extract<EventBody, { type: 'action' }> } | undefined;
  #failures = new Map<string, { count: number; source: number }>();
  #streak = 0;
  #streakSource = -1;
  #markedTurn = false;

  /** The number of events seen so far. */
  get size(): number {
    return this.#count;
  }

  push(event: EventBody): void {
    const index = this.#count;
    this.#count += 1;
    switch (event.type) {
      case 'handoff.returned':
        this.#returned = index;
        this.#recent = [];
        this.#blocked = undefined;
        this.#failures = new Map();
        this.#streak = 0;
        this.#streakSource = -1;
        this.#markedTurn = false;
        return;
      case 'handoff.requested':
        this.#requested = index;
        return;
      case 'message':
        if (event.author === 'customer') {
          this.#lastCustomer = index;
          this.#lastCustomerText = event.text;
          this.#recent.push({ index, text: event.text });
          if (this.#recent.length > RECENT_CUSTOMER) this.#recent.shift();
        } else if (event.author === 'ai') {
          if (saysNotUnderstood(event.text)) {
            if (!this.#markedTurn) {
              this.#streak++;
              this.#streakSource = index;
            }
          } else if (!this.#markedTurn) this.#streak = 0;
          this.#markedTurn = false;
        }
        return;
      case 'action':
        if (event.outcome === 'blocked') this.#blocked = { index, event };
        if (event.name === 'ai.not_understood') {
          if (!this.#markedTurn) {
            this.#streak++;
            this.#streakSource = index;
          }
          this.#markedTurn = true;
        }
        if (event.outcome === 'failed' && !event.name.startsWith('ai.')) {
          const entry = this.#failures.get(event.name) ?? { count: 0, source: index };
          entry.count++;
          entry.source = index;
          this.#failures.set(event.name, entry);
        }
        return;
      default:
        return;
    }
  }

  /** An independent copy: pushing to one does not change the other. */
  clone(): EscalationTracker {
    const copy = new EscalationTracker();
    copy.#count = this.#count;
    copy.#returned = this.#returned;
    copy.#requested = this.#requested;
    copy.#lastCustomer = this.#lastCustomer;
    copy.#lastCustomerText = this.#lastCustomerText;
    copy.#recent = [...this.#recent];
    copy.#blocked = this.#blocked;
    for (const [name, entry] of this.#failures) copy.#failures.set(name, { ...entry });
    copy.#streak = this.#streak;
    copy.#streakSource = this.#streakSource;
    copy.#markedTurn = this.#markedTurn;
    return copy;
  }

  /**
   * Whether the AI should hand off now, and why (see `decideEscalation`), with settings already parsed
   * by `EscalationConfig.parse`.
   */
  decide(policy: EscalationConfig): EscalationDecision | null {
    if (this.#requested > this.#returned) return null;
    const candidates: EscalationDecision[] = [];
    const lastCustomer = this.#lastCustomer;

    if (lastCustomer > this.#returned) {
      const customerText = this.#lastCustomerText;
      const reading = readCustomer(customerText);
      if (policy.fraud.enabled && reading.fraud) {
        candidates.push({
          trigger: 'policy',
          reason: 'suspected fraud',
          priority: policy.fraud.priority,
          skills: [policy.fraud.skill],
          source: lastCustomer,
        });
      }
      if (policy.clinical.enabled && policy.industry === 'healthcare') {
        if (reading.emergency) {
          candidates.push({
            trigger: 'policy',
            reason: 'possible medical emergency',
            priority: 'urgent',
            skills: [policy.clinical.skill],
            source: lastCustomer,
          });
        } else if (reading.clinicalQuestion) {
          candidates.push({
            trigger: 'policy',
            reason: 'clinical question: the AI never answers these',
            priority: policy.clinical.priority,
            skills: [policy.clinical.skill],
            source: lastCustomer,
          });
        }
      }
      for (const rule of policy.rules) {
        if (rule.industry && rule.industry !== policy.industry) continue;
        const pattern = rulePattern(rule.pattern);
        if (pattern?.test(customerText)) {
          candidates.push({
            trigger: 'policy',
            reason: rule.reason ?? `rule ${rule.name}`,
            priority: rule.priority,
            skills: rule.skills,
            source: lastCustomer,
          });
        }
      }
      if (policy.personRequest && reading.asksForPerson) {
        candidates.push({
          trigger: 'customer_request',
          reason: 'the customer asked for a person',
          priority: 'normal',
          skills: [],
          source: lastCustomer,
        });
      }
    }

    // A blocked action means a rule forbade the AI: only a human can go on.
    const blocked = this.#blocked;
    if (blocked) {
      const code = blocked.event.error?.code ?? '';
      candidates.push({
        trigger: 'policy',
        reason:
          blocked.event.error?.message || `${blocked.event.name} is not allowed for the AI${code ? ` (${code})` : ''}`,
        priority: 'normal',
        skills: /REFUND/i.test(`${code} ${blocked.event.name}`) ? ['refunds'] : [],
        source: blocked.index,
      });
    }

    // Only the window counts, so only the window is scored: the latest customer messages since the hand-back.
    if (policy.frustration.enabled && this.#recent.length > 0) {
      const window = this.#recent.slice(-policy.frustration.window);
      const scores = window.map((message) => scoreMessage(message.text));
      const last = scores[scores.length - 1];
      if (last) {
        const earlier = scores.slice(0, -1);
        const mean = earlier.length ? earlier.reduce((sum, item) => sum + item.frustration, 0) / earlier.length : 0;
        const rising = earlier.length > 0 && last.frustration > mean;
        const sustained = earlier.filter((item) => item.frustration >= policy.frustration.threshold * 0.5).length;
        if (
          last.frustration >= policy.frustration.threshold &&
          (rising || sustained > 0 || last.frustration >= 0.9 || earlier.length === 0)
        ) {
          candidates.push({
            trigger: 'frustration',
            reason: `frustration rising (${last.cues.slice(0, 3).join(', ') || 'tone'})`,
            priority: 'high',
            skills: [],
            source: lastCustomer,
          });
        }
      }
    }

    for (const [name, entry] of this.#failures) {
      if (entry.count >= policy.repeatedFailures) {
        candidates.push({
          trigger: 'repeated_failure',
          reason: `${name} failed ${entry.count} times`,
          priority: 'normal',
          skills: [],
          source: entry.source,
        });
      }
    }

    if (this.#streak >= policy.notUnderstood) {
      candidates.push({
        trigger: 'not_understood',
        reason: `the AI did not understand ${this.#streak} times in a row`,
        priority: 'normal',
        skills: [],
        source: this.#streakSource,
      });
    }

    if (candidates.length === 0) return null;
    // The kind of reason decides the trigger (a rule, then the customer's own ask, then the signals we read);
    // the most urgent candidate decides the priority, so a frustrated request for a person waits less.
    const order: HandoffTrigger[] = ['policy', 'customer_request', 'frustration', 'repeated_failure', 'not_understood'];
    candidates.sort(
      (a, b) =>
        order.indexOf(a.trigger) - order.indexOf(b.trigger) || PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority],
    );
    const best = candidates[0];
    if (!best) return null;
    const skills = [...new Set(candidates.flatMap((candidate) => candidate.skills))];
    const priority = candidates.reduce(
      (top, candidate) => (PRIORITY_RANK[candidate.priority] > PRIORITY_RANK[top] ? candidate.priority : top),
      best.priority,
    );
    return { ...best, priority, skills };
  }
}

/**
 * Whether the AI should hand off now, and why; null when it should carry on (or when a human already
 * has the conversation). The most urgent reason wins.
 */
export function decideEscalation(
  events: readonly EventBody[],
  config: EscalationConfigInput = {},
): EscalationDecision | null {
  const policy = EscalationConfig.parse(config);
  const tracker = new EscalationTracker();
  for (const event of events) tracker.push(event);
  return tracker.decide(policy);
}

/**
 * Whether the AI may refund this amount itself. When not, the runtime records the attempt as a `blocked`
 * action with this error, which `decideEscalation` turns into a policy handoff.
 */
export function checkRefund(
  amount: number,
  config: EscalationConfigInput = {},
): { allowed: true } | { allowed: false; error: SystemError } {
  const { refundLimit } = EscalationConfig.parse(config);
  if (amount <= refundLimit) return { allowed: true };
  return {
    allowed: false,
    error: {
      system: 'policy',
      code: 'REFUND_LIMIT',
      message: `refund of ${amount.toFixed(2)} is above the AI limit of ${refundLimit.toFixed(2)}`,
    },
  };
}
