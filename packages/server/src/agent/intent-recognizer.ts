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

const CONTRACTIONS: [RegExp, string][] = [
  [/\bcan'?t\b/g, 'cannot'],
  [/\bcant\b/g, 'cannot'],
  [/\bwon'?t\b/g, 'will not'],
  [/\b(\w+)n'?t\b/g, '$1 not'],
  [/\bi'?m\b/g, 'i am'],
  [/\blog-?in\b/g, 'log in'],
  [/\bsign-?in\b/g, 'sign in'],
  // "log into" and "log in to" say the same as "log in".
  [/\binto\b/g, 'in'],
];

export function tokenize(text: string): string[] {
  let value = text.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/[’‘]/g, "'");
  for (const [pattern, replacement] of CONTRACTIONS) value = value.replace(pattern, replacement);
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

/** Damerau-Levenshtein distance, capped: we only care whether it is 0, 1 or 2. */
export function editDistance(a: string, b: string, cap = 3): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...new Array<number>(b.length).fill(0)]);
  const first = rows[0]!;
  for (let j = 0; j <= b.length; j++) first[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i]!;
    const above = rows[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row[j] = best;
    }
  }
  return Math.min(rows[a.length]![b.length]!, cap);
}

function similar(word: string, expected: string): boolean {
  if (word === expected) return true;
  const stemmedWord = stem(word);
  const stemmedExpected = stem(expected);
  if (stemmedWord === stemmedExpected) return true;
  // Digits and short words must match exactly: "pin" is not "pen", "card" is not "cart". Typos keep the
  // first letter far more often than not, and without that rule "bills" would pass for "pills".
  if (expected.length < 5 || /\d/.test(expected) || word[0] !== expected[0]) return false;
  const allowed = expected.length >= 9 ? 2 : 1;
  if (editDistance(word, expected) <= allowed) return true;
  // Short stems are too close to each other ("look" and "lock").
  return stemmedExpected.length >= 5 && editDistance(stemmedWord, stemmedExpected) <= allowed;
}

/** Position of the phrase in the tokens (gaps of up to `slack` words between its tokens), or -1. */
function findPhrase(tokens: readonly string[], phrase: readonly string[], slack = 2): number {
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

function phraseTokens(text: string): string[] {
  const tokens = tokenize(text);
  const meaningful = tokens.filter((token) => !STOPWORDS.has(token));
  return meaningful.length > 0 ? meaningful : tokens;
}

/** Scores each intent against one message; returns the recognised ones in the order they appear. */
export function recognizeIntents(
  text: string,
  intents: readonly { id: string; signals: IntentSignals }[],
  threshold = 1,
): IntentMatch[] {
  const tokens = tokenize(text).filter((token) => !STOPWORDS.has(token));
  const matches: IntentMatch[] = [];
  for (const intent of intents) {
    if (intent.signals.exclude?.some((phrase) => findPhrase(tokens, phraseTokens(phrase), 1) !== -1)) continue;
    let score = 0;
    let position = Number.POSITIVE_INFINITY;
    for (const phrase of intent.signals.phrases) {
      const at = findPhrase(tokens, phraseTokens(phrase.text));
      if (at === -1) continue;
      score += phrase.weight ?? 1;
      position = Math.min(position, at);
    }
    if (score >= threshold) matches.push({ id: intent.id, score, position });
  }
  return matches.sort((left, right) => left.position - right.position || right.score - left.score);
}
