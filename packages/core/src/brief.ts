import { z } from 'zod';
import { actionTokens, actionWords } from './action-phrases.ts';
import type { EventBody, SystemError } from './events.ts';
import { ActionOutcome, HandoffTrigger, Priority } from './events.ts';
import { extractFacts, type Fact, factsOnFile } from './facts.ts';
import { findSecrets } from './redaction.ts';
import { analyzeSentiment, Sentiment } from './sentiment.ts';
import { resultDetails } from './step-details.ts';

/**
 * The handoff brief: what a human needs before saying hello, as a pure function of the events up to the
 * handoff. The same object feeds the console (live, in the browser), the API (OpenAPI from the zod
 * schema) and `baton eval`.
 */

export const BriefFact = z.object({
  name: z.string(),
  value: z.string(),
  /** 0-based index of the event the value came from. */
  source: z.number().int().nonnegative(),
  via: z.string(),
  confidence: z.number().optional(),
});
export type BriefFact = z.infer<typeof BriefFact>;

export const BriefStep = z.object({
  action: z.string(),
  outcome: ActionOutcome,
  source: z.number().int().nonnegative(),
  summary: z.string(),
  actor: z.string().optional(),
  /** Who performed it, when an agent or a bot did (`agent_sam`). */
  actorId: z.string().optional(),
  /** What the result says, in short lines (`total: 184.2 USD`, tracking events); no secrets. */
  details: z.array(z.string()).optional(),
});
export type BriefStep = z.infer<typeof BriefStep>;

export const BriefFailure = z.object({
  action: z.string(),
  outcome: ActionOutcome,
  source: z.number().int().nonnegative(),
  why: z.string(),
});

export const BriefError = z.object({
  system: z.string(),
  code: z.string(),
  message: z.string(),
  source: z.number().int().nonnegative(),
});
export type BriefError = z.infer<typeof BriefError>;

/** An internal note, a transfer note or a hand-back note: staff-only words the next person needs. */
export const BriefNote = z.object({
  text: z.string(),
  kind: z.enum(['note', 'transfer', 'return']),
  authorId: z.string().optional(),
  authorName: z.string().optional(),
  source: z.number().int().nonnegative(),
});
export type BriefNote = z.infer<typeof BriefNote>;

/** A person who held the conversation before and let go of it (transfer, hand-back, resolve). */
export const BriefPreviousAgent = z.object({
  agentId: z.string(),
  name: z.string().optional(),
  /** Where their time with the conversation began (accept) and ended. */
  from: z.number().int().nonnegative(),
  until: z.number().int().nonnegative(),
  ended: z.enum(['transferred', 'returned', 'resolved']),
  actions: z.array(BriefStep),
  notes: z.array(BriefNote),
  messages: z.number().int().nonnegative(),
  lastMessage: z.object({ text: z.string(), source: z.number().int().nonnegative() }).optional(),
});
export type BriefPreviousAgent = z.infer<typeof BriefPreviousAgent>;

export const Brief = z.object({
  reason: z.object({
    label: z.string(),
    /** The customer's own words (secrets masked). */
    text: z.string(),
    source: z.number().int().nonnegative().nullable(),
  }),
  customer: z.object({
    name: z.string().optional(),
    verified: z.boolean(),
    verification: z.object({ method: z.string(), source: z.number().int().nonnegative() }).optional(),
  }),
  facts: z.array(BriefFact),
  onFile: z.array(BriefFact),
  steps: z.array(BriefStep),
  failed: z.array(BriefFailure),
  errors: z.array(BriefError),
  sentiment: Sentiment,
  /** What the reason for contact still needs: standard fact names, or `identity` when not verified. */
  unknown: z.array(z.string()),
  handoff: z
    .object({
      trigger: HandoffTrigger,
      priority: Priority,
      skills: z.array(z.string()),
      reason: z.string().optional(),
      source: z.number().int().nonnegative(),
    })
    .optional(),
  /** A suggested opening line that builds on the work done. */
  greeting: z.string(),
  /** Staff notes up to `through` (absent when there are none): what colleagues wrote for the next person. */
  notes: z.array(BriefNote).optional(),
  /** People who held the conversation before (absent when none): what they did and said (S6). */
  previousAgents: z.array(BriefPreviousAgent).optional(),
  /** How many events the brief was built from. */
  upTo: z.number().int().nonnegative(),
});
export type Brief = z.infer<typeof Brief>;

export interface BriefOptions {
  /** Build from `events.slice(0, upTo)`; defaults to the events up to and including the first handoff. */
  upTo?: number;
  /**
   * Read notes and earlier agents' work from `events.slice(0, through)`; defaults to `upTo`. The brief of
   * the handoff stays the same for every agent; a transferred conversation adds what colleagues did since.
   */
  through?: number;
  customerName?: string;
  industry?: string;
}

/** How each standard fact reads in a sentence. */
export const FACT_LABELS: Record<string, string> = {
  full_name: 'name',
  email: 'email',
  phone: 'phone number',
  account_id: 'account number',
  order_id: 'order number',
  username: 'username',
  zip_code: 'ZIP code',
  street_address: 'address',
  date_of_birth: 'date of birth',
  card_last4: "card's last four digits",
  member_id: 'member ID',
  amount: 'amount',
  identity: 'identity',
};

export function factLabel(name: string): string {
  return FACT_LABELS[name] ?? name.replace(/_/g, ' ');
}

