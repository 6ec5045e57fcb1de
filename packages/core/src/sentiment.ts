import { z } from 'zod';
import type { EventBody } from './events.ts';

/**
 * Lexicon-based sentiment and frustration for customer messages. Deterministic and dependency-free so it
 * runs in the browser on every event; a general lexicon package (AFINN-style) was not measured better on
 * support language, where frustration is carried by "again", "still not", "twice" more than by valence.
 */

export const SentimentLabel = z.enum(['positive', 'neutral', 'negative', 'frustrated']);
export type SentimentLabel = z.infer<typeof SentimentLabel>;

export const SentimentTrend = z.enum(['rising', 'steady', 'falling']);
export type SentimentTrend = z.infer<typeof SentimentTrend>;

export interface MessageSentiment {
  /** Valence in [-1, 1]. */
  score: number;
  /** Frustration in [0, 1]. */
  frustration: number;
  /** The words and signs that moved the scores, for the brief. */
  cues: string[];
}

const POSITIVE: Record<string, number> = {
  thanks: 1,
  thank: 1,
  great: 1,
  perfect: 1,
  awesome: 1,
  excellent: 1,
  appreciate: 1,
  helpful: 1,
  good: 0.6,
  nice: 0.6,
  happy: 0.8,
  glad: 0.8,
  love: 1,
  wonderful: 1,
  works: 0.6,
  worked: 0.6,
  resolved: 0.6,
  fixed: 0.6,
};

const NEGATIVE: Record<string, number> = {
  not: 0,
  bad: 0.7,
  wrong: 0.6,
  problem: 0.4,
  issue: 0.3,
  broken: 0.7,
  fail: 0.6,
  failed: 0.6,
  failing: 0.6,
  error: 0.5,
  unhappy: 0.8,
  disappointed: 0.9,
  annoyed: 0.9,
  angry: 1,
  upset: 0.9,
  worried: 0.6,
  confused: 0.5,
  terrible: 1,
  awful: 1,
  horrible: 1,
  worst: 1,
  hate: 1,
  never: 0.4,
  lost: 0.4,
  stuck: 0.6,
  cant: 0.4,
  cannot: 0.4,
  unacceptable: 1,
  scam: 1,
};

/** Words that signal frustration (weight in frustration units). */
const FRUSTRATION: Record<string, number> = {
  ridiculous: 0.6,
  absurd: 0.6,
  unbelievable: 0.5,
  useless: 0.6,
  pointless: 0.5,
  hopeless: 0.5,
  pathetic: 0.6,
  joke: 0.3,
  again: 0.3,
  twice: 0.4,
  thrice: 0.5,
  still: 0.1,
  already: 0.2,
  seriously: 0.35,
  frustrated: 0.6,
  frustrating: 0.6,
  fed: 0.2,
  sick: 0.3,
  tired: 0.3,
  waste: 0.4,
  waiting: 0.2,
  forever: 0.35,
  hours: 0.15,
  unacceptable: 0.5,
  annoying: 0.5,
  annoyed: 0.5,
  angry: 0.5,
  furious: 0.7,
  terrible: 0.4,
  worst: 0.5,
  nothing: 0.15,
  keeps: 0.2,
  keep: 0.15,
};

const SWEAR =
  /\b(?:wtf|ffs|damn(?:ed|it)?|hell|crap|crappy|shit\w*|bs|bullshit|fuck\w*|screw(?:ed)?|sucks?|bloody|omg)\b/i;
const PHRASES: ReadonlyArray<{ pattern: RegExp; frustration: number; score: number; cue: string }> = [
  {
    pattern: /\b(?:still|yet again|once again)\s+(?:not|doesn'?t|isn'?t|won'?t|can'?t|cannot|no)\b/i,
    frustration: 0.3,
    score: -0.4,
    cue: 'still not',
  },
  {
    pattern: /\b(?:times|twice|again and again|over and over|every time|(?:three|3|four|4|five|5) times)\b/i,
    frustration: 0.3,
    score: -0.2,
    cue: 'repeated',
  },
  {
    pattern: /\b(?:i(?:'ve| have)|we(?:'ve| have))\s+(?:already|done this|tried (?:this|that|everything))/i,
    frustration: 0.35,
    score: -0.2,
    cue: 'already tried',
  },
  {
    pattern: /\b(?:not working|doesn'?t work|does not work|didn'?t work|did not work|won'?t work|isn'?t working)\b/i,
    frustration: 0.2,
    score: -0.4,
    cue: 'not working',
  },
  {
    pattern: /\b(?:this is|that'?s|it'?s) (?:ridiculous|a joke|insane|crazy|unacceptable|absurd|nonsense)\b/i,
    frustration: 0.3,
    score: -0.5,
    cue: 'this is ridiculous',
  },
  { pattern: /\bwaste of (?:my )?time\b/i, frustration: 0.4, score: -0.5, cue: 'waste of time' },
  { pattern: /\b(?:fed up|sick of|tired of|had enough)\b/i, frustration: 0.45, score: -0.5, cue: 'fed up' },
  {
    pattern: /\b(?:cancel|close) (?:my|the) (?:account|subscription|card)\b.*\b(?:done|enough|never)\b/i,
    frustration: 0.3,
    score: -0.4,
    cue: 'threat to leave',
  },
];

