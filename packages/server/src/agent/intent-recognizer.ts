/**
 * Recognises what a customer wants from how people really write: phrases matched token by token with
 * light stemming and typo tolerance (edit distance), a score per intent, and where in the message each
 * intent starts so several intents in one message are handled in the order they were written.
 */

export interface IntentSignals {
  /** Phrases that point at the intent; every token must appear, in order, close together. */
  phrases: readonly { text: string; weight?: number }[];
  /** Phrases that rule the intent out for this message ("not about my card"). */
  exclude?: readonly string[];
}

export interface IntentMatch {
  id: string;
  score: number;
  /** Token index where the first matching phrase starts. */
  position: number;
}

const STOPWORDS = new Set([
  'a',
  'an',
  'the',
  'my',
  'to',
  'of',
  'is',
  'it',
  'i',
  'me',
  'am',
  'be',
  'for',
  'and',
  'please',
]);

const NOT_ASCII = /[\u0080-\uffff]/;

/** Each with what a text must contain for it to match: most messages skip most patterns. */
const CONTRACTIONS: [pattern: RegExp, replacement: string, cues: readonly string[]][] = [
  [/\bcan'?t\b/g, 'cannot', ['can']],
  [/\bcant\b/g, 'cannot', ['can']],
  [/\bwon'?t\b/g, 'will not', ['won']],
  [/\b(\w+)n'?t\b/g, '$1 not', ['nt', "n't"]],
  [/\bi'?m\b/g, 'i am', ['im', "i'm"]],
  [/\blog-?in\b/g, 'log in', ['log']],
  [/\bsign-?in\b/g, 'sign in', ['sign']],
  // "log into" and "log in to" say the same as "log in".
  [/\binto\b/g, 'in', ['into']],
];

export function tokenize(text: string): string[] {
  let value = text.toLowerCase();
  // Only text beyond ASCII has accents to take off.
  if (NOT_ASCII.test(value)) value = value.normalize('NFD').replace(/\p{M}/gu, '');
  value = value.replace(/[’‘]/g, "'");
  for (const [pattern, replacement, cues] of CONTRACTIONS) {
    if (cues.some((cue) => value.includes(cue))) value = value.replace(pattern, replacement);
  }
  return value
    .replace(/[^a-z0-9'\s]/g, ' ')
    .replace(/'/g, '')
    .split(/\s+/)
    .filter((token) => token !== '');
}

export function stem(token: string): string {
  if (token.length <= 3) return token;
  for (const suffix of ['ingly', 'edly', 'ing', 'ies', 'ied', 'ed', 'es', 'ly', 's']) {
    if (token.endsWith(suffix) && token.length - suffix.length >= 3) {
      const base = token.slice(0, -suffix.length);
      return suffix === 'ies' || suffix === 'ied' ? `${base}y` : base;
    }
  }
  return token;
}

// Reused between calls (single-threaded): the distance runs on every fuzzy comparison of every turn.
let before: number[] = [];
let above: number[] = [];
let row: number[] = [];

/**
 * Damerau-Levenshtein (optimal string alignment) distance, capped: we only care whether it is 0, 1 or 2.
 * Three rolling rows instead of a matrix, and it stops as soon as two rows in a row are all at the cap,
 * because no later cell can then come back under it.
 */
export function editDistance(a: string, b: string, cap = 3): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  if (row.length <= b.length) {
    before = new Array<number>(b.length + 1).fill(0);
    above = new Array<number>(b.length + 1).fill(0);
    row = new Array<number>(b.length + 1).fill(0);
  }
  for (let j = 0; j <= b.length; j++) above[j] = j;
  let aboveMin = 0;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const bj = b.charCodeAt(j - 1);
      const cost = ai === bj ? 0 : 1;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj)
        best = Math.min(best, before[j - 2]! + 1);
      row[j] = best;
      if (best < rowMin) rowMin = best;
    }
    if (rowMin >= cap && aboveMin >= cap) return cap;
    aboveMin = rowMin;
    const oldest = before;
    before = above;
    above = row;
    row = oldest;
  }
  return Math.min(above[b.length]!, cap);
}

/** A token with its stem, computed once. */
interface Word {
  text: string;
  stem: string;
}

/**
 * A set of first letters, as bits (a-z, then any digit, then anything else). Tokens are only similar
 * when their first letters are the same (see `similar`), so a phrase with a first letter the message
 * lacks cannot be found in it.
 */
function initialBit(token: string): number {
  const code = token.charCodeAt(0);
  if (code >= 97 && code <= 122) return 1 << (code - 97);
  return code >= 48 && code <= 57 ? 1 << 26 : 1 << 27;
}

function initialsOf(tokens: readonly Word[]): number {
  let bits = 0;
  for (const token of tokens) bits |= initialBit(token.text);
  return bits;
}

/** A phrase token with what the fuzzy comparison needs to know about it, computed once per phrase. */
interface Expected extends Word {
  /** Edit distance tolerated, 0 when the token must match exactly (short words, digits). */
  allowed: number;
}

function similar(word: Word, expected: Expected): boolean {
  if (word.text === expected.text || word.stem === expected.stem) return true;
  // Digits and short words must match exactly: "pin" is not "pen", "card" is not "cart". Typos keep the
  // first letter far more often than not, and without that rule "bills" would pass for "pills".
  const allowed = expected.allowed;
  if (allowed === 0 || word.text.charCodeAt(0) !== expected.text.charCodeAt(0)) return false;
  if (editDistance(word.text, expected.text, allowed + 1) <= allowed) return true;
  // Short stems are too close to each other ("look" and "lock").
  return expected.stem.length >= 5 && editDistance(word.stem, expected.stem, allowed + 1) <= allowed;
}

/** Position of the phrase in the tokens (gaps of up to `slack` words between its tokens), or -1. */
function findPhrase(tokens: readonly Word[], phrase: readonly Expected[], slack = 2): number {
  if (phrase.length === 0) return -1;
  for (let start = 0; start < tokens.length; start++) {
    if (!similar(tokens[start]!, phrase[0]!)) continue;
    let at = start;
    let matched = true;
    for (let k = 1; k < phrase.length; k++) {
      let found = -1;
      for (let next = at + 1; next <= Math.min(tokens.length - 1, at + 1 + slack); next++) {
        if (similar(tokens[next]!, phrase[k]!)) {
          found = next;
          break;
        }
      }
      if (found === -1) {
        matched = false;
        break;
      }
      at = found;
    }
    if (matched) return start;
  }
  return -1;
}

/**
 * Bounded memo: playbook phrases are a fixed vocabulary, and the playbook agent re-reads every earlier
 * customer message on each turn, so the same texts are tokenised again and again.
 */
class Memo<T> {
  readonly #entries = new Map<string, T>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(key: string, compute: (key: string) => T): T {
    const found = this.#entries.get(key);
    if (found !== undefined) {
      // Most recently used last, so the oldest is evicted first.
      this.#entries.delete(key);
      this.#entries.set(key, found);
      return found;
    }
    const value = compute(key);
    if (this.#entries.size >= this.#limit) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
    return value;
  }
}

const phraseMemo = new Memo<readonly Expected[]>(5_000);
const messageMemo = new Memo<MessageWords>(2_000);

interface MessageWords {
  words: readonly Word[];
  initials: number;
}

function phraseTokens(text: string): readonly Expected[] {
  return phraseMemo.get(text, () => {
    const tokens = tokenize(text);
    const meaningful = tokens.filter((token) => !STOPWORDS.has(token));
    return (meaningful.length > 0 ? meaningful : tokens).map((token) => ({
      text: token,
      stem: stem(token),
      allowed: token.length < 5 || /\d/.test(token) ? 0 : token.length >= 9 ? 2 : 1,
    }));
  });
}

function messageTokens(text: string): MessageWords {
  return messageMemo.get(text, () => {
    const words = tokenize(text)
      .filter((token) => !STOPWORDS.has(token))
      .map((token) => ({ text: token, stem: stem(token) }));
    return { words, initials: initialsOf(words) };
  });
}

/** Scores each intent against one message; returns the recognised ones in the order they appear. */
export function recognizeIntents(
  text: string,
  intents: readonly { id: string; signals: IntentSignals }[],
  threshold = 1,
): IntentMatch[] {
  const matches: IntentMatch[] = [];
  const message = messageTokens(text);
  for (const intent of intents) {
    const { excluded, score, position } = scoreOf(message, intent.signals);
    if (!excluded && score >= threshold) matches.push({ id: intent.id, score, position });
  }
  return matches.sort((left, right) => left.position - right.position || right.score - left.score);
}

interface Score {
  /** An exclude phrase ruled the intent out for this message. */
  excluded: boolean;
  score: number;
  position: number;
}

/** An intent's phrases as tokens, by the signals object (playbooks never change it): tokenised once. */
interface CompiledPhrase {
  tokens: readonly Expected[];
  /** First letters of its tokens (see `initialBit`). */
  initials: number;
}

interface CompiledSignals {
  exclude: readonly CompiledPhrase[];
  phrases: readonly (CompiledPhrase & { weight: number })[];
}

function compilePhrase(text: string): CompiledPhrase {
  const tokens = phraseTokens(text);
  return { tokens, initials: initialsOf(tokens) };
}

/** Whether the phrase may be in the message: every first letter it needs is there. */
function mayContain(message: MessageWords, phrase: CompiledPhrase): boolean {
  return (phrase.initials & ~message.initials) === 0;
}

const compiledSignals = new WeakMap<IntentSignals, CompiledSignals>();

function compile(signals: IntentSignals): CompiledSignals {
  let compiled = compiledSignals.get(signals);
  if (!compiled) {
    compiled = {
      exclude: (signals.exclude ?? []).map(compilePhrase),
      phrases: signals.phrases.map((phrase) => ({ ...compilePhrase(phrase.text), weight: phrase.weight ?? 1 })),
    };
    compiledSignals.set(signals, compiled);
  }
  return compiled;
}

function scoreOf(message: MessageWords, signals: IntentSignals): Score {
  const { exclude, phrases } = compile(signals);
  const tokens = message.words;
  if (exclude.some((phrase) => mayContain(message, phrase) && findPhrase(tokens, phrase.tokens, 1) !== -1)) {
    return { excluded: true, score: 0, position: Number.POSITIVE_INFINITY };
  }
  let score = 0;
  let position = Number.POSITIVE_INFINITY;
  for (const phrase of phrases) {
    if (!mayContain(message, phrase)) continue;
    const at = findPhrase(tokens, phrase.tokens);
    if (at === -1) continue;
    score += phrase.weight;
    position = Math.min(position, at);
  }
  return { excluded: false, score, position };
}
