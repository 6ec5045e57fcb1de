import type { EventBody } from './events.ts';
import { factsAskedFor, factsMentionedInShortFollowUp, secretsAskedFor } from './fact-questions.ts';
import {
  DATE_SOURCE,
  digitsOf,
  looksLikeName,
  NOT_NAME_WORDS,
  normaliseFactValue,
  parseDate,
  STANDARD_FACTS,
} from './fact-values.ts';
import { answerCore, findSecrets, type SecretSpan } from './redaction.ts';

export { STANDARD_FACTS } from './fact-values.ts';

/*
 * How a customer message becomes facts, and why in this order:
 * 1. Secrets first (redaction.ts): a PIN, code or security answer is masked out before anything else reads
 *    the text, so "account 12345678 pin 4321" can never yield 4321 as a fact.
 * 2. Cued values: a word says what follows ("acct 002245019", "zip 60614", "born March 3 1962"), plus values
 *    whose shape alone is unambiguous (emails, formatted phones, street addresses, money).
 * 3. Bare answers: what is left is split at commas and "and", and each piece is matched against what the
 *    previous question asked for ("Jane Doe" after "your full name?"), by how specific its shape is.
 * 4. Corrections: "sorry, it's 60615" after a zip replaces the latest fact of that shape.
 * Rules rather than a model: they are measured on the dev sets (scripts/score-facts.ts) and run in the
 * browser in well under a millisecond per message; the NLP libraries tried did not raise F1 (see the
 * fixtures README).
 */

export interface Fact {
  name: string;
  value: string;
  /** 0-based index into the events array it came from */
  source: number;
  via: 'extracted' | 'bot' | 'system' | 'agent';
  confidence: number;
  /** earlier values this one replaced */
  previous?: string[];
}

export interface ExtractedValue {
  name: string;
  value: string;
  start: number;
  end: number;
  confidence: number;
}

export interface MessageContext {
  /** The last ai/agent/bot message before this one: it tells what a bare answer is. */
  previousQuestion?: string;
  /** Facts the customer already gave since that question (a bare answer then fills what is still missing). */
  alreadyGiven?: readonly string[];
  /** Fact names known so far, most recent first: "sorry, it's 60615" corrects the latest fact of that shape. */
  recent?: readonly string[];
  /** The customer's previous message announced a correction ("whoops", "sorry, typo"). */
  correcting?: boolean;
}

interface Candidate extends ExtractedValue {}

const CONNECTOR = String.raw`\s*(?:(?:is|was|=|:|-|would be|should be|will be|it'?s|is actually|is now)\s*|['’]s\s+)*(?:#\s*)?`;

function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}

function push(out: Candidate[], name: string, value: string, start: number, confidence: number, raw?: string): void {
  out.push({ name, value, start, end: start + (raw ?? value).length, confidence });
}

// ---------------------------------------------------------------- email

const EMAIL = /[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const SPOKEN_EMAIL =
  /\b([a-z0-9][a-z0-9._-]*(?:\s+dot\s+[a-z0-9_-]+)*)\s*(?:\s(?:at)\s|\(at\)|\[at\]|\s@\s)\s*([a-z0-9-]+(?:(?:\.|\s+dot\s+|\s*\(dot\)\s*|\s*\[dot\]\s*)[a-z0-9-]+)+)\b/gi;

function emails(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(EMAIL)) push(out, 'email', m[0].replace(/\.$/, ''), m.index ?? 0, 0.99);
  for (const m of text.matchAll(SPOKEN_EMAIL)) {
    const local = (m[1] ?? '').replace(/\s+dot\s+/gi, '.');
    const domain = (m[2] ?? '').replace(/\s*(?:\s+dot\s+|\(dot\)|\[dot\])\s*/gi, '.').replace(/\s*\.\s*/g, '.');
    if (!/\.[a-z]{2,}$/i.test(domain) || !/[a-z]/i.test(local) || local.length < 2) continue;
    if (/^(?:me|us|you|him|her|them|it|home|work|least|all|look|arrive|arrived|be|is|was|here|there)$/i.test(local))
      continue;
    const tld = domain.split('.').pop() ?? '';
    if (!/^(?:com|org|net|edu|gov|io|co|uk|de|fr|es|it|nl|pl|ca|au|us|info|biz|me|mail|ai|app|dev)$/i.test(tld))
      continue;
    out.push({
      name: 'email',
      value: `${local}@${domain}`,
      start: m.index ?? 0,
      end: (m.index ?? 0) + m[0].length,
      confidence: 0.9,
    });
  }
}

// ---------------------------------------------------------------- phone

const PHONE_RUN = String.raw`(?:\+|00)?\(?\d[\d\s().-]{5,22}\d`;
const PHONE_CUE = new RegExp(
  String.raw`\b(?:phone|cell|mobile|telephone|tel|ph|cellphone|call me(?: back)?(?: on| at)?|reach me(?: on| at)?|text me(?: on| at)?|contact number|callback|call back number|whatsapp|number to reach me|my number|the number)\b(?:\s*(?:number|num|no\.?|#))?${CONNECTOR}(?:on\s+|at\s+)?(${PHONE_RUN})`,
  'gi',
);
const PHONE_SHAPES = [
  /(?<![\d-])(?:\+?1[\s.-]?)?\(\d{3}\)[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)/g,
  /(?<![\d./-])(?:\+?1[\s.-])?\d{3}[-.]\d{3}[-.]\d{4}(?![\d-])/g,
  /(?<![\d-])(?:\+|00)\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,5}(?:[\s.-]?\d{2,5}){1,4}(?![\d-])/g,
  /(?<![\d-])\d{3} \d{3} \d{4}(?![\d-])/g,
];

function phoneDigitsOk(raw: string): boolean {
  const d = digitsOf(raw);
  return d.length >= 7 && d.length <= 15;
}

function phones(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(PHONE_CUE)) {
    const raw = (m[1] ?? '').replace(/[\s.(-]+$/, '');
    if (!phoneDigitsOk(raw) || parseDate(raw)) continue;
    push(out, 'phone', raw, (m.index ?? 0) + m[0].lastIndexOf(m[1] ?? ''), 0.95, raw);
  }
  for (const shape of PHONE_SHAPES) {
    for (const m of text.matchAll(shape)) {
      if (!phoneDigitsOk(m[0])) continue;
      push(out, 'phone', m[0], m.index ?? 0, 0.85);
    }
  }
}

// ---------------------------------------------------------------- identifiers

const ID_VALUE = String.raw`(\d{2,}(?:[ -]\d{2,}){1,5}(?![\dA-Za-z])|[A-Za-z0-9][A-Za-z0-9-]{2,30}[A-Za-z0-9])`;
const NOT_AFTER_ID =
  /^\s*(?:items?|times?|days?|weeks?|months?|years?|hours?|minutes?|mins?|%|percent|dollars?|bucks|pieces?|pcs|units?|things?|pairs?)\b/i;