/**
 * Runs of question marks ("why???", "hello?!?") are impatience; a run of exclamation marks is too, unless
 * the message is warm ("Great, thank you!!" is delight, not frustration).
 */
const IMPATIENT_QUESTION = /\?{2,}|\?!|!\?/;
const EXCLAMATIONS = /!{2,}/;

/** The lexicons as maps: a token is looked up in each, and a plain object would also answer "constructor". */
const POSITIVE_WORDS = new Map(Object.entries(POSITIVE));
const NEGATIVE_WORDS = new Map(Object.entries(NEGATIVE));
const FRUSTRATION_WORDS = new Map(Object.entries(FRUSTRATION));

const NEGATORS = new Set(['not', "n't", 'no', 'never', 'dont', 'doesnt', 'didnt', 'isnt', 'wasnt', 'cant', 'wont']);

function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/n't\b/g, ' not')
    .split(/[^a-z0-9']+/)
    .map((token) => token.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

/**
 * Mostly capitals, or two shouted words (acronyms aside). Letters are counted, not copied out, and the
 * words are looked for only when there are capitals enough for two of them.
 */
function shouting(text: string): boolean {
  let letters = 0;
  let upper = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 65 && code <= 90) {
      letters++;
      upper++;
    } else if (code >= 97 && code <= 122) letters++;
  }
  if (letters >= 8 && upper / letters > 0.6) return true;
  if (upper < 6) return false;
  const shouted = text
    .match(/\b[A-Z]{3,}\b/g)
    ?.filter((word) => !/^(?:PIN|OTP|ATM|SMS|MFA|USA|API|URL|ID)$/.test(word));
  return shouted !== undefined && shouted.length >= 2;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * Scores by text, so a log read again (the escalation policy on every turn, the brief on every event)
 * scores each message once. Bounded: emptied when full, like the other per-text caches of the core.
 */
const scored = new Map<string, Readonly<MessageSentiment>>();
const SCORED_LIMIT = 4000;

/** The shared, cached score of `text`: `scoreMessage` copies `cues` before handing it out. */
function cachedScore(text: string): Readonly<MessageSentiment> {
  let score = scored.get(text);
  if (!score) {
    if (scored.size >= SCORED_LIMIT) scored.clear();
    score = computeScore(text);
    scored.set(text, score);
  }
  return score;
}

/** Scores one customer message. */
export function scoreMessage(text: string): MessageSentiment {
  const { score, frustration, cues } = cachedScore(text);
  return { score, frustration, cues: [...cues] };
}

function computeScore(text: string): MessageSentiment {
  const tokens = tokenize(text);
  const cues: string[] = [];
  let positive = 0;
  let negative = 0;
  let frustration = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const negated = i > 0 && NEGATORS.has(tokens[i - 1] ?? '');
    const pos = POSITIVE_WORDS.get(token);
    const neg = NEGATIVE_WORDS.get(token);
    if (pos !== undefined) {
      if (negated) negative += pos * 0.8;
      else positive += pos;
    }
    if (neg !== undefined && neg > 0) {
      if (negated) positive += neg * 0.3;
      else negative += neg;
    }
    const f = FRUSTRATION_WORDS.get(token);
    if (f !== undefined) {
      frustration += f;
      cues.push(token);
    }
  }
  for (const phrase of PHRASES) {
    if (phrase.pattern.test(text)) {
      frustration += phrase.frustration;
      negative += -phrase.score;
      cues.push(phrase.cue);
    }
  }
  if (IMPATIENT_QUESTION.test(text) || (EXCLAMATIONS.test(text) && (positive === 0 || negative > 0))) {
    frustration += 0.3;
    negative += 0.2;
    cues.push('repeated punctuation');
  }
  if (SWEAR.test(text)) {
    frustration += 0.5;
    negative += 0.8;
    cues.push('swearing');
  }
  if (shouting(text)) {
    frustration += 0.35;
    negative += 0.3;
    cues.push('caps');
  }
  if (/!/.test(text) && frustration > 0) frustration += 0.1;
  const total = positive + negative;
  const score = total === 0 ? 0 : clamp((positive - negative) / Math.max(total, 1.5), -1, 1);
  return {
    score: Math.round(score * 100) / 100,
    frustration: Math.round(clamp(frustration, 0, 1) * 100) / 100,
    cues: [...new Set(cues)],
  };
}

export const Sentiment = z.object({
  label: SentimentLabel,
  /** Valence of the recent customer messages in [-1, 1]. */
  score: z.number(),
  /** Frustration of the latest customer message in [0, 1]. */
  frustration: z.number(),
  trend: SentimentTrend,
  evidence: z.array(z.object({ source: z.number().int().nonnegative(), text: z.string(), cues: z.array(z.string()) })),
});
export type Sentiment = z.infer<typeof Sentiment>;

export interface SentimentOptions {
  /** How many of the latest customer messages count. */
  window?: number;
  /** Frustration at or above which the label is `frustrated`. */
  frustratedAt?: number;
}

export interface CustomerScore extends MessageSentiment {
  source: number;
  text: string;
}

/** Scores every customer message in `events` (0-based source indexes). */
export function scoreCustomerMessages(events: readonly EventBody[]): CustomerScore[] {
  const scores: CustomerScore[] = [];
  events.forEach((event, source) => {
    if (event.type === 'message' && event.author === 'customer') {
      scores.push({ ...scoreMessage(event.text), source, text: event.text });
    }
  });
  return scores;
}

/** The last `count` customer messages, scored: only the window counts, so a long log is not scored whole. */
function lastCustomerScores(events: readonly EventBody[], count: number): CustomerScore[] {
  const scores: CustomerScore[] = [];
  for (let source = events.length - 1; source >= 0 && scores.length < count; source--) {
    const event = events[source];
    if (event?.type === 'message' && event.author === 'customer') {
      scores.push({ ...scoreMessage(event.text), source, text: event.text });
    }
  }
  return scores.reverse();
}

/**
 * The frustration trend over the last messages: compares the latest message with the mean of the ones
 * before it in the window, so one calm message after an outburst reads as falling.
 */
export function frustrationTrend(values: readonly number[]): SentimentTrend {
  if (values.length < 2) return 'steady';
  const last = values[values.length - 1] ?? 0;
  const before = values.slice(0, -1);
  const mean = before.reduce((sum, value) => sum + value, 0) / before.length;
  if (last - mean >= 0.15) return 'rising';
  if (mean - last >= 0.15) return 'falling';
  return 'steady';
}

export function analyzeSentiment(events: readonly EventBody[], options: SentimentOptions = {}): Sentiment {
  const window = options.window ?? 4;
  const frustratedAt = options.frustratedAt ?? 0.7;
  const recent =
    Number.isInteger(window) && window > 0
      ? lastCustomerScores(events, window)
      : scoreCustomerMessages(events).slice(-window);
  if (recent.length === 0) return { label: 'neutral', score: 0, frustration: 0, trend: 'steady', evidence: [] };
  // Later messages weigh more: the customer's mood now matters more than at the start.
  let weighted = 0;
  let weights = 0;
  recent.forEach((message, i) => {
    const weight = i + 1;
    weighted += message.score * weight;
    weights += weight;
  });
  const score = Math.round((weighted / weights) * 100) / 100;
  const last = recent[recent.length - 1];
  const frustration = last?.frustration ?? 0;
  const peak = Math.max(...recent.slice(-2).map((message) => message.frustration));
  const trend = frustrationTrend(recent.map((message) => message.frustration));
  let label: SentimentLabel = 'neutral';
  // A calm message after an outburst ends the frustrated label; a mild one keeps it.
  if (
    frustration >= frustratedAt ||
    (trend !== 'falling' && peak >= frustratedAt) ||
    (trend === 'rising' && frustration >= frustratedAt * 0.9)
  ) {
    label = 'frustrated';
  } else if (score <= -0.2) label = 'negative';
  else if (score >= 0.3) label = 'positive';
  const evidence = recent
    .filter((message) => message.cues.length > 0)
    .slice(-3)
    .map((message) => ({ source: message.source, text: message.text, cues: message.cues }));
  return { label, score, frustration, trend, evidence };
}
