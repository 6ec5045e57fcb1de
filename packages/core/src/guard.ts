import { z } from 'zod';
import { actionMatcher, actionWords, stem } from './action-phrases.ts';
import { type Brief, buildBrief, factLabel, isMarkerAction, isVerificationAction, nextStepFor } from './brief.ts';
import type { ActionOutcome, EventBody, SystemError } from './events.ts';
import { factsAskedFor } from './fact-questions.ts';
import { FactTracker, factTrackerAfter } from './facts.ts';
import { maskFact } from './mask-fact.ts';

/**
 * The continuity guard: reads an agent's draft against what the record already holds and flags what would
 * make the customer repeat themselves. Prepared once per conversation state, then run on every keystroke
 * in the browser, so the per-draft path is a few regular expressions over the draft's clauses and never
 * walks the event log.
 *
 * Decisions (labelled the same way in the dev sets):
 * - Confirming a known value by stating it ("I have your email as d***@example.com, is that still right?")
 *   is not a repeat ask: the customer answers yes/no instead of typing the value again.
 * - Asking for a different value of the same kind ("is there another email we should use?", "your work
 *   phone", "your spouse's email", "which email would you like the receipt sent to?") asks for something
 *   new and passes.
 * - Values on file in a back-office system count as known: the customer should not type them either.
 * - After a verified identity, asking who the customer is ("who am I speaking with?") is a repeat ask of
 *   `full_name`; asking to verify again is a repeat of the verification step (`repeat_action` when an
 *   action did it, `repeat_ask` of `identity` when an identity event did).
 * - A step whose outcome was `blocked` (a policy stopped the AI) is not a repeat when the agent proposes
 *   it: the human is the one allowed to do it. Succeeded and failed steps are repeats.
 */

const Span = z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() });

export const RepeatAskFinding = z.object({
  kind: z.literal('repeat_ask'),
  fact: z.string(),
  known: z.object({ value: z.string(), source: z.number().int().nonnegative().nullable() }),
  suggestion: z.string(),
  span: Span,
});
export const RepeatActionFinding = z.object({
  kind: z.literal('repeat_action'),
  action: z.string(),
  outcome: z.enum(['succeeded', 'failed', 'blocked']),
  source: z.number().int().nonnegative(),
  suggestion: z.string(),
  span: Span,
});
export const RestartPhraseFinding = z.object({
  kind: z.literal('restart_phrase'),
  phrase: z.string(),
  suggestion: z.string(),
  span: Span,
});
export const Finding = z.discriminatedUnion('kind', [RepeatAskFinding, RepeatActionFinding, RestartPhraseFinding]);
export type Finding = z.infer<typeof Finding>;
export type FindingKind = Finding['kind'];

export interface GuardOptions {
  /**
   * Whether the conversation has been handed off; "how can I help you today?" is only a restart phrase
   * after a handoff. Defaults to whether the events hold a handoff request.
   */
  handedOff?: boolean;
}

export type Guard = (draft: string) => Finding[];

interface KnownValue {
  name: string;
  value: string;
  source: number | null;
  onFile: boolean;
}

interface KnownStep {
  name: string;
  outcome: ActionOutcome;
  source: number;
  error?: SystemError;
  matcher: ReturnType<typeof actionMatcher>;
}

interface Clause {
  text: string;
  lower: string;
  start: number;
  question: boolean;
}