function idLike(value: string, { allowLetters }: { allowLetters: boolean }): boolean {
  const alnum = value.replace(/[^A-Za-z0-9]/g, '');
  if (alnum.length < 4) return false;
  if (/\d/.test(alnum)) return !/^\d{1,2}(?:st|nd|rd|th)$/i.test(alnum);
  // Codes without a digit ("K7TQ2M" has one; "ABCDEF" as a reference does not) only when clearly a code.
  return allowLetters && /^[A-Z]{5,}$/.test(alnum) && !NOT_NAME_WORDS.has(alnum.toLowerCase());
}

/** One compiled pattern per cue: matchAll copies it, so sharing one is safe. */
const cuedPatterns = new Map<string, RegExp>();

function cuedPattern(cue: string): RegExp {
  let re = cuedPatterns.get(cue);
  if (!re) {
    re = new RegExp(`${cue}${CONNECTOR}(?:(?:my|the|your)\\s+)?${ID_VALUE}`, 'gi');
    cuedPatterns.set(cue, re);
  }
  return re;
}

function cuedIds(text: string, out: Candidate[], name: string, cue: string, confidence: number, allowLetters = false) {
  for (const m of text.matchAll(cuedPattern(cue))) {
    const raw = m[1] ?? '';
    const start = (m.index ?? 0) + m[0].length - raw.length;
    // "account id is PSIWLUGAEY": an id of letters only when the cue says it is an id.
    const namedId = /\b(?:id|number|no|#)\b|#/i.test(m[0].slice(0, m[0].length - raw.length));
    if (!idLike(raw, { allowLetters: allowLetters || (namedId && /^[A-Z]{6,}$/.test(raw)) })) continue;
    if (NOT_AFTER_ID.test(text.slice(start + raw.length))) continue;
    if (parseDate(raw) || /^\d{1,2}:\d{2}/.test(raw)) continue;
    push(out, name, raw, start, confidence);
  }
}

const ACCOUNT_CUE = String.raw`\b(?:ac{1,2}ou?n?t|ac{1,2}nt|acct|acc|a\/c)\b\.?(?:\s*(?:number|num|no\.?|#|id|ID|nr)\b\.?)?`;
const ORDER_CUE = String.raw`\b(?:order|ordr|oder|purchase)\b(?:\s*(?:number|num|no\.?|#|id|ID|nr|ref(?:erence)?|code)\b\.?)?`;
const REFERENCE_CUE = String.raw`\b(?:ref(?:erence)?|confirmation|booking|reservation|case|ticket)\b\.?(?:\s*(?:number|num|no\.?|#|id|ID|code)\b\.?)?`;
const MEMBER_CUE = String.raw`\b(?:(?:member(?:ship)?|patient|insurance|subscriber|policy|medicare|medicaid|health ?plan)\s*(?:number|num|no\.?|#|id|ID|card number)\b\.?|mrn\b|medical record number\b)`;

/** "95381901 is my account #": the value first, then what it is. */
const REVERSED = new RegExp(
  `${ID_VALUE}\\s+(?:is|was|=)\\s+(?:my|the)\\s+(acc(?:oun|ou)?n?t|acct|order|member(?:ship)?|zip|postal|phone|cell|user\\s?name|username)\\b`,
  'gi',
);
const REVERSED_NAME: Record<string, string> = {
  acct: 'account_id',
  order: 'order_id',
  zip: 'zip_code',
  postal: 'zip_code',
  phone: 'phone',
  cell: 'phone',
};

function reversedIds(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(REVERSED)) {
    const raw = m[1] ?? '';
    const word = (m[2] ?? '').toLowerCase().replace(/\s/g, '');
    const name = word.startsWith('ac')
      ? 'account_id'
      : word.startsWith('member')
        ? 'member_id'
        : word.startsWith('user')
          ? 'username'
          : REVERSED_NAME[word];
    if (!name) continue;
    if (name !== 'username' && !idLike(raw, { allowLetters: false })) continue;
    push(out, name, raw, m.index ?? 0, 0.9);
  }
}

function identifiers(text: string, out: Candidate[]): void {
  if (/\d/.test(text) && /\b(?:is|was)\s+(?:my|the)\s/i.test(text)) reversedIds(text, out);
  if (/ac{1,2}(?:o|n|t)|a\/c/i.test(text)) cuedIds(text, out, 'account_id', ACCOUNT_CUE, 0.95);
  if (/ord|oder|purchase/i.test(text)) cuedIds(text, out, 'order_id', ORDER_CUE, 0.95);
  if (/ref|confirm|booking|reserv|case|ticket/i.test(text)) cuedIds(text, out, 'order_id', REFERENCE_CUE, 0.85, true);
  if (/member|patient|insur|subscri|policy|medic|health|mrn/i.test(text))
    cuedIds(text, out, 'member_id', MEMBER_CUE, 0.95);
}

// ---------------------------------------------------------------- username

const USERNAME = new RegExp(
  `\\b(?:users?\\s?name|username|user id|login(?: id| name)|handle|screen ?name)\\b${CONNECTOR}(?:(?:my|the)\\s+)?(@?[A-Za-z0-9][A-Za-z0-9._-]{1,38}[A-Za-z0-9])`,
  'gi',
);

