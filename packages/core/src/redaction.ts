import type { Redaction } from './events.ts';
import { factsAskedFor, type SecretKind, secretsAskedFor } from './fact-questions.ts';
import { digitsOf, luhnValid } from './fact-values.ts';

/**
 * Secrets are values that prove identity (PINs, passwords, one-time codes, security answers, full card
 * numbers, SSNs, CVVs). They are found before any fact is extracted, never become facts, and are replaced
 * by a marker before a message is stored when the caller redacts.
 */

export interface SecretSpan {
  kind: SecretKind;
  start: number;
  end: number;
}

export interface QuestionContext {
  /** The last ai/agent/bot message before this one: it tells what a bare answer is. */
  previousQuestion?: string;
}

/** Another fact's cue between a secret's cue and a number means the number belongs to that fact. */
const OTHER_FACT_CUE =
  /\b(?:acc(?:oun|cou|ou)?n?t|acct|zip|postal|phone|cell|mobile|order|member|card|ending|last (?:4|four)|dob|birth|born|ssn|social)\b/i;

/** What does not follow "my password is" when someone discloses one. */
const NOT_A_PASSWORD = new Set(
  `not wrong incorrect expired correct working the too invalid still being reset locked changed no isnt isn't doesnt
  doesn't wont won't cant can't a an my your case-sensitive saved stored forgotten lost same different right long short
  weak strong rejected blocked fine ok okay compromised stolen hacked there here that this it in on for being`
    .split(/\s+/)
    .filter(Boolean),
);

const REFUSAL =
  /^(?:i )?(?:forgot|forget|don'?t (?:know|remember|have)|do not (?:know|remember|have)|can'?t remember|cannot remember|not sure|no idea|idk|why|what|huh|no|nope|yes|yeah|yep|sure|ok|okay|one (?:moment|sec(?:ond)?)|hold on|wait|hang on|i'?m not sure|not (?:right )?now|sorry)\b/i;

const SENTENCE_END = /[.!?\n;]/;

function clauseAfter(text: string, from: number, max: number): string {
  const window = text.slice(from, from + max);
  const end = window.search(SENTENCE_END);
  return end >= 0 ? window.slice(0, end) : window;
}

function digitRuns(text: string, offset: number, min: number, max: number): Array<{ start: number; end: number }> {
  const runs: Array<{ start: number; end: number }> = [];
  const re = /(?<![\p{L}\d.,/$:_-])\d+(?![\p{L}\d/:_]|[.,]\d)/gu;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length >= min && m[0].length <= max) {
      runs.push({ start: offset + m.index, end: offset + m.index + m[0].length });
    }
  }
  return runs;
}

/** Digits right after a secret's cue, up to the end of the clause or another fact's cue. */
function numbersAfterCue(
  text: string,
  cue: RegExp,
  kind: SecretKind,
  min: number,
  max: number,
  spans: SecretSpan[],
): void {
  for (const m of text.matchAll(cue)) {
    const from = (m.index ?? 0) + m[0].length;
    let clause = clauseAfter(text, from, 48);
    const other = OTHER_FACT_CUE.exec(clause);
    if (other) clause = clause.slice(0, other.index);
    for (const run of digitRuns(clause, from, min, max)) spans.push({ kind, ...run });
  }
}

/** "4321 is my pin", "482913 is the code". */
function numbersBeforeCue(text: string, cue: RegExp, kind: SecretKind, spans: SecretSpan[]): void {
  for (const m of text.matchAll(cue)) {
    const digits = m[1];
    if (digits) {
      const start = (m.index ?? 0) + m[0].indexOf(digits);
      spans.push({ kind, start, end: start + digits.length });
    }
  }
}

