/**
 * Value shapes and display normalisation for the standard facts. Shared by extraction, the question
 * classifier, redaction and masking so a value is recognised and shown the same way everywhere.
 */

export const STANDARD_FACTS = [
  'full_name',
  'email',
  'phone',
  'account_id',
  'order_id',
  'username',
  'zip_code',
  'street_address',
  'date_of_birth',
  'card_last4',
  'member_id',
  'amount',
] as const;
export type StandardFactName = (typeof STANDARD_FACTS)[number];

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

export const MONTH_NAME =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';

// Compiled once: parseDate runs on every candidate value of every message.
const MONTH_DAY_YEAR = new RegExp(`(${MONTH_NAME})\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4}|'\\d{2})`);
const DAY_MONTH_YEAR = new RegExp(`(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?(${MONTH_NAME})\\.?,?\\s+(\\d{4}|'\\d{2})`);

/** Dates as people write them; the first match wins, so the unambiguous forms come first. */
export const DATE_SOURCE = [
  String.raw`\d{4}[-/.]\d{1,2}[-/.]\d{1,2}`,
  String.raw`\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?!\d)`,
  `${MONTH_NAME}\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+(?:\\d{4}|'\\d{2})`,
  `\\d{1,2}(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH_NAME}\\.?,?\\s+(?:\\d{4}|'\\d{2})`,
].join('|');

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function expandYear(y: number): number {
  if (y >= 100) return y;
  const now = new Date().getFullYear() % 100;
  return y > now ? 1900 + y : 2000 + y;
}

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1880 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= (days[m - 1] ?? 31);
}