function usernames(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(USERNAME)) {
    const raw = m[1] ?? '';
    if (NOT_NAME_WORDS.has(raw.toLowerCase()) || /^(?:and|or|for|on|in|isn|wasn)$/i.test(raw) || /\.\./.test(raw))
      continue;
    // "no username", "I forgot my username".
    const before = text.slice(Math.max(0, (m.index ?? 0) - 25), m.index ?? 0);
    if (
      /\b(?:no|forgot|forget|lost|don'?t (?:have|know|remember)|can'?t remember|without)\s+(?:my\s+|the\s+|a\s+)?$/i.test(
        before,
      )
    ) {
      continue;
    }
    // "my username is dana" says so; "username locked" does not: without "is" or ":" it must look like one.
    const between = m[0].slice(0, m[0].length - raw.length);
    if (!/(?:\bis|\bwas|[:=#-])\s*(?:(?:my|the)\s+)?$/i.test(between) && !/[\d._@-]/.test(raw)) continue;
    const start = (m.index ?? 0) + m[0].length - raw.length;
    push(out, 'username', raw.replace(/^@/, ''), start + (raw.startsWith('@') ? 1 : 0), 0.95);
  }
}

// ---------------------------------------------------------------- zip, address

const ZIP_VALUE = String.raw`(\d{5}(?:-\d{4})?|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d|[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|\d{4,6})(?![\dA-Za-z])`;
const ZIP_CUE = new RegExp(
  `\\b(?:zip|zip ?code|zipcode|zip-code|postal code|postal|post ?code|postcode|plz)\\b(?:\\s+of)?${CONNECTOR}${ZIP_VALUE}`,
  'gi',
);
const US_STATES =
  'AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY';
/** "Chicago, IL 60614": a zip after a US state at the end of an address. */
const ZIP_IN_ADDRESS = new RegExp(`(?:^|[,\\s])(?:${US_STATES})\\.?,?\\s+(\\d{5}(?:-\\d{4})?)(?!\\d)`, 'gi');

const STREET_SUFFIX =
  '(?:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|trail|trl|crescent|cres|close|row|alley|walk|plaza|loop|path|pike|run)';
const UNIT = String.raw`(?:,?\s*(?:apt|apartment|unit|suite|ste|#|flat|fl|floor|room|rm)\.?\s*#?\s*[A-Za-z0-9-]+)?`;
const STREET = new RegExp(
  `(?<![\\d.,$/-])\\d{1,6}[A-Za-z]?(?:-\\d+)?\\s+(?:[\\p{L}0-9.'’-]+\\s+){0,4}${STREET_SUFFIX}\\b\\.?(?:\\s+(?:n|s|e|w|ne|nw|se|sw|north|south|east|west)\\b\\.?)?${UNIT}`,
  'giu',
);
/** The first street in a text: not global, so `exec` keeps no state between calls. */
const STREET_ONCE = new RegExp(STREET.source, 'iu');
const EURO_STREET =
  /(?<![\p{L}])(?:ul\.\s*)?[\p{Lu}][\p{L}-]*(?:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|laan|straat|gata|gatan|vej|veien|ulica)\s+\d{1,5}[a-z]?\b/gu;
const ADDRESS_CUE =
  /\b(?:(?:my |the |new |shipping |home |street |mailing |billing |delivery )?(?:address|adress|addres)(?:'s| is| was|:| would be| should be)|i live at|i'?m at|live at|ship(?:ped)? (?:it )?to|deliver(?:ed)? (?:it )?to|send (?:it )?to|located at)\s*/gi;

function addresses(text: string, out: Candidate[]): void {
  for (const m of /zip|postal|post ?code|postcode|plz/i.test(text) ? text.matchAll(ZIP_CUE) : []) {
    const raw = m[1] ?? '';
    push(out, 'zip_code', raw, (m.index ?? 0) + m[0].length - raw.length, 0.95);
  }
  for (const m of /\d{5}/.test(text) ? text.matchAll(ZIP_IN_ADDRESS) : []) {
    const raw = m[1] ?? '';
    push(out, 'zip_code', raw, (m.index ?? 0) + m[0].lastIndexOf(raw), 0.85);
  }
  for (const m of text.matchAll(STREET)) push(out, 'street_address', m[0], m.index ?? 0, 0.9);
  if (/stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|laan|straat|gata|vej|ulica/i.test(text)) {
    for (const m of text.matchAll(EURO_STREET)) push(out, 'street_address', m[0], m.index ?? 0, 0.85);
  }
  for (const m of /addr|adress|live|ship|deliver|send|located|i'?m at/i.test(text) ? text.matchAll(ADDRESS_CUE) : []) {
    const from = (m.index ?? 0) + m[0].length;
    const clause = /^[^.;!?\n]*/.exec(text.slice(from))?.[0] ?? '';
    // Up to the city: "12 Elm Rd, Springfield" → "12 Elm Rd".
    const street = (clause.split(',')[0] ?? '').trim();
    if (street && /\d/.test(street) && /\p{L}{2,}/u.test(street) && street.split(/\s+/).length <= 8) {
      push(out, 'street_address', street, from + clause.indexOf(street), 0.8);
    }
  }
}

// ---------------------------------------------------------------- dates

const DOB = new RegExp(
  `\\b(?:born|dob|d\\.o\\.b\\.?|date of birth|birth ?date|birthday|bday|b-day)\\b(?:'s)?[^\\d\\n.!?]{0,25}?(${DATE_SOURCE})`,
  'gi',
);
const DATE_ANY = new RegExp(DATE_SOURCE, 'gi');

function birthDates(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(DOB)) {
    const raw = m[1] ?? '';
    const iso = parseDate(raw);
    if (!iso) continue;
    out.push({
      name: 'date_of_birth',
      value: iso,
      start: (m.index ?? 0) + m[0].length - raw.length,
      end: (m.index ?? 0) + m[0].length,
      confidence: 0.95,
    });
  }
}

// ---------------------------------------------------------------- card, amount

const LAST4 =
  /\b(?:last (?:4|four)(?: digits| numbers)?|ending(?: in| with)?|ends (?:in|with)|card ending)\b([^\d\n.!?]{0,25}?)(?<!\d)(\d{4})(?!\d)/gi;

function cardLast4(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(LAST4)) {
    const between = m[1] ?? '';
    if (/\b(?:social|ssn|phone|cell|mobile|account|acct|order|member|sin)\b/i.test(between)) continue;
    const raw = m[2] ?? '';
    push(out, 'card_last4', raw, (m.index ?? 0) + m[0].length - raw.length, 0.95);
  }
}

const MONEY =
  /(?:(?:[$€£]|usd|eur|gbp|us\$)\s?(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)|(?<![\d.])(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)\s?(?:dollars?|bucks|usd|euros?|eur|pounds?|gbp)\b)/gi;
const NOT_THE_AMOUNT_AFTER =
  /^\s*(?:off|discount|coupon|voucher|promo|cash ?back|cheaper|less|more|per (?:hour|day)|an hour|a day)\b/i;
const NOT_THE_AMOUNT_BEFORE =
  /\b(?:save|saved|saving|savings|discount of|coupon (?:for|of|worth)|promo(?: code)? (?:for|of|worth)|voucher (?:for|of|worth)|off by|tip|limit of|minimum|over|under|more than|less than)\s*$/i;

function amounts(text: string, out: Candidate[]): void {
  for (const m of text.matchAll(MONEY)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (NOT_THE_AMOUNT_AFTER.test(text.slice(end, end + 20))) continue;
    if (NOT_THE_AMOUNT_BEFORE.test(text.slice(Math.max(0, start - 30), start))) continue;
    const number = m[1] ?? m[2] ?? '';
    out.push({ name: 'amount', value: normaliseFactValue('amount', number), start, end, confidence: 0.8 });
  }
}

// ---------------------------------------------------------------- names

const NAME_CUE =
  /(?:(?:\bmy (?:full |legal |first and last )?name(?:'s| is| was|:)|(?:^|[.,!?;]\s*|\b(?:yes|yeah|ok|okay|sure)\s+)(?:(?:full |legal )?name(?:'s| is|:))|\bthe name (?:is|on the account is)|\bname on (?:the|my) account is|\byou can call me)\s+)/gi;