/** How a draft names each fact. `(?<!…)` keeps "email address" from also reading as a street address. */
const FACT_NOUNS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'email', pattern: /\be-?mail(?:\s+(?:address|id))?\b/g },
  {
    name: 'phone',
    pattern:
      /\b(?:(?:tele|cell |mobile |contact |home |callback )?phone(?:\s+(?:number|no\.?|#))?|cell(?:\s+(?:phone|number))|mobile(?:\s+number)|contact number|callback number|(?:best |a good )?number (?:to|where|we can|i can) (?:reach|call|contact|text) you(?: at| on)?|number (?:ending|on (?:file|the account)))\b/g,
  },
  {
    name: 'full_name',
    pattern:
      /\b(?:full name|first and last names?|(?:first|last|sur|legal) ?name|your name|name (?:that'?s |is |that is )?(?:on|for) (?:the|your) (?:account|card|file|order|reservation)|the name (?:on|for) (?:the|your) (?:account|order)|who (?:am i|i'?m|i am) (?:speaking|talking|chatting) (?:with|to)|whom? (?:do i have the pleasure|i'?m (?:speaking|talking) (?:with|to)))\b/g,
  },
  {
    name: 'account_id',
    pattern:
      /\b(?:(?:bank |checking |savings )?account (?:number|no\.?|#|id)|acct\.? ?(?:number|no\.?|#|id)?|account id)\b/g,
  },
  {
    name: 'order_id',
    pattern:
      /\b(?:order (?:number|no\.?|#|id|reference|ref|confirmation(?: number)?)|order ?id|confirmation number)\b/g,
  },
  { name: 'username', pattern: /\b(?:user ?name|user id|login (?:id|name)|screen name)\b/g },
  { name: 'zip_code', pattern: /\b(?:zip(?:\s?code)?|postal code|post ?code)\b/g },
  {
    name: 'street_address',
    pattern:
      /(?<!e-?mail |ip |web |mac |billing e-?mail )\b(?:(?:street|shipping|home|mailing|billing|delivery|physical|residential|full|postal) )?address\b(?! (?:this|that|the issue|the problem|it|your concern))/g,
  },
  {
    name: 'date_of_birth',
    pattern:
      /\b(?:date of birth|birth ?date|birthday|d\.?o\.?b\.?|when (?:were|was) you born|year (?:of birth|you were born))\b/g,
  },
  {
    name: 'card_last4',
    pattern:
      /\b(?:last (?:four|4)(?: digits)?(?: (?:of|on) (?:your|the) (?:debit |credit |bank )?card)?|(?:debit |credit )?card number)\b/g,
  },
  { name: 'member_id', pattern: /\b(?:member(?:ship)? (?:number|id|no\.?|#)|member id)\b/g },
  {
    name: 'amount',
    pattern:
      /\b(?:(?:exact |total |charge |transaction |refund )?amount|how much (?:was|were|did|is|you were|they) (?:charged|taken|withdrawn|debited|the charge|it))\b/g,
  },
];

const FACT_NAME_PHRASES =
  /\b(?:account|acct|order|member(?:ship)?|card|phone|confirmation|reference|tracking) (?:id|number|no\.?|#)\b|\be-?mail address\b|\buser ?name\b/g;

/** A clause has the form of a request for information. */
const ASK_FORM =
  /\b(?:please|pls|kindly)\b|^\s*(?:(?:and|also|now|ok(?:ay)?|so|first|great|thanks|then|lastly|finally),?\s+)*(?:confirm|provide|give|tell|share|send|verify|type|enter|spell|repeat|state|write|reply|input|let me know)\b|\b(?:i|we)(?:'ll| will| would|'d)?(?: just| also| still| first)? (?:need|require)\b|\b(?:i'?m|we'?re|i am|we are) going to need\b|\blet me (?:get|have|grab|take|confirm|verify|collect|ask for)\b|\bi(?:'d| would) (?:like|love) (?:to (?:get|have|confirm|verify|collect|take) )?(?:your|the)\b|\b(?:mind|care to) (?:sharing|giving|confirming|providing|telling|sending)\b|\bcould i trouble you\b|\bgo ahead and (?:provide|send|share|give|type|enter|confirm)\b/;

/** Words that, nearest before a fact noun, make the clause ask for the value. */
const ASK_CUE =
  /\b(?:re-?(?:send|enter|type|confirm|share|state)|getting|having|grab(?:bing)?|start with|begin with|confirm|provide|give|tell|share|verify|type|enter|spell|repeat|state|send (?:me|us|over|in)|let me know|what(?:'s| is| was| were|s)?|which|may i (?:have|get|ask|take)|can i (?:have|get|ask|grab|take)|could i (?:have|get|ask|grab|take)|need|require|have|get|grab|know|remind me|reply with|write|input|is|are|trouble you for)\b/g;

/** Verbs that, nearest before a fact noun, make the clause about something else than giving the value. */
const NON_ASK_CUE =
  /\b(?:check(?:ing|ed|s)?|open(?:ing|ed|s)?|look(?:ing)? (?:at|in)|access(?:ing|ed)?|log(?:ging)? (?:in|into|on)|sign(?:ing)? (?:in|into)|updat(?:e|es|ed|ing)|chang(?:e|es|ed|ing)|edit(?:s|ed|ing)?|reset(?:ting|s)?|receive[ds]?|receiving|sent|send (?:it|a|the|you|an)|go to|click|use|using|used|unsubscribe|see|saw|reach|contact|call|text|notify|forward|delete|remove|recogni[sz]e|search|find|to|via|through|on file|registered|linked|associated|into)\b/g;

/** Modifiers that make the question about a different value than the one on record. */
const OTHER_VALUE_BEFORE =
  /\b(?:another|different|other|alternate|alternative|secondary|second|backup|back-up|additional|extra|work|business|personal|old|previous|former|preferred|spouse'?s|wife'?s|husband'?s|partner'?s|son'?s|daughter'?s|mother'?s|father'?s|parent'?s|child'?s|friend'?s|employer'?s|company'?s|(?:the )?(?:account )?holder'?s|recipient'?s|his|her|their|its|recipient|shipping address'?s?)\s+(?:\w+\s+){0,2}$/;
const NEW_VALUE_BEFORE = /\b(?:new|updated|correct|corrected|current|latest)\s+(?:\w+\s+){0,2}$/;
const OTHER_VALUE_AFTER =
  /^\W*(?:\w+\s+){0,3}?(?:of (?:the|your|his|her|their) (?:spouse|wife|husband|partner|child|son|daughter|parent|mother|father|friend|recipient|employer|company|account holder|other|second|joint)|for (?:the|your) (?:spouse|wife|husband|partner|child|son|daughter|recipient|gift|other|second|joint|new)|(?:you'?d|you would|you want(?: us)?|would you) (?:like|prefer|want) (?:us )?to (?:use|have|send|ship)|(?:you'?d|you would) prefer|to use instead|instead\b|going forward|from now on)/;

const OTHER_VALUE_ANYWHERE =
  /\b(?:another|different|other|alternate|alternative|secondary|backup|back-up|additional|extra|new|updated|work|business|personal|old|previous|former|(?!your\b)\w+'s|spouse|wife|husband|partner|recipient|employer|instead)\b/;

const PREFERENCE =
  /\b(?:would you (?:like|prefer)|do you (?:want|prefer)|you'?d (?:like|prefer)|should (?:we|i) use)\b/;

const IDENTITY_ASK =
  /\b(?:(?:verify|confirm|authenticate|validate|prove) (?:your |the )?(?:identity|account ownership|who you are)|verify you\b|authenticate you\b|security (?:questions?|answers?|check)|(?:answer|go through) (?:a few|some|the) (?:security |verification )?questions|verification (?:questions?|process|steps?))/;

const QUESTION_OPENER =
  /^\s*(?:(?:and|also|so|but|ok|okay|great|thanks|thank you|sure|alright|all right|right|perfect|now|next|first|then|lastly|finally|well|hi|hello|sorry)\b,?\s*)*(?:can|could|would|will|may|might|shall|what|what's|which|who|whom|where|when|how|do|does|did|is|are|was|were|have|has|had)\b/;

const ASK_ABOUT_STEP =
  /^\s*(?:and |also |so |but |ok(?:ay)?,? |just to check,? )*(?:have|has|had|did|do|does|were|was|is|are) (?:you|they|we|it|your|the)\b/;
const PAST_REFERENCE = /\b(?:since|after|now that|once|because|as|when) (?:we|you|i|they|the ai|our \w+|it|that)\b/;
const REPORT =
  /\b(?:already|has been|have been|had been|was|were|we'?ve|you'?ve|i'?ve|they'?ve|we have|you have|i have|they have|earlier|previously|didn'?t|did not|doesn'?t|does not|i (?:can )?see|i noticed|i understand|looks like|it seems|according to|the ai|our (?:ai|assistant|bot)|successfully|done|completed|went through|worked)\b/;
const PROPOSAL =
  /\b(?:while (?:i|we)|(?:i'?m|i am|we'?re|we are) (?:now |just |going to )?\w+ing|(?:i|we)(?: just| still| first| also| now)? (?:have to|must|got to|gotta|am required to|are required to)|let me|let'?s|let us|i(?:'ll| will| can| could| am going to|'m going to|'d like to| want to| need to| should| would like to| may| might)|we(?:'ll| will| can| could| should| need to|'re going to| are going to| may| might)|(?:can|could|would|will) you|you (?:should|could|can|might|may|need to|have to|'ll need to|will need to|want to|'ll want to)|please|try|trying|how about|what about|maybe|perhaps|i (?:suggest|recommend)|i'?d (?:suggest|recommend)|first|next|go ahead and|make sure (?:to|you)|the (?:next|first|best) step)\b/;
const IMPERATIVE_START = /^\s*(?:(?:ok(?:ay)?|so|first|now|then|just|please|alright),?\s+)*(\w+)/;

/** Restart phrases: generic openings that ignore the work already done. */
const RESTART_PHRASES: ReadonlyArray<{ pattern: RegExp; afterHandoffOnly?: boolean }> = [
  {
    pattern:
      /\b(?:let me|let'?s|i'?ll|i will|i'd like to|i need to|we'?ll|we need to) (?:start|begin) (?:by|with|from|off by|over|again|fresh)\b[^.?!]*/,
  },
  { pattern: /\b(?:start|begin|go) (?:over|again) from (?:the )?(?:beginning|top|start|scratch)\b/ },
  { pattern: /\b(?:start(?:ing)?|begin(?:ning)?) (?:over|from scratch|from the (?:beginning|top|start))\b/ },
  {
    pattern:
      /\b(?:get|gather|collect|grab|take|ask you for|need) (?:some|a (?:few|bit of|little)|a couple of|your|the) (?:basic |some |more |general |initial )?(?:information|info|details)(?: from you)?(?: first| to start| to begin)?\b(?! to (?:verify|confirm|pull|look|locate|find|validate|process|update|check))/,
  },
  {
    pattern:
      /\b(?:(?:can|could|would) you (?:please )?(?:tell|walk|take) me (?:through )?|tell me |walk me through |let me know )?what (?:you(?:'ve| have)?|have you|did you|steps (?:you(?:'ve| have)|have you)) (?:already )?(?:tried|done|attempted|taken)(?: so far| already)?\b/,
  },
  {
    pattern:
      /\bwhat (?:steps|troubleshooting) (?:have you|did you|you(?:'ve| have)) (?:already )?(?:taken|tried|done)\b/,
  },
  {
    pattern:
      /\b(?:i (?:can )?see|i notice|i understand|it looks like|looks like) (?:that )?you (?:were|have been|'ve been|had been) (?:chatting|talking|speaking|messaging|working) (?:with|to) (?:our|the|a|an) (?:ai|bot|chat ?bot|virtual (?:assistant|agent)|assistant|automated (?:assistant|system))\b/,
  },
  {
    pattern:
      /\byou (?:were|have been|'ve been) (?:chatting|talking|speaking) (?:with|to) (?:our|the|a|an) (?:ai|bot|chat ?bot|virtual (?:assistant|agent)|automated (?:assistant|system))\b/,
  },
  {
    pattern:
      /\b(?:how (?:can|may|might|could) i (?:help|assist)(?: you)?(?: today| this (?:morning|afternoon|evening))?|what can i (?:do for you|help (?:you )?with)(?: today)?|how (?:can|may|might|could) i be of (?:help|assistance|service)|what (?:can|may) i assist (?:you )?with|what brings you (?:here|in|to us)(?: today)?|what are you (?:contacting|calling|reaching out to|writing to|chatting with) (?:us )?(?:about|for)(?: today)?|what do you need help with(?: today)?|how can we help(?: you)?(?: today)?|what can we do for you)\b/,
    afterHandoffOnly: true,
  },
  {
    pattern:
      /\b(?:can|could|would) you (?:please |briefly |quickly |just |kindly |first )*(?:describe|explain|tell me(?: about)?|walk me through|summari[sz]e|go over|repeat|remind me(?: of| about)?) (?:(?:the|your|what(?:'s| is| was)?(?: the| your)?) ?)(?:problem|issue|situation|trouble|question|request|concern|going on|happening|happened|wrong)\b/,
  },
  {
    pattern:
      /\bwhat (?:seems to be|is|was|'s) (?:the|your) (?:problem|issue|trouble|concern|question)(?: (?:today|you'?re having|you are having))?\s*(?:[?.!]|$)/,
  },
  { pattern: /\bwhat(?:'s| is) (?:going on|happening|wrong)(?: (?:today|here|exactly))?\s*(?:[?.!]|$)/ },
  {
    pattern:
      /\b(?:tell|remind) me (?:a bit |a little |more )?(?:about|what) (?:the|your|is|was) ?(?:problem|issue|situation|going on|happening|wrong|trouble)\b/,
  },
  {
    pattern:
      /\b(?:explain|describe|go over|repeat|recap) (?:the (?:problem|issue|situation) |everything |what happened |your (?:problem|issue) )(?:again |from the (?:beginning|start|top) )?/,
  },
  { pattern: /\bfrom the (?:very )?(?:beginning|top|start)\b/ },
  { pattern: /\bwhat (?:you were|you'?re|you are) (?:trying|hoping|wanting) to (?:do|get done|achieve)\b/ },
];

function normalise(text: string): string {
  return text.replace(/[’‘]/g, "'").replace(/[“”]/g, '"').toLowerCase();
}

/** Normalises multi-word synonyms to one token before stemming: "log in" → login, "look up" → lookup. */
function canonicalTokens(lower: string): { stems: string[]; nouns: boolean[]; words: string[] } {
  const replaced = lower
    .replace(/\b(?:log(?:ging|ged)?|sign(?:ing|ed)?) (?:in|on)(?:to)?\b/g, ' login ')
    .replace(/\b(?:look(?:ing|ed)?|pull(?:ing|ed)?) (?:up|into)\b/g, ' lookup ')
    .replace(/\bturn(?:ing|ed)? (?:it|them|the \w+|your \w+)? ?off and (?:back )?on\b/g, ' restart ')
    .replace(/\bclos(?:e|ing) and re-?open(?:ing)?\b/g, ' restart ')
    .replace(/\bre-(\w)/g, 're$1')
    .replace(/\b(?:two|2)[- ]?(?:step|factor)\b|\b2fa\b|\bmulti[- ]factor\b/g, ' mfa ')
    .replace(/\be-mail\b/g, 'email')
    .replace(/\bpass word\b/g, 'password');
  const words = replaced.split(/[^a-z0-9']+/).filter(Boolean);
  // After a determiner a word is a thing, not a deed: "another email", "the reset", "a text".
  const nouns = words.map((_, i) => DETERMINERS.has(words[i - 1] ?? ''));
  return { stems: words.map(stem), nouns, words };
}

const DETERMINERS = new Set([
  'a',
  'an',
  'the',
  'another',
  'your',
  'my',
  'our',
  'this',
  'that',
  'same',
  'new',
  'different',
  'other',
  'any',
  'each',
  'every',
  'its',
  'their',
  'his',
  'her',
]);

/** A full stop inside "dana.reyes@example.com" or "3.5" does not end a sentence. */
const SENTENCE = /(?:[^.!?\n]|[.!?]+(?![\s.!?]|$))+(?:[.!?]+|\n|$)/g;
/** Clauses split on "; ", ", but", ", so" and a comma that opens a new question or proposal. */
const CLAUSE_CUT =
  /;\s*|,\s*(?=(?:but|so|and then|then|though|however|because|since|have you|did you|can you|could you|would you|let me|let's|please|try|what|is|are|do you)\b)|\s+but\s+/gi;

function splitClauses(draft: string): Clause[] {
  const clauses: Clause[] = [];
  for (const sentence of allMatches(SENTENCE, draft)) {
    const text = sentence[0];
    if (!text.trim()) continue;
    const base = sentence.index ?? 0;
    const question = /\?\s*$/.test(text);
    let at = 0;
    const parts: Array<{ start: number; end: number }> = [];
    for (const match of allMatches(CLAUSE_CUT, text)) {
      const index = match.index ?? 0;
      parts.push({ start: at, end: index });
      at = index + match[0].length;
    }
    parts.push({ start: at, end: text.length });
    parts.forEach((part, i) => {
      const clauseText = text.slice(part.start, part.end);
      if (!clauseText.trim()) return;
      const lower = normalise(clauseText);
      // "could I get your name, please?": a short tail after the last cut still belongs to the question.
      const rest = parts
        .slice(i + 1)
        .map((later) => text.slice(later.start, later.end))
        .join(' ');
      const tail = rest.trim().split(/\s+/).filter(Boolean).length <= 2;
      clauses.push({
        text: clauseText,
        lower,
        start: base + part.start,
        question: question && (i === parts.length - 1 || tail || QUESTION_OPENER.test(lower)),
      });
    });
  }
  return clauses;
}

/**
 * Every match of a global pattern. `String.prototype.matchAll` clones the pattern on each call, which
 * costs more than the match itself on short drafts: the guard runs on every keystroke, so it reuses it.
 */
function allMatches(pattern: RegExp, text: string): RegExpExecArray[] {
  const matches: RegExpExecArray[] = [];
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    matches.push(match);
    if (match[0].length === 0) pattern.lastIndex++;
  }
  return matches;
}

function lastIndexOf(pattern: RegExp, text: string): number {
  let last = -1;
  for (const match of allMatches(pattern, text)) last = match.index + match[0].length;
  return last;
}

function digits(value: string): string {
  return value.replace(/\D/g, '');
}

/** The clause states a value for the fact, so it confirms rather than asks. */
function statesValue(clause: string, name: string, known: KnownValue | undefined): boolean {
  if (/\*{2,}|•{2,}|x{3,}/i.test(clause)) return true;
  if (known) {
    const value = known.value.toLowerCase();
    if (value.length >= 2 && clause.includes(value)) return true;
    const d = digits(value);
    if (d.length >= 4 && digits(clause).includes(d.slice(-4))) return true;
    // "Is 12 Elm St still right?" states most of "12 Elm St, Springfield, IL 62704".
    const parts = value.split(/[^\p{L}\p{N}]+/u).filter((part) => part.length >= 2);
    if (parts.length >= 3) {
      const words = new Set(clause.split(/[^\p{L}\p{N}]+/u));
      if (parts.filter((part) => words.has(part)).length >= Math.min(3, parts.length)) return true;
    }
    if (name === 'full_name') {
      const parts = value.split(/\s+/).filter((part) => part.length >= 2);
      if (parts.some((part) => new RegExp(`\\b${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(clause))) {
        return true;
      }
    }
  }
  switch (name) {
    case 'email':
      return /\S+@\S+\.\w+/.test(clause);
    case 'phone':
    case 'account_id':
    case 'member_id':
    case 'card_last4':
    case 'zip_code':
      return /\d{4,}|\d{3}[-. )]\d{3}/.test(clause);
    case 'order_id':
      return /\b(?=[a-z-]*\d)[a-z0-9-]{5,}\b/.test(clause);
    case 'date_of_birth':
      return /\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b(?:19|20)\d{2}\b/.test(clause);
    case 'amount':
      return /[$€£]\s?\d|\d+\.\d{2}\b/.test(clause);
    case 'street_address':
      return /\b\d+ [a-z]+ (?:st|street|ave|avenue|rd|road|dr|drive|ln|lane|blvd|way|ct|court|pl|place)\b/.test(clause);
    default:
      return false;
  }
}

interface AskedFact {
  name: string;
  start: number;
  end: number;
}

/** Which facts a clause asks the customer to give. */
function askedFacts(clause: Clause, known: ReadonlyMap<string, KnownValue>): AskedFact[] {
  const lower = clause.lower;
  const askForm = clause.question || ASK_FORM.test(lower);
  if (!askForm) return [];
  if (PREFERENCE.test(lower)) return [];
  const asked: AskedFact[] = [];
  const seen = new Set<string>();
  const mentioned = new Set<string>();
  for (const { name, pattern } of FACT_NOUNS) {
    for (const match of allMatches(pattern, lower)) {
      mentioned.add(name);
      const index = match.index;
      const before = lower.slice(0, index);
      const after = lower.slice(index + match[0].length);
      if (OTHER_VALUE_BEFORE.test(before) || OTHER_VALUE_AFTER.test(after)) continue;
      // "the new address" is new against what is on file; when the customer typed it here, it is theirs.
      const knownValue = known.get(name);
      if (NEW_VALUE_BEFORE.test(before) && (!knownValue || knownValue.onFile)) continue;
      // "the email" / "that email" is usually the message we sent, not the address.
      if (name === 'email' && /\b(?:the|that|this|an|our|my|a) $/.test(before) && !/address/.test(match[0])) {
        if (
          !/^\s*(?:address|on (?:file|the account|your account|record)|(?:that |which )?(?:is |was )?(?:tied|linked|attached|connected|associated|registered)|for (?:the|your) account|(?:you )?(?:use|used|gave|have|registered|signed up))/.test(
            after,
          )
        ) {
          continue;
        }
      }
      const ask = lastIndexOf(ASK_CUE, before);
      const other = lastIndexOf(NON_ASK_CUE, before);
      const fragment = before.trim().split(/\s+/).length <= 3; // "and your email?", "Email please."
      if (other > ask) continue;
      if (ask < 0 && !fragment && !clause.question && !ASK_FORM.test(lower)) continue;
      if (statesValue(lower, name, known.get(name))) continue;
      if (!seen.has(name)) {
        seen.add(name);
        asked.push({ name, start: clause.start + index, end: clause.start + index + match[0].length });
      }
    }
  }
  // The fact extractor's own question reader knows more ways to name a fact; it only adds names here,
  // under stricter checks than above since it gives no position: no other party, no other value, no verb
  // that is about something else than giving the value.
  if (OTHER_VALUE_ANYWHERE.test(lower)) return asked;
  for (const name of factsAskedFor(clause.text)) {
    if (seen.has(name) || name === 'full_name' || !known.has(name)) continue;
    // A name our own reading saw and let pass stays passed ("did you get the email?").
    if (mentioned.has(name)) continue;
    if (lastIndexOf(NON_ASK_CUE, lower) > lastIndexOf(ASK_CUE, lower)) continue;
    if (statesValue(lower, name, known.get(name))) continue;
    seen.add(name);
    asked.push({ name, start: clause.start, end: clause.start + clause.text.length });
  }
  return asked;
}

const PAST_FORM = /^(?:\w+ed|found|sent|resent|got|gotten|made|took|ran|did|done|reset|paid|froze|frozen)$/;

function proposesStep(clause: Clause, verbAt: number, verbWord: string): boolean {
  const lower = clause.lower;
  const before = lower.slice(0, Math.max(verbAt, 0));
  if (PAST_REFERENCE.test(before)) return false;
  if (clause.question && ASK_ABOUT_STEP.test(lower)) return true;
  // "I found your account", "we verified it": a report, unless "have/has/had" makes it a question above.
  if (PAST_FORM.test(verbWord) && verbWord !== 'reset') return false;
  if (REPORT.test(lower)) return false;
  if (PROPOSAL.test(lower)) return true;
  const first = IMPERATIVE_START.exec(lower)?.[1];
  return first !== undefined && before.trim().split(/\s+/).length <= 3 && /^[a-z]+$/.test(first);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function summaryOf(brief: Brief): string {
  const withoutHello = brief.greeting.replace(/^Hi [^,]*,\s*/, '');
  return capitalise(withoutHello);
}

interface GuardContext {
  known: ReadonlyMap<string, KnownValue>;
  steps: readonly KnownStep[];
  lastError?: { system: string; code: string; message: string; source: number };
  verified: boolean;
  verificationSource: number | null;
  handedOff: boolean;
  /** The brief's summary of the work done (its opening line without the hello); built only when needed. */
  summary: () => string;
}

function knownStep(name: string, outcome: ActionOutcome, source: number, error?: SystemError): KnownStep {
  const entry: KnownStep = { name, outcome, source, matcher: actionMatcher(name) };
  if (error) entry.error = { system: error.system, code: error.code, message: error.message };
  return entry;
}

/** Prepares the guard from a brief of everything before the draft. */
export function prepareGuardFromBrief(brief: Brief, options: GuardOptions = {}): Guard {
  const known = new Map<string, KnownValue>();
  for (const fact of brief.onFile) known.set(fact.name, { ...fact, onFile: true });
  for (const fact of brief.facts) known.set(fact.name, { ...fact, onFile: false });
  const steps = new Map<string, KnownStep>();
  for (const step of brief.steps) {
    const error = brief.errors.find((item) => item.source === step.source);
    steps.set(step.action, knownStep(step.action, step.outcome, step.source, error));
  }
  const lastError = brief.errors[brief.errors.length - 1];
  return guardFromContext({
    known,
    steps: [...steps.values()],
    ...(lastError ? { lastError } : {}),
    verified: brief.customer.verified,
    verificationSource: brief.customer.verification?.source ?? null,
    handedOff: options.handedOff ?? brief.handoff !== undefined,
    summary: () => summaryOf(brief),
  });
}

function guardFromContext(context: GuardContext): Guard {
  const { known, lastError, handedOff } = context;
  // A blocked step is the human's to do: proposing it is not a repeat.
  const stepList = context.steps.filter((step) => step.outcome !== 'blocked' && step.matcher.verbs.size > 0);
  const verifyStep = stepList.find((step) => /verif|authent|identity/.test(step.name) && step.outcome === 'succeeded');

  const askSuggestion = (name: string, value: KnownValue): string => {
    if (name === 'identity') return "You've already verified your identity, so we can skip that step.";
    const masked = maskFact(name, value.value);
    if (value.onFile) {
      return `I can see your ${factLabel(name)} on file (${masked}), so there's no need to give it again.`;
    }
    return `I already have your ${factLabel(name)} (${masked}) from earlier, so no need to type it again.`;
  };

  const actionSuggestion = (step: KnownStep): string => {
    const words = actionWords(step.name);
    if (step.outcome === 'failed') {
      const code = step.error ? ` (${step.error.code})` : '';
      const next = step.error ? nextStepFor(step.error) : 'Let me try a different way.';
      return `I can see ${words.gerund} was already tried and didn't work${code}, so let's not repeat it. ${next}`;
    }
    if (lastError && lastError.source > step.source) {
      return `I can see we've already ${words.past}, but that didn't solve it (${lastError.code}). ${nextStepFor(lastError)}`;
    }
    return `I can see we've already ${words.past}, so there's no need to do that again. ${context.summary()}`;
  };

  return (draft: string): Finding[] => {
    const findings: Finding[] = [];
    const seen = new Set<string>();
    const lowerDraft = normalise(draft);
    const clauses = splitClauses(draft);

    for (const clause of clauses) {
      // A fact's name ("account ID", "order number") is not the object of a step.
      const { stems: tokens, nouns, words } = canonicalTokens(clause.lower.replace(FACT_NAME_PHRASES, ' factname '));
      let flaggedVerify = false;
      const matches: Array<{ step: KnownStep; used: Set<number>; verbAt: number; score: number }> = [];
      for (const step of stepList) {
        const { verbs, objects } = step.matcher;
        for (let verbAt = 0; verbAt < tokens.length; verbAt++) {
          if (!verbs.has(tokens[verbAt] ?? '') || nouns[verbAt]) continue;
          // The object must be another word than the verb: "email" is both a verb and a thing.
          const objectAt = objects.size === 0 ? -1 : tokens.findIndex((token, i) => i !== verbAt && objects.has(token));
          if (objects.size > 0 && objectAt < 0) continue;
          const used = new Set<number>([verbAt]);
          tokens.forEach((token, i) => {
            if (i !== verbAt && objects.has(token)) used.add(i);
          });
          // More words explained first, then words that are the action's own rather than synonyms.
          const own = [...used].filter((index) => step.matcher.own.has(tokens[index] ?? '')).length;
          matches.push({ step, used, verbAt, score: used.size * 10 + own });
          break;
        }
      }
      // Two actions read from the same words ("send a new password reset link"): the one that explains
      // more of them is meant.
      const kept = matches.filter(
        (match) =>
          !matches.some(
            (other) =>
              other !== match && other.score > match.score && [...match.used].some((index) => other.used.has(index)),
          ),
      );
      for (const { step, verbAt } of kept) {
        // Rough character offset of the verb, to know what comes before it.
        const verbWord = words[verbAt] ?? '';
        const charAt = verbWord ? clause.lower.indexOf(verbWord) : 0;
        if (!proposesStep(clause, charAt, verbWord)) continue;
        const key = `repeat_action:${step.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (step === verifyStep) flaggedVerify = true;
        findings.push({
          kind: 'repeat_action',
          action: step.name,
          outcome: step.outcome,
          source: step.source,
          suggestion: actionSuggestion(step),
          span: { start: clause.start, end: clause.start + clause.text.length },
        });
      }

      for (const asked of askedFacts(clause, known)) {
        let value = known.get(asked.name);
        if (!value && asked.name === 'full_name' && context.verified) {
          value = { name: 'identity', value: 'verified', source: context.verificationSource, onFile: false };
        }
        if (!value) continue;
        const key = `repeat_ask:${asked.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        findings.push({
          kind: 'repeat_ask',
          fact: asked.name,
          known: {
            value: value.name === 'identity' ? 'verified' : maskFact(asked.name, value.value),
            source: value.source,
          },
          suggestion: askSuggestion(value.name === 'identity' ? 'identity' : asked.name, value),
          span: { start: asked.start, end: asked.end },
        });
      }

      const askedInClause = findings.some(
        (finding) => finding.kind === 'repeat_ask' && finding.span.start >= clause.start,
      );
      if (context.verified && !flaggedVerify && IDENTITY_ASK.test(clause.lower)) {
        const asks = clause.question || ASK_FORM.test(clause.lower) || PROPOSAL.test(clause.lower);
        if (asks && !REPORT.test(clause.lower)) {
          if (verifyStep) {
            const key = `repeat_action:${verifyStep.name}`;
            if (!seen.has(key)) {
              seen.add(key);
              findings.push({
                kind: 'repeat_action',
                action: verifyStep.name,
                outcome: verifyStep.outcome,
                source: verifyStep.source,
                suggestion: "You've already verified your identity, so we can skip that step.",
                span: { start: clause.start, end: clause.start + clause.text.length },
              });
            }
          } else if (!seen.has('repeat_ask:identity') && !askedInClause) {
            // Asking for the date of birth "to verify your identity" is one repeat, not two.
            seen.add('repeat_ask:identity');
            findings.push({
              kind: 'repeat_ask',
              fact: 'identity',
              known: { value: 'verified', source: context.verificationSource },
              suggestion: "You've already verified your identity, so we can skip that step.",
              span: { start: clause.start, end: clause.start + clause.text.length },
            });
          }
        }
      }
    }

    for (const { pattern, afterHandoffOnly } of RESTART_PHRASES) {
      if (afterHandoffOnly && !handedOff) continue;
      const match = pattern.exec(lowerDraft);
      if (!match) continue;
      if (seen.has('restart_phrase')) break;
      seen.add('restart_phrase');
      const start = match.index;
      findings.push({
        kind: 'restart_phrase',
        phrase: draft.slice(start, start + match[0].length).trim(),
        suggestion: context.summary(),
        span: { start, end: start + match[0].length },
      });
    }
    return findings;
  };
}

/**
 * The guard's view of one conversation, kept up to date one event at a time: the console pushes each new
 * event and calls `prepare()` only when the agent types, and `baton eval` replays a transcript in one pass
 * instead of rebuilding the state for every agent message.
 */
export class ContinuityGuard {
  private readonly events: EventBody[] = [];
  private tracker = new FactTracker();
  private readonly steps = new Map<string, KnownStep>();
  private lastError: GuardContext['lastError'];
  private verified = false;
  private verificationSource: number | null = null;
  private handedOff = false;
  private prepared: Guard | undefined;
  private readonly options: GuardOptions;

  constructor(options: GuardOptions = {}) {
    this.options = options;
  }

  get size(): number {
    return this.events.length;
  }

  push(event: EventBody): void {
    this.tracker.push(event);
    this.pushStep(event);
  }

  /**
   * Pushes a whole log into a fresh guard. Its facts come from the replay `extractFacts` keeps, so preparing
   * the guard right after building the brief of the same log (or of a shorter one) does not read it again.
   */
  pushAll(events: readonly EventBody[]): void {
    if (this.events.length > 0) {
      for (const event of events) this.push(event);
      return;
    }
    this.tracker = factTrackerAfter(events);
    for (const event of events) this.pushStep(event);
  }

  private pushStep(event: EventBody): void {
    const index = this.events.length;
    this.events.push(event);
    switch (event.type) {
      case 'message':
        // An agent message changes neither facts nor steps the guard reads: keep the prepared guard.
        if (event.author === 'agent') return;
        break;
      case 'action':
        if (!isMarkerAction(event.name)) {
          this.steps.delete(event.name);
          this.steps.set(event.name, knownStep(event.name, event.outcome, index, event.error));
          if (event.error) this.lastError = { ...event.error, source: index };
          if (event.outcome === 'succeeded' && isVerificationAction(event.name)) {
            this.verified = true;
            this.verificationSource = index;
          }
        }
        break;
      case 'identity':
        if (event.result === 'verified') {
          this.verified = true;
          this.verificationSource = index;
        }
        break;
      case 'handoff.requested':
        this.handedOff = true;
        break;
      default:
        break;
    }
    this.prepared = undefined;
  }

  prepare(): Guard {
    if (this.prepared) return this.prepared;
    const known = new Map<string, KnownValue>();
    for (const fact of this.tracker.factsOnFile()) known.set(fact.name, { ...fact, onFile: true });
    for (const fact of this.tracker.facts()) known.set(fact.name, { ...fact, onFile: false });
    // The log only grows: remember its length now and copy it only if a suggestion needs the summary.
    const events = this.events;
    const length = events.length;
    let summary: string | undefined;
    this.prepared = guardFromContext({
      known,
      steps: [...this.steps.values()],
      ...(this.lastError ? { lastError: this.lastError } : {}),
      verified: this.verified,
      verificationSource: this.verificationSource,
      handedOff: this.options.handedOff ?? this.handedOff,
      summary: () => {
        summary ??= summaryOf(buildBrief(events.slice(0, length), { upTo: length }));
        return summary;
      },
    });
    return this.prepared;
  }

  check(draft: string): Finding[] {
    return this.prepare()(draft);
  }
}

/** Prepares the guard for a conversation: the slow part (facts, steps) runs once here. */
export function prepareGuard(events: readonly EventBody[], options: GuardOptions = {}): Guard {
  const guard = new ContinuityGuard(options);
  guard.pushAll(events);
  return guard.prepare();
}

/** Findings for one draft, judged on `events` (everything before it). */
export function checkDraft(events: readonly EventBody[], draft: string, options: GuardOptions = {}): Finding[] {
  return prepareGuard(events, options)(draft);
}