const PIN_CUE = /\b(?:pin(?:\s*(?:number|code|no\.?|#))?|passcode|pass code)\b/gi;
const PIN_BEFORE = /\b(\d{3,8})\s+(?:is|was|would be|should be)\s+(?:my|the)\s+(?:pin|passcode)\b/gi;
const OTP_CUE =
  /\b(?<!(?:zip|postal|post|promo|promotional|discount|coupon|error|area|country|referral|gift|tracking|reference|confirmation|product|sort|source|qr|bar|voucher|reservation|booking|dress|status|reason|tax|sku|item|style|color|colour|access|door|gate)\s)(?:code|otp|one[- ]time (?:pass)?code|verification code|security code|auth(?:entication)? code|2fa code|sms code)\b/gi;
const OTP_BEFORE =
  /\b(\d{4,8})\s+(?:is|was)\s+(?:the|my)\s+(?:code|otp|one[- ]time code|verification code|security code)\b/gi;
const CVV_CUE = /\b(?:cvv2?|cvc|security code on the back|3[- ]digit code)\b/gi;
const SSN_CUE = /\b(?:ssn|social security(?: number| no\.?| #)?|social insurance(?: number)?|social)\b/gi;
const PASSWORD_CUE =
  /\b(?:password|passwd|pwd|passphrase|pass word)\b(?:\s+(?:is|was|would be|should be|will be|is now|=|:|-)|\s*[:=-])\s*/gi;
const SECURITY_CUE =
  /\b(?:(?:my |mom'?s |mother'?s |mum'?s |the )?(?:mother'?s |mom'?s |mum'?s )?maiden name|(?:mother|mom|mommy|mum|mummy|mama)'?s (?:maiden )?name|(?:my |the )?(?:first |childhood |old )?(?:pet|dog|cat)(?:'?s?'? name)?|name of my (?:first |childhood )?(?:pet|dog|cat)|(?:my |the )?first (?:school|car|teacher)|security (?:answer|question answer)|secret answer|answer to (?:the|my) security question|(?:the )?city i was born in)\b(?:\s+(?:is called|was called|was named|is named|named|called|would be|is|was|=|:|-)|\s*[:=-])\s*/gi;

function valueToken(text: string, from: number): { start: number; end: number } | undefined {
  const rest = text.slice(from);
  const quoted = /^["'“‘]([^"'”’]+)["'”’]/.exec(rest);
  if (quoted?.[1]) return { start: from + 1, end: from + 1 + quoted[1].length };
  const token = /^[^\s,;]+/.exec(rest);
  if (!token) return undefined;
  const value = token[0].replace(/[.,;:?]+$/, '');
  if (!value || NOT_A_PASSWORD.has(value.toLowerCase().replace(/[^a-z']/g, ''))) return undefined;
  return { start: from, end: from + value.length };
}

/** A short answer to a security question: up to the end of the clause, at most a few words. */
function phraseValue(text: string, from: number): { start: number; end: number } | undefined {
  const clause = clauseAfter(text, from, 60).split(/,|\band\b|\bbut\b|\bif\b|\bbecause\b/)[0] ?? '';
  const trimmed = clause.replace(/\s+$/, '');
  const lead = trimmed.length - trimmed.trimStart().length;
  const value = trimmed.trim().replace(/^["'“‘]|["'”’]$/g, '');
  if (!value || value.split(/\s+/).length > 5 || REFUSAL.test(value)) return undefined;
  const start = from + lead + (trimmed.trim().startsWith('"') || trimmed.trim().startsWith("'") ? 1 : 0);
  return { start, end: start + value.length };
}

const ANSWER_FILLER =
  /^\s*(?:(?:ok(?:ay)?|sure|yes|yeah|yep|yup|um+|uh+|hmm+|so|well|right|alright|of course|no problem|certainly|absolutely|sorry|actually|oops|i mean|i meant|correction|my bad|oh|gosh|wow|hey|hi|hello)\b[\s,.!-]*)*(?:(?:it was|that was|was|that'?ll be|it'?ll be|here you go|here it is|it'?s|it’s|it is|its|that'?s|that is|that would be|it would be|it should be|should be|i think it'?s|i believe it'?s|the (?:answer|password|pin|code) is|my (?:answer|password|pin|code) is)\b[\s:,-]*)?/i;

/** The part of a short reply that is the answer itself ("Sure, it's Sanders." → "Sanders"). */
export function answerCore(text: string): { start: number; end: number } | undefined {
  const lead = ANSWER_FILLER.exec(text)?.[0].length ?? 0;
  const rest = text.slice(lead);
  const trimmed = rest.replace(/[\s.!?,;:]+$/, '');
  const leadingSpace = trimmed.length - trimmed.trimStart().length;
  const core = trimmed.trim();
  if (!core) return undefined;
  return { start: lead + leadingSpace, end: lead + leadingSpace + core.length };
}

function cardNumbers(text: string, spans: SecretSpan[], cardAsked: boolean): void {
  const re = /(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])/g;
  for (const m of text.matchAll(re)) {
    const digits = digitsOf(m[0]);
    const start = m.index ?? 0;
    const before = text.slice(Math.max(0, start - 30), start).toLowerCase();
    if (/\b(?:acc(?:oun|cou|ou)?n?t|acct|order|member|phone|tracking|ref(?:erence)?)\b[^\d]*$/.test(before)) continue;
    const cued = cardAsked || /\b(?:card|visa|mastercard|amex|debit|credit|cc)\b[^\d]*$/.test(before);
    const shaped = (digits.length === 15 || digits.length === 16) && luhnValid(digits);
    if (digits.length >= 13 && digits.length <= 19 && (shaped || (cued && digits.length >= 13))) {
      spans.push({ kind: 'card_number', start, end: start + m[0].length });
    }
  }
}

function ssnNumbers(text: string, spans: SecretSpan[]): void {
  for (const m of text.matchAll(/(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])/g)) {
    spans.push({ kind: 'ssn', start: m.index ?? 0, end: (m.index ?? 0) + m[0].length });
  }
  for (const m of text.matchAll(SSN_CUE)) {
    const from = (m.index ?? 0) + m[0].length;
    const clause = clauseAfter(text, from, 40);
    const run = /(?<!\d)(\d{3}[ -]?\d{2}[ -]?\d{4}|\d{4})(?!\d)/.exec(clause);
    if (run?.[1]) {
      const start = from + run.index + run[0].indexOf(run[1]);
      spans.push({ kind: 'ssn', start, end: start + run[1].length });
    }
  }
}

function fromContext(text: string, question: string, spans: SecretSpan[]): void {
  const kinds = secretsAskedFor(question);
  if (kinds.length === 0) return;
  const facts = factsAskedFor(question);
  const taken = (start: number, end: number) => spans.some((s) => s.start < end && start < s.end);
  for (const kind of kinds) {
    if (kind === 'pin' || kind === 'otp' || kind === 'cvv') {
      const [min, max] = kind === 'cvv' ? [3, 4] : kind === 'pin' ? [3, 8] : [4, 8];
      for (const run of digitRuns(text, 0, min, max)) {
        if (taken(run.start, run.end)) continue;
        const before = text.slice(Math.max(0, run.start - 24), run.start);
        if (OTHER_FACT_CUE.test(before) && !/\b(?:pin|code|passcode)\b/i.test(before)) continue;
        // "account number and PIN?" → "12345678 and 4321": the long number is the account.
        if (facts.length > 0 && run.end - run.start >= 7 && kind === 'pin') continue;
        // "zip code, PIN or username": five digits are the zip, PINs are mostly four.
        if (facts.includes('zip_code') && run.end - run.start === 5 && kind === 'pin') continue;
        spans.push({ kind, ...run });
      }
    } else if (kind === 'password' || kind === 'security_answer') {
      if (facts.length > 0 || spans.some((s) => s.kind === kind)) continue;
      // "Oh gosh, it was Nemo. Named after Captain Nemo.": the answer is the first sentence.
      const first = /^[^.!?\n]*/.exec(text)?.[0] ?? text;
      for (const part of first.length < text.trim().length ? [first, text] : [text]) {
        const core = answerCore(part);
        if (!core) continue;
        const value = part.slice(core.start, core.end);
        if (value.split(/\s+/).length > 5 || REFUSAL.test(value) || taken(core.start, core.end)) continue;
        spans.push({ kind, ...core });
        break;
      }
    } else if (kind === 'card_number') {
      cardNumbers(text, spans, true);
    } else if (kind === 'ssn') {
      for (const m of text.matchAll(/(?<!\d)(?:\d{3}[ -]?\d{2}[ -]?\d{4}|\d{4})(?!\d)/g)) {
        spans.push({ kind: 'ssn', start: m.index ?? 0, end: (m.index ?? 0) + m[0].length });
      }
    }
  }
}

function merge(spans: SecretSpan[]): SecretSpan[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: SecretSpan[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last && span.start < last.end) {
      last.end = Math.max(last.end, span.end);
    } else if (span.end > span.start) {
      out.push({ ...span });
    }
  }
  return out;
}

/** Secrets in a text, with the question context, sorted and without overlaps. */
export function findSecrets(text: string, context?: QuestionContext): SecretSpan[] {
  const spans: SecretSpan[] = [];
  // Cheap tests first: most messages hold no digit and none of the cue words.
  const hasDigit = /\d/.test(text);
  if (hasDigit) {
    if (/pin|pass ?code/i.test(text)) {
      numbersAfterCue(text, PIN_CUE, 'pin', 3, 8, spans);
      numbersBeforeCue(text, PIN_BEFORE, 'pin', spans);
    }
    if (/code|otp/i.test(text)) {
      numbersAfterCue(text, OTP_CUE, 'otp', 4, 8, spans);
      numbersBeforeCue(text, OTP_BEFORE, 'otp', spans);
    }
    if (/cvv|cvc|code/i.test(text)) numbersAfterCue(text, CVV_CUE, 'cvv', 3, 4, spans);
    if (/\d-\d\d-\d|ssn|social/i.test(text)) ssnNumbers(text, spans);
    if (/\d(?:[ -]?\d){11}/.test(text)) cardNumbers(text, spans, false);
  }
  if (/pass|pwd/i.test(text)) {
    for (const m of text.matchAll(PASSWORD_CUE)) {
      const value = valueToken(text, (m.index ?? 0) + m[0].length);
      if (value) spans.push({ kind: 'password', ...value });
    }
  }
  if (SECURITY_HINT.test(text)) {
    for (const m of text.matchAll(SECURITY_CUE)) {
      const value = phraseValue(text, (m.index ?? 0) + m[0].length);
      if (value) spans.push({ kind: 'security_answer', ...value });
    }
  }
  if (context?.previousQuestion) fromContext(text, context.previousQuestion, spans);
  return merge(spans);
}

const SECURITY_HINT = /maiden|pet|dog|cat|first|security|secret|answer|city|mom|mother|mum|mama/i;

/**
 * Replaces each secret with a marker such as "[pin]". The redactions give the markers' positions in the
 * returned text (the original is not kept), so a client can show them as redacted.
 */
export function redact(text: string, context?: QuestionContext): { text: string; redactions: Redaction[] } {
  const spans = findSecrets(text, context);
  if (spans.length === 0) return { text, redactions: [] };
  let out = '';
  let cursor = 0;
  const redactions: Redaction[] = [];
  for (const span of spans) {
    out += text.slice(cursor, span.start);
    const marker = `[${span.kind}]`;
    redactions.push({ kind: span.kind, start: out.length, end: out.length + marker.length });
    out += marker;
    cursor = span.end;
  }
  out += text.slice(cursor);
  return { text: out, redactions };
}