const INTRO_CUE = /(?:^|[\s,.!])(?:this is|i am|i'm|i’m|im|it'?s|its|here is|here's)\s+/gi;
const NAME_PARTICLES = new Set([
  'van',
  'von',
  'de',
  'da',
  'del',
  'della',
  'der',
  'den',
  'di',
  'du',
  'la',
  'le',
  'bin',
  'al',
  'ibn',
  'dos',
  'das',
  'st.',
]);

/** Up to four name tokens from `from`, stopping at the first word that is not part of a name. */
function nameAt(text: string, from: number, requireCapital: boolean): { value: string; start: number } | undefined {
  const honorific = HONORIFIC.exec(text.slice(from))?.[0].length ?? 0;
  const start = from + honorific;
  const rest = text.slice(start);
  const tokens: string[] = [];
  const re = /([\p{L}][\p{L}\p{M}'’.-]*)(\s+|$|(?=[,;!?)]))/uy;
  let pos = 0;
  while (tokens.length < 4) {
    re.lastIndex = pos;
    const m = re.exec(rest);
    if (!m) break;
    const token = (m[1] ?? '').replace(/\.$/, (dot) => (/^\p{L}$/u.test(m[1]?.slice(0, -1) ?? '') ? dot : ''));
    const lower = token.toLowerCase();
    const particle = tokens.length > 0 && NAME_PARTICLES.has(lower);
    if (!particle) {
      if (NOT_NAME_WORDS.has(lower.replace(/['’]s$/, '')) || NOT_NAME_WORDS.has(lower)) break;
      if (requireCapital && !/^\p{Lu}/u.test(token)) break;
    }
    tokens.push(token);
    pos += m[0].length;
    if (/[.]$/.test(m[1] ?? '') && token.length > 2) break;
    if (!m[2]) break;
  }
  while (tokens.length > 0 && NAME_PARTICLES.has((tokens[tokens.length - 1] ?? '').toLowerCase())) tokens.pop();
  if (tokens.length === 0) return undefined;
  const value = tokens.join(' ');
  if (
    !looksLikeName(value.replace(/\b(?:van|von|de|da|del|della|der|den|di|du|la|le|bin|al|ibn|dos|das)\b/gi, 'X'), {
      requireCapital: false,
    })
  ) {
    return undefined;
  }
  return { value, start };
}

const HONORIFIC = /^(?:mr|mrs|ms|miss|mx|dr|madame|madam|sir|mister|prof)\.?\s+(?=\p{L})/iu;

const UNDER_NAME =
  /\b(?:account|order|booking|reservation|it)(?: is| was|'s)? (?:under|in) (?:the name (?:of )?|my name,? )?/gi;
const NAME_THEN_BORN = /(?:^|[:.!?]\s*)((?:\p{Lu}[\p{L}'’-]+\s+){1,2}\p{Lu}[\p{L}'’-]+),?\s+(?:born|dob|d\.o\.b)\b/gu;

/** "I'm surprised", "it's called": words shaped like adjectives or verbs are not a one-word name. */
const NOT_A_FIRST_NAME = /^(?:\p{Ll}[\p{L}]{3,}(?:ed|ing|ful|ous|ive|less|ly|able)|\p{Ll}+n't)$/u;

function names(text: string, out: Candidate[], nameAsked: boolean): void {
  const hasName = /name|call me/i.test(text);
  for (const m of hasName ? text.matchAll(NAME_CUE) : []) {
    const found = nameAt(text, (m.index ?? 0) + m[0].length, false);
    if (found) push(out, 'full_name', found.value, found.start, 0.95);
  }
  for (const m of /this is|i am|i'?m|i’m|\bim\b|it'?s|\bits\b|here/i.test(text) ? text.matchAll(INTRO_CUE) : []) {
    const cue = m[0].trim().toLowerCase();
    if ((cue.startsWith('it') || cue.startsWith('here')) && !nameAsked) continue;
    let found = nameAt(text, (m.index ?? 0) + m[0].length, !nameAsked);
    // "this is joseph banter, i'd like…": a lower-case name, when what follows shows where it ends.
    if (!found && !cue.startsWith('it') && !cue.startsWith('here')) {
      const lower = nameAt(text, (m.index ?? 0) + m[0].length, false);
      const after = lower ? text.slice(lower.start + lower.value.length) : '';
      const words = lower?.value.split(' ') ?? [];
      if (
        lower &&
        words.length >= 2 &&
        words.length <= 3 &&
        !words.some((w) => NOT_A_FIRST_NAME.test(w.toLowerCase())) &&
        /^\s*(?:[,;]|(?:and|i|i'?d|i'?m|my|from|here)\b)/i.test(after)
      ) {
        found = lower;
      }
    }
    if (!found) continue;
    const single = !found.value.includes(' ');
    // "I'm Dana" with nothing more is a first name; still the name the customer gave, if it is written as one.
    if (single && (!/^\p{Lu}/u.test(found.value) || NOT_A_FIRST_NAME.test(found.value.toLowerCase()))) continue;
    push(out, 'full_name', found.value, found.start, nameAsked ? 0.9 : 0.8);
  }
  // "Dana Reyes, born March 3 1962".
  const bornCue = /born|dob|d\.o\.b/i.test(text);
  for (const m of bornCue ? text.matchAll(NAME_THEN_BORN) : []) {
    const value = m[1] ?? '';
    if (looksLikeName(value, { requireCapital: true }))
      push(out, 'full_name', value, (m.index ?? 0) + m[0].indexOf(value), 0.85);
  }
  // "Joseph Banter is the name (on the account)".
  const nameAfter = hasName && /is (?:the|my) (?:full )?name/i.test(text);
  for (const m of nameAfter
    ? text.matchAll(/(?:^|[.!?,]\s*)([\p{L}'’ -]{3,40}?)\s+is (?:the|my) (?:full )?name\b/giu)
    : []) {
    const value = (m[1] ?? '').trim();
    if (value.includes(' ') && looksLikeName(value, { requireCapital: false })) {
      push(out, 'full_name', value, (m.index ?? 0) + m[0].indexOf(value), 0.9);
    }
  }
  const here = /(?:^|[,.!]\s*)((?:\p{Lu}[\p{L}'’-]+\s+){1,3})here\b/gu;
  // "The account is under Maria Lopez".
  for (const m of /\bunder\b/i.test(text) ? text.matchAll(UNDER_NAME) : []) {
    const found = nameAt(text, (m.index ?? 0) + m[0].length, true);
    if (found?.value.includes(' ')) push(out, 'full_name', found.value, found.start, 0.85);
  }
  for (const m of /here\b/.test(text) ? text.matchAll(here) : []) {
    const value = (m[1] ?? '').trim();
    if (looksLikeName(value, { requireCapital: true }))
      push(out, 'full_name', value, (m.index ?? 0) + m[0].indexOf(value), 0.85);
  }
}

// ---------------------------------------------------------------- bare answers

const FACT_LABEL =
  /^(?:(?:my|the|our|your)\s+)?(?:full\s+|first and last\s+)?(?:name|user\s?name|username|e-?mail(?: address)?|phone(?: number)?|number|cell|mobile|acc(?:oun|ou)?n?t(?: number| id| no\.?| #)?|acct(?: id| number| no\.?)?|order(?: id| number| no\.?| #)?|zip(?: code)?|zipcode|postal code|post ?code|address|street address|date of birth|dob|birthday|member(?:ship)?(?: id| number)?|last (?:4|four)(?: digits)?|amount|total|card)\s*(?:is|was|=|:|-)?\s*/i;

/** Strips "sure, it's", "my zip is", "Username:" from a fragment of an answer. */
function bareValue(segment: string): { value: string; offset: number } {
  let offset = 0;
  let rest = segment;
  for (let i = 0; i < 3; i += 1) {
    const core = answerCore(rest);
    if (!core) return { value: '', offset };
    offset += core.start;
    rest = rest.slice(core.start, core.end);
    const label = FACT_LABEL.exec(rest);
    if (!label || label[0].length === 0) break;
    offset += label[0].length;
    rest = rest.slice(label[0].length);
  }
  const trailing = rest.replace(/\s*(?:please|thanks|thank you|thx|ty)\s*[.!]*$/i, '');
  return { value: trailing.replace(/[\s.!?,;:\\]+$/, ''), offset };
}

/** How well a bare value fits a fact: 0 does not fit; higher is more specific. */
function fit(name: string, value: string): number {
  const digits = digitsOf(value);
  const alnum = value.replace(/[^A-Za-z0-9]/g, '');
  switch (name) {
    case 'full_name':
      return looksLikeName(value, { requireCapital: false }) ? 1 : 0;
    case 'phone':
      return /^[+\d\s().-]+$/.test(value) && digits.length >= 7 && digits.length <= 15 && !parseDate(value) ? 3 : 0;
    case 'zip_code':
      if (/^\d{5}(?:-\d{4})?$/.test(value)) return 2.5;
      if (/^(?:[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d|[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2})$/.test(value)) return 2.5;
      return /^\d{4,6}$/.test(value) ? 1.5 : 0;
    case 'card_last4':
      return /^\d{4}$/.test(value) ? 2.5 : 0;
    case 'date_of_birth':
      return parseDate(value) ? 3 : 0;
    case 'amount':
      return /^(?:[$€£]\s?)?\d[\d,]*(?:\.\d{1,2})?(?:\s?(?:dollars?|usd|bucks|euros?))?$/i.test(value) ? 2 : 0;
    case 'street_address':
      return /^\d/.test(value) && /\p{L}{2,}/u.test(value) && value.split(/\s+/).length <= 10 ? 1.5 : 0;
    case 'username':
      if (!/^@?[A-Za-z0-9][A-Za-z0-9._-]{1,38}[A-Za-z0-9]$/.test(value)) return 0;
      if (NOT_NAME_WORDS.has(value.toLowerCase())) return 0;
      // A plain word ("okkay", "sure") is rarely a username; letters with digits or dots usually are.
      return /[a-z]/.test(value) && /[\d._-]/.test(value) ? 1.5 : 0;
    case 'account_id':
    case 'order_id':
    case 'member_id': {
      if (!/^#?(?:[A-Za-z0-9][A-Za-z0-9-]{2,30}|\d{2,}(?:[ -]\d{2,}){1,5})$/.test(value) || alnum.length < 4) return 0;
      if (/^[\d -]+$/.test(value)) return digits.length >= 4 ? 1 : 0;
      if (!/\d/.test(alnum)) return /^[A-Z]{5,}$/.test(alnum) ? 0.5 : 0;
      return /[a-z]/.test(value) ? 0.6 : 1.2;
    }
    default:
      return 0;
  }
}

const CORRECTION =
  /\b(?:sorry|actually|i mean|i meant|correction|typo|oops|whoops|scratch that|my bad|not \S+,? (?:it'?s|but)|should have said|(?:the |a )?wrong (?:one|number|email|address|zip|name|order|account|digits?)|(?:i )?made a (?:mistake|typo)|mistyped|misspelled)\b/i;

function segments(text: string, taken: Array<{ start: number; end: number }>): Array<{ text: string; start: number }> {
  const out: Array<{ text: string; start: number }> = [];
  // What was already recognised (a cued value, a secret) splits the text like a comma would.
  let masked = text;
  for (const t of taken) masked = masked.slice(0, t.start) + '\n'.repeat(t.end - t.start) + masked.slice(t.end);
  const re = /[^,;\n]+/g;
  for (const m of masked.matchAll(re)) {
    // "Jane Doe and my account is…" and "Jane. Account 123" split too.
    const parts = m[0].split(/(\s+(?:and|&|also|plus|but|because|so|though)\s+|\.\s+|\s+-\s+|\s{2,})/i);
    let offset = m.index ?? 0;
    for (const part of parts) {
      const start = offset;
      offset += part.length;
      if (!part.trim() || /^\s+(?:and|&|also|plus|but|because|so|though)\s+$|^\.\s+$|^\s+-\s+$|^\s{2,}$/i.test(part))
        continue;
      // "VMERIZJOY2 0694105173": two ids side by side are two answers.
      const tokens = part.trim().split(/\s+/);
      if (tokens.length >= 2 && tokens.length <= 4 && tokens.every((t) => /\d/.test(t) && t.length >= 6)) {
        if (tokens.some((t) => /[A-Za-z]/.test(t)) || tokens.every((t) => t.length >= 7)) {
          for (const t of part.matchAll(/\S+/g)) out.push({ text: t[0], start: start + (t.index ?? 0) });
          continue;
        }
      }
      out.push({ text: part, start });
    }
  }
  return out;
}

function bareAnswers(
  text: string,
  asked: readonly string[],
  found: Candidate[],
  secrets: SecretSpan[],
  out: Candidate[],
  confidence: number,
  firstNameEnough: boolean,
  allowLeading = true,
): void {
  if (asked.length === 0) return;
  // "I'm Jane, Jane Doe": a first name alone can still be completed by the bare answer.
  const filled = new Set(found.filter((c) => c.name !== 'full_name' || c.value.includes(' ')).map((c) => c.name));
  const taken = [...found, ...secrets];
  for (const segment of segments(text, taken)) {
    const bare = bareValue(segment.text);
    if (!bare.value) continue;
    let { value, offset } = bare;
    let best: { name: string; score: number } | undefined;
    for (const name of asked) {
      if (filled.has(name)) continue;
      // A single word after "your full name?" is far more often "Wait" or "Goodbye" than a name.
      if (name === 'full_name' && !firstNameEnough && !/\S\s+\S/.test(value)) continue;
      const score = fit(name, value);
      if (score > 0 && (!best || score > best.score)) best = { name, score };
    }
    if (!best) {
      if (!allowLeading) continue;
      // "153531981 at PNC", "John Smith pin …": the answer first, then words that are no value.
      const lead = leadingValue(
        value,
        asked.filter((name) => !filled.has(name)),
        firstNameEnough,
      );
      if (!lead) continue;
      best = { name: lead.name, score: 1 };
      value = lead.value;
    }
    let finalValue = best.name === 'full_name' ? value.replace(HONORIFIC, '') : value;
    if (best.name === 'street_address') {
      const street = STREET_ONCE.exec(value);
      if (street) finalValue = street[0];
      else finalValue = value.split(',')[0] ?? value;
    }
    const start = segment.start + offset + value.indexOf(finalValue);
    out.push({ name: best.name, value: finalValue, start, end: start + finalValue.length, confidence });
    filled.add(best.name);
  }
}

const NAME_THEN =
  /^\s*(?:$|[\d#(+]|(?:pin|account|acct|acc|email|e-mail|phone|number|dob|born|zip|postal|username|member|order|is my|here)\b)/i;
const LEADING_TOKEN = /^#?[A-Za-z0-9][A-Za-z0-9-]*(?:[ -]\d{2,})*/;

function leadingValue(
  value: string,
  asked: readonly string[],
  firstNameEnough: boolean,
): { name: string; value: string } | undefined {
  const rest = (v: string) => value.slice(v.length);
  for (const name of asked) {
    if (name === 'full_name') {
      const found = nameAt(value, 0, false);
      // "John Smith pin …", "Katarina Miller 68318931": a value or a fact's word follows, not a sentence.
      if (found && (firstNameEnough || found.value.includes(' ')) && NAME_THEN.test(rest(found.value))) {
        return { name, value: found.value };
      }
      continue;
    }
    if (!['account_id', 'order_id', 'member_id', 'phone', 'zip_code', 'card_last4', 'username'].includes(name))
      continue;
    const token = (name === 'phone' ? /^\+?[\d\s().-]*\d/ : LEADING_TOKEN).exec(value)?.[0];
    if (!token || /\d/.test(rest(token))) continue;
    if (fit(name, token) >= 1) return { name, value: token };
  }
  return undefined;
}

// ---------------------------------------------------------------- message extraction

function pickNonOverlapping(candidates: Candidate[]): Candidate[] {
  const byStrength = [...candidates].sort(
    (a, b) => b.confidence - a.confidence || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const chosen: Candidate[] = [];
  for (const c of byStrength) {
    if (chosen.some((k) => overlaps(k, c))) continue;
    chosen.push(c);
  }
  return chosen.sort((a, b) => a.start - b.start);
}

interface MessageResult {
  values: ExtractedValue[];
  secrets: SecretSpan[];
}

function extractMessage(text: string, context: MessageContext | undefined): MessageResult {
  const question = context?.previousQuestion ?? '';
  const secrets = findSecrets(text, question ? { previousQuestion: question } : undefined);
  const asked = question ? factsAskedFor(question) : [];
  const secretAsked = question ? secretsAskedFor(question).length > 0 : false;

  const raw: Candidate[] = [];
  // Cheap tests first: each extractor runs only when its cue or shape can be in the text at all.
  const digits = (text.match(/\d/g) ?? []).length;
  if (/@|\sat\s|\(at\)|\[at\]/i.test(text)) emails(text, raw);
  if (digits >= 7) phones(text, raw);
  if (digits > 0 || /[A-Z]{5}/.test(text)) identifiers(text, raw);
  if (/user|login|handle|screen/i.test(text)) usernames(text, raw);
  if (digits > 0) addresses(text, raw);
  if (digits > 0 && /born|dob|d\.o\.b|birth|b-?day/i.test(text)) birthDates(text, raw);
  if (digits >= 4 && /last|ending|ends/i.test(text)) cardLast4(text, raw);
  if (digits > 0 && /[$€£]|usd|eur|gbp|dollar|buck|euro|pound/i.test(text)) amounts(text, raw);
  const pendingAsked = asked.filter((name) => !(context?.alreadyGiven ?? []).includes(name));
  names(text, raw, pendingAsked.includes('full_name'));
  const clean = raw.filter((c) => !secrets.some((s) => overlaps(s, c)));
  const found = pickNonOverlapping(clean);

  // A date given right after "what's your date of birth?" has no cue of its own.
  if (asked.includes('date_of_birth') && !found.some((c) => c.name === 'date_of_birth')) {
    for (const m of text.matchAll(DATE_ANY)) {
      const span = { start: m.index ?? 0, end: (m.index ?? 0) + m[0].length };
      // An impossible date ("31/06/1996") is still what the customer said; show it as written.
      const iso = parseDate(m[0]) ?? (/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(m[0]) ? m[0] : undefined);
      if (!iso || secrets.some((s) => overlaps(s, span))) continue;
      const kept = found.filter((c) => !overlaps(c, span));
      found.length = 0;
      found.push(...kept, { name: 'date_of_birth', value: iso, ...span, confidence: 0.9 });
      break;
    }
  }

  const extra: Candidate[] = [];
  // Once everything asked for was given, later messages are not answers to that question any more.
  const pending = asked.filter((name) => !(context?.alreadyGiven ?? []).includes(name));
  bareAnswers(text, pending, found, secrets, extra, 0.85, /\bfirst name\b/i.test(question));
  const correcting = CORRECTION.test(text) || context?.correcting === true;
  if (correcting && context?.recent && context.recent.length > 0) {
    bareAnswers(text, context.recent, [...found, ...extra], secrets, extra, 0.75, false, false);
  }
  const all = [...found, ...extra].filter((c) => !secrets.some((s) => overlaps(s, c)));
  // After a security question, a loosely recognised name or username may be the answer itself: drop it.
  const values =
    secretAsked && asked.length === 0
      ? all.filter((c) => c.confidence >= 0.9 || (c.name !== 'full_name' && c.name !== 'username'))
      : all;

  const hasCorrection = CORRECTION.test(text);
  const perName = new Map<string, ExtractedValue>();
  for (const c of values.sort((a, b) => a.start - b.start)) {
    const value = c.name === 'date_of_birth' || c.name === 'amount' ? c.value : normaliseFactValue(c.name, c.value);
    if (!value) continue;
    const existing = perName.get(c.name);
    // "I'm Jane, Jane Doe": the fuller name wins.
    const fuller = existing?.name === 'full_name' && value.toLowerCase().includes(existing.value.toLowerCase());
    // "60614, sorry, 60615" and "from (757) 350-7140 to (757) 350-7141": the later value is the one that counts.
    const between = existing ? text.slice(existing.end, c.start) : '';
    const later = (hasCorrection && CORRECTION.test(between)) || REPLACED_BY.test(between);
    if (existing && !fuller && !later) continue;
    perName.set(c.name, { name: c.name, value, start: c.start, end: c.end, confidence: c.confidence });
  }
  return { values: [...perName.values()].sort((a, b) => a.start - b.start), secrets };
}

const REPLACED_BY = /\b(?:to|new|now|instead|updated?|changed?)\b/i;

/** Results by text, then by context: replaying a conversation (a brief on every event) reads each message once. */
const cache = new Map<string, Map<string, MessageResult>>();
const CACHE_LIMIT = 4000;

function cachedExtract(text: string, context: MessageContext | undefined): MessageResult {
  let byContext = cache.get(text);
  if (!byContext) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    byContext = new Map();
    cache.set(text, byContext);
  }
  const key = `${context?.previousQuestion ?? ''}\u0001${context?.alreadyGiven?.join(',') ?? ''}\u0001${context?.recent?.join(',') ?? ''}\u0001${context?.correcting ? 1 : 0}`;
  const hit = byContext.get(key);
  if (hit) return hit;
  const result = extractMessage(text, context);
  byContext.set(key, result);
  return result;
}

/** Facts found in one customer message; `previousQuestion` is the last ai/agent/bot message before it. */
export function extractFromMessage(
  text: string,
  context?: MessageContext,
): Array<{ name: string; value: string; start: number; end: number; confidence: number }> {
  return cachedExtract(text, context).values.map((v) => ({ ...v }));
}

// ---------------------------------------------------------------- conversations

const SECRET_FACT_NAMES =
  /^(?:pin|pin_?code|password|passcode|otp|one_?time_?code|verification_?code|security_?(?:answer|question|code)|mothers?_?maiden_?name|maiden_?name|pet_?name|ssn|social_?security(?:_?number)?|cvv|cvc|card_?number|full_?card(?:_?number)?|secret)$/i;

/** Back-office field names for each standard fact, compared without case or punctuation. */
const ON_FILE_KEYS: Record<string, string> = {
  email: 'email',
  emailaddress: 'email',
  phone: 'phone',
  phonenumber: 'phone',
  mobile: 'phone',
  cell: 'phone',
  address: 'street_address',
  streetaddress: 'street_address',
  shippingaddress: 'street_address',
  street: 'street_address',
  homeaddress: 'street_address',
  zip: 'zip_code',
  zipcode: 'zip_code',
  postalcode: 'zip_code',
  postcode: 'zip_code',
  fullname: 'full_name',
  customername: 'full_name',
  membername: 'full_name',
  patientname: 'full_name',
  accountholder: 'full_name',
  accountid: 'account_id',
  accountnumber: 'account_id',
  orderid: 'order_id',
  ordernumber: 'order_id',
  memberid: 'member_id',
  membernumber: 'member_id',
  membershipnumber: 'member_id',
  patientid: 'member_id',
  dob: 'date_of_birth',
  dateofbirth: 'date_of_birth',
  birthdate: 'date_of_birth',
  cardlast4: 'card_last4',
  last4: 'card_last4',
  username: 'username',
  amount: 'amount',
  total: 'amount',
  ordertotal: 'amount',
};

const PERSON_KEYS = new Set(['email', 'phone', 'street_address', 'date_of_birth']);

function valuesOnFile(record: Record<string, unknown>, depth: number, out: Array<[string, string]>): void {
  const keys = Object.keys(record);
  const person = keys.some((k) => PERSON_KEYS.has(ON_FILE_KEYS[k.toLowerCase().replace(/[^a-z0-9]/g, '')] ?? ''));
  for (const key of keys) {
    const value = record[key];
    const plain = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (SECRET_FACT_NAMES.test(key)) continue;
    if (typeof value === 'string' || typeof value === 'number') {
      const name = ON_FILE_KEYS[plain] ?? (plain === 'name' && person ? 'full_name' : undefined);
      if (name && String(value).trim()) out.push([name, String(value)]);
    } else if (value && typeof value === 'object' && !Array.isArray(value) && depth < 2) {
      valuesOnFile(value as Record<string, unknown>, depth + 1, out);
    }
  }
}

/** A bot's "phone_number" or "dob" is our `phone` or `date_of_birth`; other names are kept as given. */
function standardName(name: string): string {
  if ((STANDARD_FACTS as readonly string[]).includes(name)) return name;
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return ON_FILE_KEYS[plain] ?? (plain === 'name' ? 'full_name' : name);
}

function identitySubject(subject: string): Array<[string, string]> {
  const labelled = /^\s*([a-z_ ]+)\s*[:=]\s*(.+)$/i.exec(subject);
  if (labelled) {
    const name = (labelled[1] ?? '').trim().toLowerCase().replace(/\s+/g, '_');
    const known = (STANDARD_FACTS as readonly string[]).includes(name) ? name : ON_FILE_KEYS[name.replace(/_/g, '')];
    if (known) return [[known, labelled[2] ?? '']];
  }
  if (/^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i.test(subject.trim())) return [['email', subject]];
  if (/^[+\d\s().-]+$/.test(subject) && digitsOf(subject).length >= 7) return [['phone', subject]];
  // The person who was verified: "Dana Reyes".
  if (subject.trim().includes(' ') && looksLikeName(subject.trim(), { requireCapital: true })) {
    return [['full_name', subject]];
  }
  return [];
}

const PRESENCE_CHECK =
  /\b(?:are you (?:still )?(?:there|with me)|you there|still there|did you get|can you see)\b|^\s*(?:hello|hi|hey)\s*\?+\s*$/i;

const FOLLOW_UP_WORDS: Record<string, string> = {
  full_name: 'full name',
  account_id: 'account number',
  order_id: 'order number',
  zip_code: 'zip code',
  street_address: 'street address',
  date_of_birth: 'date of birth',
  card_last4: 'last four digits of the card',
  member_id: 'member id',
};

/** What an agent message does to the open question, by text: the same bot lines recur all through a long log. */
const agentReadings = new Map<string, { asking: boolean; followUp: string[] }>();

function readAgentMessage(text: string): { asking: boolean; followUp: string[] } {
  let reading = agentReadings.get(text);
  if (!reading) {
    if (agentReadings.size >= CACHE_LIMIT) agentReadings.clear();
    const asking = factsAskedFor(text).length > 0 || secretsAskedFor(text).length > 0;
    reading = { asking, followUp: asking ? [] : factsMentionedInShortFollowUp(text) };
    agentReadings.set(text, reading);
  }
  return reading;
}

/**
 * Keeps the facts of one conversation up to date one event at a time, so a live view (the console, the
 * brief on every new message) costs one message's extraction per event instead of a full replay.
 */
export class FactTracker {
  private readonly known = new Map<string, Fact>();
  private readonly onFile = new Map<string, Fact>();
  private readonly secretValues = new Set<string>();
  private question: string | undefined;
  /** Agent messages since the last one that asked for something: a bare answer may follow "are you there?". */
  private sinceQuestion = 0;
  private answered = new Set<string>();
  private recency: string[] = [];
  private correctionAnnounced = false;
  private count = 0;

  /** The number of events seen so far: the index the next pushed event gets. */
  get size(): number {
    return this.count;
  }

  push(event: EventBody): void {
    const index = this.count;
    this.count += 1;
    switch (event.type) {
      case 'message':
        if (event.author === 'customer') this.customerMessage(event.text, index);
        else if (event.author !== 'system') this.agentMessage(event.text);
        return;
      case 'fact': {
        if (SECRET_FACT_NAMES.test(event.name)) return;
        const via = event.via === 'extracted' ? 'extracted' : event.via;
        this.set(this.known, standardName(event.name), event.value, event.source ?? index, via, 0.99);
        return;
      }
      case 'identity':
        for (const [name, value] of identitySubject(event.subject ?? '')) {
          this.set(this.known, name, value, index, 'system', 0.9);
        }
        return;
      case 'action':
        if (event.result) {
          const found: Array<[string, string]> = [];
          valuesOnFile(event.result, 0, found);
          for (const [name, value] of found) this.set(this.onFile, name, value, index, 'system', 0.99);
        }
        return;
      default:
        return;
    }
  }

  /** An independent copy: pushing to one does not change the other. */
  clone(): FactTracker {
    const copy = new FactTracker();
    for (const [name, fact] of this.known) copy.known.set(name, fact);
    for (const [name, fact] of this.onFile) copy.onFile.set(name, fact);
    for (const secret of this.secretValues) copy.secretValues.add(secret);
    copy.question = this.question;
    copy.sinceQuestion = this.sinceQuestion;
    copy.answered = new Set(this.answered);
    copy.recency = this.recency;
    copy.correctionAnnounced = this.correctionAnnounced;
    copy.count = this.count;
    return copy;
  }

  facts(): Fact[] {
    return [...this.known.values()].map((f) => ({ ...f, ...(f.previous ? { previous: [...f.previous] } : {}) }));
  }

  factsOnFile(): Fact[] {
    return [...this.onFile.values()].map((f) => ({ ...f }));
  }

  private agentMessage(text: string): void {
    const { asking, followUp } = readAgentMessage(text);
    if (asking) {
      this.question = text;
      this.sinceQuestion = 0;
      this.answered = new Set();
    } else if (followUp.length > 0) {
      // "Sorry, just the order ID." narrows the open question.
      this.question = `Could I get your ${followUp.map((n) => FOLLOW_UP_WORDS[n] ?? n).join(' and ')}?`;
      this.sinceQuestion = 0;
      this.answered = new Set();
    } else if (text.includes('?') && !PRESENCE_CHECK.test(text)) {
      // A question about something else ("What restaurant?") closes the open one.
      this.question = undefined;
    } else {
      this.sinceQuestion += 1;
      // "Are you there?" or "One moment" keeps the open question; a third message closes it.
      if (this.sinceQuestion > 2) this.question = undefined;
    }
  }

  private customerMessage(text: string, index: number): void {
    const context: MessageContext = {
      ...(this.question ? { previousQuestion: this.question } : {}),
      alreadyGiven: [...this.answered],
      recent: this.recency,
      ...(this.correctionAnnounced ? { correcting: true } : {}),
    };
    // "whoops" alone says the next message corrects the last value.
    this.correctionAnnounced = text.length <= 40 && text.split(/\s+/).length <= 4 && CORRECTION.test(text);
    const { values, secrets } = cachedExtract(text, context);
    for (const s of secrets) this.secretValues.add(text.slice(s.start, s.end).toLowerCase());
    for (const v of values) {
      if (this.leaksSecret(v.value)) continue;
      // The first amount is the one the conversation is about ("charged $40"); later ones are mostly
      // balances and comparisons, unless the customer corrects it.
      if (v.name === 'amount' && this.known.has('amount') && !CORRECTION.test(text)) continue;
      this.set(this.known, v.name, v.value, index, 'extracted', v.confidence);
      this.answered.add(v.name);
    }
  }

  private leaksSecret(value: string): boolean {
    if (this.secretValues.size === 0) return false;
    const lower = value.toLowerCase();
    for (const secret of this.secretValues) if (secret.length >= 3 && lower.includes(secret)) return true;
    return false;
  }

  private set(
    target: Map<string, Fact>,
    name: string,
    rawValue: string,
    source: number,
    via: Fact['via'],
    confidence: number,
  ) {
    const value = normaliseFactValue(name, rawValue);
    if (!value || this.leaksSecret(value)) return;
    if (target === this.known) this.recency = [name, ...this.recency.filter((n) => n !== name)];
    const existing = target.get(name);
    if (!existing) {
      target.set(name, { name, value, source, via, confidence });
      return;
    }
    if (sameValue(name, existing.value, value)) return;
    const previous = [...(existing.previous ?? []), existing.value];
    target.set(name, { name, value, source, via, confidence, previous });
  }
}

function sameValue(name: string, a: string, b: string): boolean {
  if (name === 'phone') return digitsOf(a).slice(-10) === digitsOf(b).slice(-10);
  const plain = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
  return plain(a) === plain(b);
}

/**
 * Recent replays, so that asking again for a log that only grew (a brief on every new event, the brief at
 * the handoff of a transcript already replayed) costs the new events only. Events are immutable once
 * appended, so a log that starts with the same events has the same facts up to there. "The same" is by
 * content: a server reads the log from its store again for every request, as fresh objects, and a viewer
 * whose log was masked differently must not get facts read from the unmasked one.
 */
interface Replay {
  events: readonly EventBody[];
  tracker: FactTracker;
}
/**
 * By conversation when the events carry one (a server's stored log), so a desk of many live conversations
 * keeps each one's latest replays instead of a few shared by all; transcripts without ids share one list.
 */
const replays = new Map<string, Replay[]>();
const REPLAYS_PER_LOG = 3;
const REPLAYS_UNKEYED = 8;
const LOGS_LIMIT = 128;

function logKey(events: readonly EventBody[]): string {
  const first = events[0];
  const id = first && 'conversationId' in first ? first.conversationId : undefined;
  return typeof id === 'string' ? `c:${id}` : '';
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let count = 0;
  for (const key in left) {
    if (!Object.hasOwn(left, key)) continue;
    // An absent key and one set to undefined read the same everywhere in the core.
    if (left[key] === undefined) continue;
    count += 1;
    if (!sameJson(left[key], right[key])) return false;
  }
  for (const key in right) if (Object.hasOwn(right, key) && right[key] !== undefined) count -= 1;
  return count === 0;
}

function startsWith(events: readonly EventBody[], prefix: readonly EventBody[]): boolean {
  if (prefix.length > events.length) return false;
  if (prefix.length === 0) return true;
  // The last event differs first when a log is another conversation's or was masked for another viewer.
  const last = prefix.length - 1;
  if (!sameJson(events[last], prefix[last]) || !sameJson(events[0], prefix[0])) return false;
  for (let i = 1; i < last; i += 1) if (!sameJson(events[i], prefix[i])) return false;
  return true;
}

function trackerAfter(events: readonly EventBody[]): FactTracker {
  const key = logKey(events);
  const list = replays.get(key) ?? [];
  // Least recently used conversations go first when the map is full.
  replays.delete(key);
  replays.set(key, list);
  // Longest first: the first that matches is the best, and the others need not be compared.
  const best = [...list]
    .sort((a, b) => b.events.length - a.events.length)
    .find((replay) => startsWith(events, replay.events));
  if (best && best.events.length === events.length) return best.tracker;
  const tracker = best ? best.tracker.clone() : new FactTracker();
  for (let i = tracker.size; i < events.length; i += 1) tracker.push(events[i] as EventBody);
  list.unshift({ events: events.slice(), tracker });
  if (list.length > (key ? REPLAYS_PER_LOG : REPLAYS_UNKEYED)) list.pop();
  if (replays.size > LOGS_LIMIT) {
    const oldest = replays.keys().next().value;
    if (oldest !== undefined) replays.delete(oldest);
  }
  return tracker;
}

/** A tracker that has seen exactly these events, yours to push to: a replay of a log seen before is reused. */
export function factTrackerAfter(events: readonly EventBody[]): FactTracker {
  return trackerAfter(events).clone();
}

/** All facts known after these events: one per name (a later correction replaces an earlier value), in first-seen order. */
export function extractFacts(events: readonly EventBody[]): Fact[] {
  return trackerAfter(events).facts();
}

/** Values read from back-office action results: what is on file, not what the customer said. */
export function factsOnFile(events: readonly EventBody[]): Fact[] {
  return trackerAfter(events).factsOnFile();
}