/** ISO yyyy-mm-dd for a date a person wrote; undefined when it is not a whole calendar date. */
export function parseDate(text: string): string | undefined {
  const s = text.trim().toLowerCase();
  let m = /(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})/.exec(s);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validDate(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
  }
  m = /(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?!\d)/.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const y = expandYear(Number(m[3]));
    // Month first, as in the US, unless the first number cannot be a month.
    const [mo, d] = a > 12 && b <= 12 ? [b, a] : [a, b];
    return validDate(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
  }
  m = MONTH_DAY_YEAR.exec(s);
  if (m) {
    const mo = MONTHS[(m[1] ?? '').slice(0, 3)] ?? 0;
    const d = Number(m[2]);
    const y = expandYear(Number((m[3] ?? '').replace("'", '')));
    return validDate(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
  }
  m = DAY_MONTH_YEAR.exec(s);
  if (m) {
    const mo = MONTHS[(m[2] ?? '').slice(0, 3)] ?? 0;
    const d = Number(m[1]);
    const y = expandYear(Number((m[3] ?? '').replace("'", '')));
    return validDate(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : undefined;
  }
  return undefined;
}

export function digitsOf(value: string): string {
  return value.replace(/\D/g, '');
}

/** Luhn check, which every payment card number passes and almost no other long number does by chance. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let n = digits.charCodeAt(i) - 48;
    if (double) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

function titleCaseWord(word: string): string {
  return word
    .split(/([-'’])/)
    .map((part, i, parts) => {
      if (part === '-' || part === "'" || part === '’') return part;
      // "o'brien" → "O'Brien", but "d'angelo" keeps the apostrophe rule the same way.
      const prev = parts[i - 1];
      if (prev === "'" || prev === '’') return part.length > 1 ? part.charAt(0).toUpperCase() + part.slice(1) : part;
      return part.charAt(0).toUpperCase() + part.slice(1);
    })
    .join('');
}

/** Lower-case words inside names: "Maria de la Cruz", "Ludwig van Beethoven". */
export const NAME_PARTICLES = new Set([
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
  'ibn',
  'dos',
  'das',
]);

function trimPunctuation(value: string): string {
  return value.replace(/^[\s"'“”‘’(<[]+|[\s"'“”‘’)>\].,;:!?]+$/g, '');
}

/** The display form of a fact value (see the Fact contract): what the brief shows and the scorer compares. */
export function normaliseFactValue(name: string, raw: string): string {
  const value = trimPunctuation(raw.normalize('NFC').replace(/\s+/g, ' '));
  switch (name) {
    case 'email':
      return value.toLowerCase();
    case 'phone': {
      const phone = raw
        .trim()
        .replace(/\s+/g, ' ')
        .replace(/^(?:tel|phone)[:.]?\s*/i, '');
      return phone.replace(/^[^\d(+]+|[^\d)]+$/g, '');
    }
    case 'account_id':
    case 'order_id':
    case 'member_id': {
      const id = value.replace(/^#\s*/, '').replace(/\s+/g, '');
      return /[a-z]/i.test(id) ? id.toUpperCase() : id;
    }
    case 'zip_code':
      return value.toUpperCase();
    case 'card_last4':
      return digitsOf(value).slice(-4);
    case 'date_of_birth':
      return parseDate(value) ?? value;
    case 'amount': {
      const m = /\d[\d,]*(?:\.\d+)?/.exec(value);
      if (!m) return value;
      const n = Number(m[0].replace(/,/g, ''));
      return Number.isFinite(n) ? n.toFixed(2) : value;
    }
    case 'full_name': {
      const hasUpper = /\p{Lu}/u.test(value);
      const hasLower = /\p{Ll}/u.test(value);
      if (hasUpper && hasLower) return value;
      return value
        .toLowerCase()
        .split(' ')
        .map((word, i) => (i > 0 && NAME_PARTICLES.has(word) ? word : titleCaseWord(word)))
        .join(' ');
    }
    default:
      return value;
  }
}

/** Words that end a name or show that what follows "I'm" is not a name at all. */
export const NOT_NAME_WORDS = new Set(
  `a about above actually after again against all almost already also am an and angry annoyed any anyone anything are
  as asking at available away awful back bad be because been before being below between bit both but by calling can
  cannot checking close closing concerned confused could currently dealing did do does doing done down during each
  either else email every everything excited few fine finished first for from frustrated full get getting glad go going
  gone good great had happy has have having he her here hers herself him himself his how however i if in into is it its
  itself just kind last late let like locked looking lost mad many me mine more most much must my myself need
  needing new no nor not now number of off ok okay on once only or other our out over own phone please pleased pretty
  quite rather ready really right same she should so some still stuck such sure than thank thanks that the their them
  then there these they this those through to too trying under unable unhappy until up upset us very was waiting we
  well were what when where which while who why wish with without worried would yes yet you your yours yourself
  sorry hi hello hey dear sir madam ma'am customer member user account order zip code address card password pin yeah
  yep nope no-one nobody somebody someone calling writing contacting reaching wondering hoping afraid aware positive
  certain unsure tired sick fed helping try tried order ordered returning return refund help issue problem thing
  mother mother's maiden pet dog cat born name username email e-mail today tomorrow yesterday morning evening night
  monday tuesday wednesday thursday friday saturday sunday january february march september
  october november december new old gold silver bronze guest premium member dont don't know knw idk remember forgot
  forget nothing none nope nah okkay okk kk k thx ty lol haha hmm um uh wait hold moment sec second minute done
  correct incorrect true false maybe perhaps probably definitely exactly cool awesome perfect great alright i'd i'll
  i've id ill ive`
    .split(/\s+/)
    .filter(Boolean),
);

const NAME_TOKEN = /^[\p{L}][\p{L}\p{M}'’.-]*$/u;

/** Whether a short text looks like a person's name: 1 to 4 tokens of letters, none a common word. */
export function looksLikeName(text: string, { requireCapital }: { requireCapital: boolean }): boolean {
  const tokens = text.trim().split(/\s+/);
  if (tokens.length < 1 || tokens.length > 4) return false;
  let letters = 0;
  for (const token of tokens) {
    if (!NAME_TOKEN.test(token)) return false;
    const lower = token.toLowerCase().replace(/[.]/g, '');
    if (NOT_NAME_WORDS.has(lower)) return false;
    if (requireCapital && !/^\p{Lu}/u.test(token)) return false;
    letters += token.replace(/[^\p{L}]/gu, '').length;
  }
  return letters >= 2;
}