interface ReasonRule {
  label: string;
  /** Customer words that point to this reason. */
  words: RegExp;
  /** Action name tokens that point to it. */
  actions?: RegExp;
  /** What the agent has been working on, for the greeting ("getting access to your account back"). */
  phrase: (facts: ReadonlyMap<string, string>) => string;
  /** Facts the reason needs before it can be worked. */
  needs: readonly string[];
  /** Whether the reason needs a verified identity. */
  needsIdentity?: boolean;
}

// Order matters on ties: the more specific and the more urgent first.
const REASONS: readonly ReasonRule[] = [
  {
    label: 'fraud',
    words:
      /\b(?:fraud\w*|unauthori[sz]ed|did(?:n'?t| not) (?:make|authori[sz]e)|don'?t recogni[sz]e|not mine|stole|stolen|hacked|scam\w*|suspicious|identity theft|(?:it )?(?:was(?:n'?t| not)|wasn'?t) me|some(?:one|body) (?:has )?(?:just )?(?:used|transferred|took|withdrew|charged|accessed|opened|stole)|(?:money|funds|\d[\d,.]*) (?:is |are |has |have )?(?:been )?(?:missing|gone|taken|transferred|withdrawn) (?:from|out of) my (?:\w+ )?account|(?:money |unauthori[sz]ed |strange |unknown )?(?:transfers?|withdrawals?) (?:from|out of) my (?:\w+ )?account|missing from my (?:\w+ )?account)\b/i,
    actions: /\b(?:fraud|dispute|freeze|block)\b/,
    phrase: () => 'reporting suspicious activity on your account',
    needs: ['account_id'],
    needsIdentity: true,
  },
  {
    label: 'missing order',
    words:
      /\b(?:where(?:'s| is) my (?:order|package|parcel|delivery|stuff|item)|never (?:arrived|came|got|received|showed)|(?:did(?:n'?t| not)|have(?:n'?t| not)|has(?:n'?t| not)) (?:arrive|arrived|come|get|got|rec(?:ei|ie)ved?|show(?:n|ed)? up)|not (?:arrived|received|delivered)|missing (?:order|package|parcel|item)|(?:order|package|parcel|delivery) (?:is|was|has gone|went) (?:missing|lost)|lost (?:package|parcel|order)|delivered but|says (?:it was )?delivered|still waiting (?:for|on) my (?:order|package|delivery)|tracking (?:says|shows|number))/i,
    actions: /\b(?:track|shipment|tracking|delivery|reship)\b/,
    phrase: (facts) => {
      const order = facts.get('order_id');
      return order ? `finding out what happened to your order ${order}` : 'finding out what happened to your order';
    },
    needs: ['order_id'],
  },
  {
    label: 'account access',
    words:
      /\b(?:log ?in|logging in|sign ?in|signing in|log on|locked out|lock(?:ed)? (?:me )?out|password|can'?t (?:get )?(?:in|into|access)|cannot (?:get )?(?:in|into|access)|access (?:to )?my account|two[- ]?step|(?:two|2)[- ]?factor|2fa|authenticator app|verification code|one[- ]time code|user ?name|forgot (?:my )?(?:user ?name|password|login)|account (?:is )?locked)\b/i,
    actions: /\b(?:password|login|unlock|mfa|signin|credential)\b/,
    phrase: () => 'getting access to your account back',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'referral status',
    words: /\b(?:referral|referred|specialist)\b/i,
    actions: /\b(?:referral)\b/,
    phrase: () => 'checking on your referral',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'refund',
    words:
      /\b(?:refund\w*|money back|reimburse\w*|return(?:ing)? (?:it|this|the|my|an?|some|these|those|them)|returns? policy|my return|exchange (?:it|this|the|my|an?|them)|send (?:it|this|them) back|wrong (?:size|colou?r|item|one))\b/i,
    actions: /\b(?:refund|return|reimburse)\b/,
    phrase: (facts) => {
      const order = facts.get('order_id');
      return order ? `getting a refund for order ${order}` : 'getting a refund';
    },
    needs: ['order_id'],
  },
  {
    label: 'billing',
    words:
      /\b(?:charged?|charges|charging|bill(?:ed|ing)?|invoice\w*|fees?|overcharged|double[- ]charged|statement|payment|store credit|credits)\b/i,
    actions: /\b(?:charge|bill|billing|invoice|payment|fee|waive)\b/,
    phrase: () => 'sorting out a charge on your account',
    needs: ['amount'],
    needsIdentity: true,
  },
  {
    label: 'promo code',
    words: /\b(?:promo(?:tion(?:al)?)?(?: ?codes?)?|coupons?|discount codes?|vouchers?)\b/i,
    actions: /\b(?:promo|coupon|voucher|discount)\b/,
    phrase: () => 'your promo code',
    needs: [],
  },
  {
    label: 'card',
    words:
      /\b(?:lost (?:my )?(?:debit |credit )?card|(?:card|cc) (?:was |is |got |keeps )?(?:getting |being )?(?:lost|stolen|declined|rejected|refused|blocked|frozen|damaged)|replacement card|new card|(?:debit|credit) card)\b/i,
    actions: /\b(?:card)\b/,
    phrase: () => 'sorting out your card',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'booking',
    words:
      /\b(?:(?:change|modify|adjust|rebook|reschedule|move|switch|upgrade|downgrade) (?:[\w'-]+ ){0,5}(?:flights?|reservations?|bookings?|trips?|tickets?|seats?|hotel|room|stay|cabin)|(?<!cancel\w* (?:my |our |the |this |that )?)flight bookings?|booked (?:[\w'-]+ ){0,2}flights?|how many (?:\w+ )?(?:bags|suitcases|pieces of luggage)|baggage allowance|(?:make|making) (?:a |some |few |a few )*changes? (?:to|for|on) (?:my |our |the |this )?(?:[\w'-]+ )?(?:flights?|reservations?|bookings?|trips?)|book (?:a |an |the |another |two |some )?(?:[\w'-]+ )?(?:flights?|tickets?|trips?|hotel|room|seats?)|(?:add|remove) (?:a |an |the |one )?(?:passengers?|travell?ers?|guests?|bags?|baggage|luggage)|(?:checked|extra) (?:bags?|baggage))\b/i,
    // Booking or changing one (book_reservation, update_reservation_flights): a lookup says nothing of why,
    // and cancel_reservation is a cancellation's.
    actions:
      /^(?!.*\bcancel)(?=.*\b(?:book|update|modify|change|rebook|upgrade|downgrade)\b).*\b(?:reservation|booking|flights?|itinerary|passengers?)\b/,
    phrase: () => 'your booking',
    needs: [],
  },
  {
    label: 'appointment',
    words: /\b(?:appointment|reschedul\w*|book(?:ing)? (?:a |an )?(?:visit|slot)|see (?:a|the) doctor)\b/i,
    actions: /\b(?:appointment|schedule|reschedule|book)\b/,
    phrase: () => 'your appointment',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'prescription',
    words: /\b(?:prescription|refill|medication|meds|pharmacy)\b/i,
    actions: /\b(?:prescription|refill)\b/,
    phrase: () => 'your prescription',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'travel disruption',
    words:
      /\b(?:(?:flight|train|bus|connection|trip)s?\b[^.?!]{0,40}?\b(?:delayed|cancell?ed|overbooked|diverted)|(?:flight|train) delays?|delay (?:on|of|to) (?:my |our |the )?(?:\w+ )?(?:flight|train|trip)|missed (?:my |our |the )?(?:flight|connection|train)|(?:lost|delayed|damaged|missing) (?:bags?|baggage|luggage|suitcases?)|(?:bags?|baggage|luggage|suitcases?) (?:is |was |were |has been |have been )?(?:lost|delayed|damaged|missing|never arrived))\b/i,
    actions: /\b(?:delay|disruption|baggage|luggage)\b/,
    phrase: () => 'the disruption to your trip',
    needs: [],
  },
  {
    label: 'cancellation',
    words: /\b(?:cancel\w*|close my account|unsubscribe|terminate)\b/i,
    actions: /\b(?:cancel|close|terminate)\b/,
    phrase: () => 'your cancellation',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'subscription',
    words:
      /\b(?:subscriptions?|subscribed|memberships?|premium|renew\w*|(?:change|switch|upgrade|downgrade) (?:my|the|our) (?:plan|tier|membership|subscription))\b/i,
    actions: /\b(?:subscription|membership|plan|renew|upgrade|downgrade)\b/,
    phrase: () => 'your subscription',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'account update',
    words:
      /\b(?:(?:change|update|correct|edit|fix) (?:my|the) (?:address|email|phone|name|number|details|shipping address)|(?:address|e-?mail|phone(?: number)?|name|details) (?:on (?:my|the) account )?(?:is|are|was|were) (?:wrong|incorrect|outdated|out of date|misspelled)|wrong (?:address|e-?mail|phone(?: number)?|name) on (?:my|the) account)\b/i,
    actions: /\b(?:update|change|edit)\b(?! order)/,
    phrase: () => 'updating your account details',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'balance',
    words:
      /\b(?:balances?|how much (?:money )?(?:do i have|i have|is (?:in|on|left)|(?:is )?in my (?:\w+ )?account))\b/i,
    actions: /\b(?:balance)\b/,
    phrase: () => 'checking your balance',
    needs: ['account_id'],
    needsIdentity: true,
  },
  {
    label: 'order change',
    words:
      /\b(?:(?:add|remove|swap) (?:[\w'-]+ ){1,4}(?:to|from|on|in) (?:my|an|the)(?: \w+)? order|change (?:(?:an? |the |one |this |that |some |another )?(?:\w+ )?items?|it|that|this|them) (?:on|in) (?:my|an|the)(?: \w+)? order|(?:change|modify|update|edit) (?:my|the) order|upgrade (?:it|my order|the order|my shipping|the shipping)|change (?:my|the) (?:shipping|delivery) (?:date|method|option|speed))\b/i,
    actions: /\b(?:modify|amend)\b|\b(?:update|change|edit) order\b/,
    phrase: () => 'changing your order',
    needs: ['order_id'],
  },
  {
    label: 'shipping',
    words:
      /\b(?:shipping|ship(?:ped)?|delivery (?:date|time)|when will (?:it|my order) (?:arrive|ship)|expedite\w*|status of (?:my|an?|the) (?:order|package|parcel|delivery)|order status|track(?:ing)? (?:it|my (?:order|package|parcel|delivery)))\b/i,
    actions: /\b(?:ship|shipping)\b/,
    phrase: () => 'your delivery',
    needs: ['order_id'],
  },
  {
    label: 'claim',
    words: /\b(?:claims?|deductible|coverage|pre-?authori[sz]ation|explanation of benefits)\b/i,
    actions: /\b(?:claim|coverage|preauth|preauthorization)\b/,
    phrase: () => 'your claim',
    needs: [],
    needsIdentity: true,
  },
  {
    label: 'pricing',
    words:
      /\b(?:prices?|priced|pricing|overpriced|cheaper|(?:more|so|too) expensive|(?:on|annual|the) sale|price (?:match|adjustment)|how much (?:does|do|would|will) (?:it|this|that|they|these|those|the \w+) cost|how much (?:it|that|this)(?:'d| would| will) (?:be|cost))\b/i,
    actions: /\b(?:price|pricing)\b/,
    phrase: () => 'a question about a price',
    needs: [],
  },
  {
    label: 'store hours',
    words:
      /\b(?:(?:store|opening|business|office|branch) hours|what time (?:do|does|will) (?:you|(?:your|the) (?:\w+ ){0,4}(?:store|shop|branch|office|location)) (?:open|close)|(?:are|is) (?:you|(?:your|the) (?:\w+ )?(?:store|shop|branch|office)) (?:open|closed)|(?:closest|nearest) (?:store|shop|branch|location))\b/i,
    phrase: () => 'our opening hours',
    needs: [],
  },
  {
    label: 'technical issue',
    words:
      /\b(?:error|crash\w*|bug|glitch\w*|not loading|won'?t (?:load|open)|(?:app|site|website|page|search|cart|checkout|browser)\b[^.?!]{0,30}?\b(?:slow\w*|broken|down|freez\w*|stuck|spinning|blank|not (?:working|updating|loading|responding)|(?:won'?t|will not|wouldn'?t) (?:work|update|load|open|let me)|(?:isn'?t|doesn'?t|is not|does not) (?:seem to )?(?:be )?(?:work|update|load)\w*)|search(?:es|ing)?\b[^.?!]{0,40}?\b(?:unrelated|irrelevant|nothing relevant)|(?:unrelated|irrelevant|wrong) (?:search )?results|(?:running|loading) (?:really |very |so )?slow\w*|takes? (?:forever|ages|minutes) to load|(?:wheel|circle) (?:keeps )?spinning|spinning (?:wheel|circle)|(?:no|0|zero) (?:search )?results)\b/i,
    actions: /\b(?:restart|reinstall|cache|clear|update)\b/,
    phrase: () => 'getting things working again',
    needs: [],
  },
  {
    label: 'product question',
    words:
      /\b(?:materials?|fabric|made of|colou?rs?|sizes?|sizing|fits?|width|wide|length|collar|sleeves?|buttons?|laces?|hood|lined|lining|(?:does|do|will) (?:it|this|that|they|these|those) come in|waterproof|warm enough|(?:thinking (?:about|of)|considering|want(?:ing)? to|would like to) buy(?:ing)?|(?:know|learn) more about|more (?:information|info|details) (?:on|about)|(?:a )?question about (?:an?|this|that|these|those|the|some) (?!order|account|bill|charge|payment|subscription|membership)\w+|shrink\w*|washable|machine wash\w*|dry[- ]clean\w*|in stock|out of stock|back in stock|available in|tailor\w*|stitching|warrant(?:y|ies)|gift[- ]?wrap\w*)\b/i,
    actions: /\b(?:product|catalog|stock|inventory)\b/,
    phrase: () => 'your questions about the product',
    needs: [],
  },
];

const GENERAL_REASON: ReasonRule = {
  label: 'general question',
  words: /$^/,
  phrase: () => 'your request',
  needs: [],
};

/** Markers the AI runtime writes about itself (`ai.not_understood`), not steps taken for the customer. */
export function isMarkerAction(name: string): boolean {
  return /^(?:ai|bot|system)[._]/.test(name);
}

const SECRET_CUE =
  /\b(?:pin|pass(?:word|code)?|otp|one[- ]time|security|ssn|social security|cvv|cvc|verification code|code)\b/i;

/**
 * Masks secrets in customer words the brief quotes. Beyond the detector's spans, a message that talks
 * about a PIN or a code has all its number runs masked: "it was either 5380 or 9503" after "my PIN".
 */
function maskSecrets(text: string, previousQuestion?: string): string {
  const spans = findSecrets(text, previousQuestion === undefined ? {} : { previousQuestion });
  let out = '';
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    out += `${text.slice(at, span.start)}[${span.kind}]`;
    at = span.end;
  }
  out += text.slice(at);
  const context = `${previousQuestion ?? ''} ${text}`;
  return SECRET_CUE.test(context) ? out.replace(/\d[\d -]{2,}\d|\d{3,}/g, '[number]') : out;
}

function previousAsk(events: readonly EventBody[], index: number): string | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const event = events[i];
    if (event?.type === 'message') return event.author === 'customer' ? undefined : event.text;
  }
  return undefined;
}

interface ReasonChoice {
  rule: ReasonRule;
  source: number | null;
}

/** Each rule's words as a global pattern, compiled once rather than per message and rule. */
const countingPatterns = new Map<ReasonRule, RegExp>();

function countingWords(rule: ReasonRule): RegExp {
  let pattern = countingPatterns.get(rule);
  if (!pattern) {
    pattern = new RegExp(rule.words.source, 'gi');
    countingPatterns.set(rule, pattern);
  }
  return pattern;
}

/** The rules each action name counts for: a long log repeats the same few actions. */
const rulesByAction = new Map<string, ReasonRule[]>();

function chooseReason(events: readonly EventBody[]): ReasonChoice {
  const scores = new Map<ReasonRule, { score: number; source: number | null }>();
  let customerTurn = 0;
  events.forEach((event, index) => {
    if (event.type === 'message' && event.author === 'customer') {
      // The first messages say why the customer came; later ones drift into details.
      const weight = customerTurn === 0 ? 3 : customerTurn === 1 ? 2 : 1;
      customerTurn++;
      if (customerTurn > 6) return;
      for (const rule of REASONS) {
        const hits = event.text.match(countingWords(rule))?.length ?? 0;
        if (hits === 0) continue;
        const entry = scores.get(rule) ?? { score: 0, source: index };
        entry.score += Math.min(hits, 2) * weight;
        // Quote the first message that says it in so many words, not a bare answer that happens to hold
        // the rule's word ("username: jb_0412" after "What is your username?").
        if (entry.source !== null && entry.source !== index && !isSubstantive(events, entry.source)) {
          if (isSubstantive(events, index)) entry.source = index;
        }
        scores.set(rule, entry);
      }
    } else if (event.type === 'action' && !isMarkerAction(event.name)) {
      let rules = rulesByAction.get(event.name);
      if (!rules) {
        if (rulesByAction.size >= 1000) rulesByAction.clear();
        const tokens = actionTokens(event.name).join(' ');
        rules = REASONS.filter((rule) => rule.actions?.test(tokens));
        rulesByAction.set(event.name, rules);
      }
      for (const rule of rules) {
        const entry = scores.get(rule) ?? { score: 0, source: null };
        entry.score += 1;
        scores.set(rule, entry);
      }
    }
  });
  let best: ReasonChoice = { rule: GENERAL_REASON, source: null };
  let bestScore = 0;
  for (const rule of REASONS) {
    const entry = scores.get(rule);
    if (entry && entry.score > bestScore) {
      best = { rule, source: entry.source };
      bestScore = entry.score;
    }
  }
  if (best.source === null) best = { rule: best.rule, source: firstSubstantiveMessage(events) };
  return best;
}

/** Words that open, fill or close a chat without saying why the customer came. */
const PLEASANTRIES = new Set(
  (
    'hi hii hiya hello hallo hey heya howdy greetings yo ho morning afternoon evening good day there ' +
    'ok okay k yes yeah yep yup no nope sure thanks thank thx ty you great cool fine well all right ' +
    'im i am doing not bad please sorry so um uh oh and how are again just a quick question have one ' +
    'some help can could would with something me us team folks guys everyone anyone'
  ).split(' '),
);

/** An AI or agent question that asks for a detail: the customer's short reply is an answer, not a reason. */
const ASKS_FOR_DETAIL =
  /\b(?:name|e-?mail|user ?name|username|account|order|id|number|zip|post ?code|phone|address|code|pin|birth|dob|membership|level|spell)\b[^?]*\?/i;

/**
 * The customer message that says why they came when no reason's words did: the first of their early
 * messages that is neither a pleasantry ("Hi", "good thanks") nor a short answer to a question that asked
 * for a detail ("Rodriguez Domingo" after "May I have your name?"). The first message when none is.
 */
function firstSubstantiveMessage(events: readonly EventBody[]): number | null {
  let first: number | null = null;
  let turns = 0;
  for (let index = 0; index < events.length && turns < 6; index++) {
    const event = events[index];
    if (event?.type !== 'message' || event.author !== 'customer') continue;
    turns++;
    first ??= index;
    if (isSubstantive(events, index)) return index;
  }
  return first;
}

/** Whether the customer message at `index` says something: not a pleasantry, not a short answer to an ask. */
function isSubstantive(events: readonly EventBody[], index: number): boolean {
  const event = events[index];
  if (event?.type !== 'message') return false;
  const words = event.text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  const telling = words.filter((word) => !PLEASANTRIES.has(word.replace(/'/g, '')));
  if (telling.length < 2) return false;
  return !(words.length <= 4 && ASKS_FOR_DETAIL.test(lastQuestion(events, index)));
}

/** The last AI or agent message before `index`, over the customer's own messages since: what they answer. */
function lastQuestion(events: readonly EventBody[], index: number): string {
  for (let i = index - 1; i >= 0; i--) {
    const event = events[i];
    if (event?.type === 'message' && event.author !== 'customer') return event.text;
  }
  return '';
}

/** A general error → next step map, by the shape of the code and message rather than a list of codes. */
export function nextStepFor(error: SystemError, outcome: ActionOutcome = 'failed'): string {
  const text = `${error.code} ${error.message}`.toUpperCase();
  if (/MFA|2FA|TWO[_ -]?(?:FACTOR|STEP)|OTP|TOTP|SECOND[_ ]FACTOR|AUTHENTICATOR/.test(text)) {
    return 'Let me check the two-step verification settings that might be causing this.';
  }
  if (outcome === 'blocked' || /LIMIT|THRESHOLD|POLICY|NOT_ALLOWED|APPROVAL|FORBIDDEN|PERMISSION/.test(text)) {
    return 'I can take care of that for you now.';
  }
  if (/LOCK/.test(text)) return 'Let me look at why your account is locked and get you back in.';
  if (/EXPIRED/.test(text)) return 'Let me get you a fresh one.';
  if (/TIMEOUT|TIMED[_ ]OUT|UNAVAILABLE|GATEWAY|NETWORK|\b5\d\d\b/.test(text)) {
    return `Let me retry that on our side and check the ${error.system} system.`;
  }
  if (/DECLINED|INSUFFICIENT|PAYMENT/.test(text)) return 'Let me look at why the payment was declined.';
  if (/UNDELIVERABLE|CARRIER|DELIVER|SHIPMENT/.test(text)) return 'Let me check the delivery details with the carrier.';
  if (/ADDRESS/.test(text)) return 'Let me check the address on our side and get it saved.';
  if (/NOT[_ ]FOUND|NO[_ ]SUCH|UNKNOWN|MISSING/.test(text)) {
    return `Let me look into why ${error.system === 'unknown' ? 'it' : `the ${error.system} system`} couldn't find it.`;
  }
  if (/DUPLICATE|ALREADY/.test(text)) return "Let me check what's already on file so we don't do it twice.";
  if (/SUSPENDED|DISABLED|CLOSED|INACTIVE|FROZEN|RESTRICTED/.test(text)) {
    return 'Let me check why your account is restricted.';
  }
  if (/INVALID|MISMATCH|FORMAT/.test(text)) return 'Let me double-check the details on our side.';
  return `Let me look into the ${error.system === 'unknown' ? '' : `${error.system} `}error (${error.code}) for you.`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function stepSummary(name: string, outcome: ActionOutcome, error?: SystemError): string {
  const words = actionWords(name);
  const detail = error ? ` (${error.system === 'unknown' ? '' : `${error.system} `}${error.code})` : '';
  if (outcome === 'succeeded') return `${capitalise(words.past)}: succeeded.`;
  if (outcome === 'blocked')
    return `Could not ${words.phrase}: blocked${error?.message ? `, ${error.message}` : detail}.`;
  return `Tried to ${words.phrase}: failed${detail}.`;
}

const VERIFY_ACTION = /\b(?:verify|verification|authenticate|authentication|identity|kyc)\b/;

/** Whether an action name is an identity check (`verify_identity`, `authenticate_user`, `kyc_check`). */
export function isVerificationAction(name: string): boolean {
  return VERIFY_ACTION.test(actionTokens(name).join(' '));
}

function toBriefFact(fact: Fact): BriefFact {
  return { name: fact.name, value: fact.value, source: fact.source, via: fact.via, confidence: fact.confidence };
}

function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? name;
}

function problemClause(failed: ReadonlyArray<{ action: string; outcome: ActionOutcome }>, reason: string): string {
  const last = failed[failed.length - 1];
  if (!last) return '';
  const words = actionWords(last.action);
  if (last.outcome === 'blocked') return `${words.gerund} needs a person to approve it`;
  const tokens = new Set(actionTokens(last.action));
  if (tokens.has('login') || tokens.has('signin') || (tokens.has('log') && tokens.has('in'))) {
    return "you're still having trouble logging in";
  }
  if (reason === 'account access' && (tokens.has('access') || tokens.has('mfa'))) {
    return "you're still having trouble logging in";
  }
  return `we weren't able to ${words.phrase}`;
}

/** The suggested opening line: builds on the work done, asks only for what is still unknown. */
function composeGreeting(input: {
  name?: string;
  reason: ReasonRule;
  facts: ReadonlyMap<string, string>;
  verified: boolean;
  steps: readonly BriefStep[];
  failed: ReadonlyArray<{ action: string; outcome: ActionOutcome }>;
  errors: readonly BriefError[];
  lastError?: { error: SystemError; outcome: ActionOutcome };
  unknown: readonly string[];
  frustrated: boolean;
}): string {
  const parts: string[] = [];
  parts.push(input.name ? `Hi ${firstName(input.name)},` : 'Hi there,');
  if (input.frustrated) parts.push("I'm sorry this has been such a hassle.");
  if (input.reason !== GENERAL_REASON) {
    parts.push(`I can see you've been working on ${input.reason.phrase(input.facts)}.`);
  } else if (!input.frustrated) {
    // "Hi Crystal, We've…" reads wrong; and the customer should hear that nothing starts over.
    parts.push("I've read through our conversation so far.");
  }
  const done: string[] = [];
  if (input.verified) done.push('verified your identity');
  // An action's last outcome speaks for it: one that failed and then worked is done, and one that worked
  // and then failed is the problem ("we've booked the table, but we weren't able to book the table").
  const lastOutcome = new Map<string, ActionOutcome>();
  for (const step of input.steps) lastOutcome.set(step.action, step.outcome);
  const seen = new Set<string>();
  for (const step of input.steps) {
    if (lastOutcome.get(step.action) !== 'succeeded' || seen.has(step.action)) continue;
    if (input.verified && VERIFY_ACTION.test(actionTokens(step.action).join(' '))) continue;
    seen.add(step.action);
    done.push(actionWords(step.action).past);
  }
  const doneText = done.length ? `We've ${joinList(done.slice(0, 3))}` : '';
  const problem = problemClause(
    input.failed.filter((failure) => lastOutcome.get(failure.action) !== 'succeeded'),
    input.reason.label,
  );
  if (doneText && problem) parts.push(`${doneText}, but ${problem}.`);
  else if (doneText) parts.push(`${doneText}.`);
  else if (problem) parts.push(`I can see that ${problem}.`);
  if (input.lastError) parts.push(nextStepFor(input.lastError.error, input.lastError.outcome));
  else if (input.unknown.some((name) => name !== 'identity')) {
    const wanted = input.unknown
      .filter((name) => name !== 'identity')
      .map((name) => (name === 'amount' ? 'the amount of the charge' : `your ${factLabel(name)}`));
    parts.push(`Could you share ${joinList(wanted)} so I can take it from here?`);
  } else parts.push("I'll take it from here.");
  return parts.join(' ');
}

export function firstHandoffIndex(events: readonly EventBody[]): number {
  return events.findIndex((event) => event.type === 'handoff.requested');
}

/** The events a brief covers (`upTo`: to the first handoff request, all when none) and reads (`through`). */
function briefScope(events: readonly EventBody[], options: BriefOptions): { upTo: number; through: number } {
  const handoffAt = firstHandoffIndex(events);
  const upTo = Math.min(events.length, options.upTo ?? (handoffAt >= 0 ? handoffAt + 1 : events.length));
  return { upTo, through: Math.max(upTo, Math.min(events.length, options.through ?? upTo)) };
}

/**
 * How many leading events `buildBrief(events, options)` reads: events appended after them do not change
 * it, so a log that only grew past them has the same brief (a conversation waiting for an agent keeps
 * its brief however long the customer writes meanwhile).
 */
export function briefReads(events: readonly EventBody[], options: BriefOptions = {}): number {
  return briefScope(events, options).through;
}

export function buildBrief(events: readonly EventBody[], options: BriefOptions = {}): Brief {
  const { upTo, through } = briefScope(events, options);
  const scope = events.slice(0, upTo);

  const facts = extractFacts(scope).map(toBriefFact);
  const onFile = factsOnFile(scope).map(toBriefFact);
  const known = new Map<string, string>();
  for (const fact of onFile) known.set(fact.name, fact.value);
  for (const fact of facts) known.set(fact.name, fact.value);

  const steps: BriefStep[] = [];
  const failed: Array<z.infer<typeof BriefFailure>> = [];
  const errors: BriefError[] = [];
  let lastError: { error: SystemError; outcome: ActionOutcome } | undefined;
  let verification: { method: string; source: number } | undefined;
  let verified = false;
  let subject: string | undefined;
  let handoff: Brief['handoff'];
  scope.forEach((event, source) => {
    if (event.type === 'action') {
      if (isMarkerAction(event.name)) return;
      const step = toStep(event, source);
      steps.push(step);
      if (event.outcome !== 'succeeded') {
        failed.push({
          action: event.name,
          outcome: event.outcome,
          source,
          why: event.error?.message || event.error?.code || 'no reason given',
        });
      }
      if (event.error) {
        errors.push({ system: event.error.system, code: event.error.code, message: event.error.message, source });
        lastError = { error: event.error, outcome: event.outcome };
      }
      if (VERIFY_ACTION.test(actionTokens(event.name).join(' '))) {
        if (event.outcome === 'succeeded') {
          verified = true;
          const method = event.input?.method ?? event.result?.method;
          verification = { method: typeof method === 'string' ? method : event.name, source };
        } else if (!verified) verification = undefined;
      }
    } else if (event.type === 'identity') {
      if (event.result === 'verified') {
        verified = true;
        verification = { method: event.method, source };
        if (event.subject) subject = event.subject;
      } else if (event.result === 'failed' && !verified) verification = undefined;
    } else if (event.type === 'handoff.requested' && handoff === undefined) {
      handoff = { trigger: event.trigger, priority: event.priority, skills: event.skills, source };
      if (event.reason) handoff.reason = event.reason;
    }
  });

  const choice = chooseReason(scope);
  const reasonEvent = choice.source === null ? undefined : scope[choice.source];
  const reasonText =
    reasonEvent?.type === 'message' && choice.source !== null
      ? maskSecrets(reasonEvent.text, previousAsk(scope, choice.source))
      : (handoff?.reason ?? '');

  const sentiment = analyzeSentiment(scope);
  sentiment.evidence = sentiment.evidence.map((item) => ({
    ...item,
    // Evidence is about tone: numbers never matter there, and may be secrets the detector missed.
    text: maskSecrets(item.text, previousAsk(scope, item.source)).replace(/\d{3,}/g, '[number]'),
  }));

  const unknown = choice.rule.needs.filter((name) => !known.has(name));
  if (choice.rule.needsIdentity && !verified) unknown.push('identity');

  const name = options.customerName ?? known.get('full_name') ?? subject;
  const customer: Brief['customer'] = { verified };
  if (name) customer.name = name;
  if (verification) customer.verification = verification;

  const greeting = composeGreeting({
    ...(name ? { name } : {}),
    reason: choice.rule,
    facts: known,
    verified,
    steps,
    failed,
    errors,
    ...(lastError ? { lastError } : {}),
    unknown,
    frustrated: sentiment.label === 'frustrated',
  });

  const brief: Brief = {
    reason: { label: choice.rule.label, text: reasonText, source: choice.source },
    customer,
    facts,
    onFile,
    steps,
    failed,
    errors,
    sentiment,
    unknown,
    greeting,
    upTo,
  };
  if (handoff) brief.handoff = handoff;
  const history = staffHistory(events.slice(0, through));
  if (history.notes.length) brief.notes = history.notes;
  if (history.previousAgents.length) brief.previousAgents = history.previousAgents;
  return brief;
}

function toStep(event: Extract<EventBody, { type: 'action' }>, source: number): BriefStep {
  const step: BriefStep = {
    action: event.name,
    outcome: event.outcome,
    source,
    summary: stepSummary(event.name, event.outcome, event.error),
    actor: event.actor,
  };
  if (event.actorId) step.actorId = event.actorId;
  const details = resultDetails(event.result);
  if (details.length) step.details = details;
  return step;
}

/** Agent words the next person may read: secrets the detector finds are masked. */
function maskStaffText(text: string): string {
  let out = '';
  let at = 0;
  for (const span of [...findSecrets(text)].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    out += `${text.slice(at, span.start)}[${span.kind}]`;
    at = span.end;
  }
  return out + text.slice(at);
}

interface Tenure {
  agentId: string;
  name?: string;
  from: number;
  actions: BriefStep[];
  notes: BriefNote[];
  messages: number;
  lastMessage?: { text: string; source: number };
}

/**
 * Notes and the work of people who held the conversation and let go of it. An agent's time runs from
 * their accept to the transfer, hand-back or resolve that ends it; their actions and notes are the ones
 * they authored in between (by id, or by being the owner when the event names nobody).
 */
function staffHistory(events: readonly EventBody[]): { notes: BriefNote[]; previousAgents: BriefPreviousAgent[] } {
  const notes: BriefNote[] = [];
  const previousAgents: BriefPreviousAgent[] = [];
  const names = new Map<string, string>();
  let current: Tenure | undefined;
  const end = (source: number, ended: BriefPreviousAgent['ended']) => {
    if (!current) return;
    const { lastMessage, name, ...rest } = current;
    previousAgents.push({
      ...rest,
      ...(name ? { name } : {}),
      until: source,
      ended,
      ...(lastMessage ? { lastMessage } : {}),
    });
    current = undefined;
  };
  /** The tenure an event authored by `id` belongs to: the current owner's, when it is theirs. */
  const holder = (id: string | undefined): Tenure | undefined =>
    current && (id === undefined || id === current.agentId) ? current : undefined;
  events.forEach((event, source) => {
    switch (event.type) {
      case 'handoff.accepted': {
        if (event.agentName) names.set(event.agentId, event.agentName);
        const name = event.agentName ?? names.get(event.agentId);
        current = {
          agentId: event.agentId,
          ...(name ? { name } : {}),
          from: source,
          actions: [],
          notes: [],
          messages: 0,
        };
        break;
      }
      case 'note': {
        const authorName = event.authorName ?? (event.authorId ? names.get(event.authorId) : undefined);
        const note: BriefNote = {
          text: maskStaffText(event.text),
          kind: 'note',
          ...(event.authorId ? { authorId: event.authorId } : {}),
          ...(authorName ? { authorName } : {}),
          source,
        };
        notes.push(note);
        if (current && event.authorId === current.agentId) current.notes.push(note);
        break;
      }
      case 'message':
        if (event.author === 'agent') {
          const tenure = holder(event.authorId);
          if (tenure) {
            tenure.messages++;
            tenure.lastMessage = { text: maskStaffText(event.text), source };
          }
        }
        break;
      case 'action':
        if (event.actor === 'agent' && !isMarkerAction(event.name))
          holder(event.actorId)?.actions.push(toStep(event, source));
        break;
      case 'handoff.transferred':
      case 'handoff.returned': {
        const kind = event.type === 'handoff.transferred' ? 'transfer' : 'return';
        const authorId = event.fromAgentId ?? current?.agentId;
        if (event.note) {
          const authorName = authorId ? names.get(authorId) : undefined;
          const note: BriefNote = {
            text: maskStaffText(event.note),
            kind,
            ...(authorId ? { authorId } : {}),
            ...(authorName ? { authorName } : {}),
            source,
          };
          notes.push(note);
          if (current && authorId === current.agentId) current.notes.push(note);
        }
        end(source, kind === 'transfer' ? 'transferred' : 'returned');
        break;
      }
      case 'handoff.resolved':
        end(source, 'resolved');
        break;
      default:
        break;
    }
  });
  return { notes, previousAgents };
}

/** The brief as plain text, for the CLI and for logs. */
export function renderBrief(brief: Brief): string {
  const lines: string[] = [];
  lines.push(`Reason: ${brief.reason.label}${brief.reason.text ? ` ("${brief.reason.text}")` : ''}`);
  const who = brief.customer.name ?? 'unknown customer';
  const verified = brief.customer.verified
    ? `verified${brief.customer.verification ? ` by ${brief.customer.verification.method}` : ''}`
    : 'not verified';
  lines.push(`Customer: ${who}, ${verified}`);
  if (brief.handoff) {
    lines.push(
      `Handoff: ${brief.handoff.trigger}, ${brief.handoff.priority} priority${
        brief.handoff.skills.length ? `, skills ${brief.handoff.skills.join(', ')}` : ''
      }${brief.handoff.reason ? ` (${brief.handoff.reason})` : ''}`,
    );
  }
  if (brief.facts.length) {
    lines.push('Facts:');
    for (const fact of brief.facts) lines.push(`  ${fact.name}: ${fact.value} [event ${fact.source}, ${fact.via}]`);
  }
  if (brief.onFile.length) {
    lines.push('On file:');
    for (const fact of brief.onFile) lines.push(`  ${fact.name}: ${fact.value} [event ${fact.source}]`);
  }
  if (brief.steps.length) {
    lines.push('Steps:');
    for (const step of brief.steps) {
      lines.push(`  ${step.summary} [event ${step.source}]`);
      for (const detail of step.details ?? []) lines.push(`    ${detail}`);
    }
  }
  if (brief.errors.length) {
    lines.push('Errors:');
    for (const error of brief.errors) {
      lines.push(`  ${error.system} ${error.code}${error.message ? `: ${error.message}` : ''} [event ${error.source}]`);
    }
  }
  lines.push(
    `Sentiment: ${brief.sentiment.label} (score ${brief.sentiment.score}, frustration ${brief.sentiment.frustration}, ${brief.sentiment.trend})`,
  );
  if (brief.notes?.length) {
    lines.push('Notes:');
    for (const note of brief.notes) {
      lines.push(
        `  ${note.authorName ?? note.authorId ?? 'agent'} (${note.kind}): ${note.text} [event ${note.source}]`,
      );
    }
  }
  for (const agent of brief.previousAgents ?? []) {
    const did = agent.actions.map((step) => step.summary).join(' ');
    lines.push(
      `Before: ${agent.name ?? agent.agentId} (${agent.ended}), ${agent.messages} message${agent.messages === 1 ? '' : 's'}${
        did ? `; ${did}` : ''
      }`,
    );
  }
  if (brief.unknown.length) lines.push(`Still unknown: ${brief.unknown.map(factLabel).join(', ')}`);
  lines.push(`Suggested opening: ${brief.greeting}`);
  return lines.join('\n');
}
