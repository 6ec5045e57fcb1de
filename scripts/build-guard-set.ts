/**
 * Builds the continuity guard's development sets from real conversations:
 *   packages/core/test/fixtures/dev/guard-star.jsonl and guard-star-holdout.jsonl
 *
 * Contexts: the fact sets' conversations (facts-abcd*, facts-star*, built by build-dev-sets.ts from ABCD and
 * STAR), cut at their handoff; what the customer gave before it is their `expect.facts` (labels that never
 * came from our extractor).
 * Agent lines placed after the handoff, all written by real agents:
 * - ask lines: an ABCD agent turn the customer answered with values whose kind is told by their shape
 *   (email, `(xxx) xxx-xxxx` phone, 5-digit zip, 10-digit order id, 10-character account id, username,
 *   a two-word name after a question about a name, a street); STAR wizard questions by their ActionLabel
 *   (ask_name, bank_ask_account_number, bank_ask_dob). Label: `repeat_ask:<fact>` for each asked fact the
 *   context already holds (and `full_name` when the context verified the customer), else clean.
 * - announce lines: an ABCD agent turn followed at once by the back-office action it announced (pull up the
 *   account, verify identity, validate the purchase). Label: `repeat_action:<action>` when the context
 *   already did that action, else clean.
 * - statements: other ABCD agent turns without a question that mention no customer detail: clean.
 * - openings: ABCD agents' first lines. An opening that offers help ("how may I help you today?") is a
 *   restart phrase after a handoff; a bare hello is clean.
 * Dev and held-out use disjoint contexts (the fact sets' own split) and disjoint pools of lines (by dialogue).
 *
 * usage: npx tsx scripts/build-guard-set.ts [--data ../shared/data]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { seededRandom } from './seeded-random.ts';

const { values } = parseArgs({ options: { data: { type: 'string' } } });
const ROOT = resolve(import.meta.dirname, '..');
const DATA = resolve(values.data ?? join(ROOT, '../shared/data'));
const DEV = join(ROOT, 'packages/core/test/fixtures/dev');

type Json = Record<string, unknown>;
interface Event extends Json {
  type: string;
}
interface Labelled {
  text: string;
  kind: 'ask' | 'announce' | 'statement' | 'opening';
  facts?: string[];
  action?: string;
  restart?: boolean;
}

const prng = seededRandom;

// ------------------------------------------------------------------ line pools from ABCD

const ANNOUNCED: Array<[RegExp, string]> = [
  [/^Account has been pulled up/, 'pull_up_account'],
  [/^Identity verification/, 'verify_identity'],
  [/^Purchase validation/, 'validate_purchase'],
];

/** The kinds of values a customer turn holds, told by their shape. */
function valueKinds(answer: string, question: string): string[] {
  const kinds = new Set<string>();
  if (/[\w.+-]+@[\w-]+\.\w+/.test(answer)) kinds.add('email');
  if (/\(\d{3}\)\s?\d{3}-\d{4}|\b\d{3}-\d{3}-\d{4}\b/.test(answer)) kinds.add('phone');
  if (/\b\d{5}\b/.test(answer) && !/\b\d{6,}\b/.test(answer.replace(/\D+\d{5}\b/, ''))) {
    if (/^\D*\d{5}\D*$/.test(answer) || /zip/i.test(answer)) kinds.add('zip_code');
  }
  if (/\b\d{10}\b/.test(answer) && !/\(\d{3}\)/.test(answer)) kinds.add('order_id');
  if (/\b(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*\d)[A-Z0-9]{10}\b/.test(answer)) kinds.add('account_id');
  if (/\b\d{1,5} [a-z0-9]+ (?:st|ave|rd|dr|ln|blvd|way|street|avenue|road|drive|lane)\b/i.test(answer)) {
    kinds.add('street_address');
  }
  if (/user ?name/i.test(answer) || (/user ?name/i.test(question) && /^\s*[a-z]+\d+\s*$/.test(answer))) {
    kinds.add('username');
  }
  if (
    /\bname\b/i.test(question) &&
    !/user ?name/i.test(question) &&
    /^(?:(?:sure,? )?(?:my name is|it'?s|it is|this is|i'?m|name:?)\s+)?[A-Z][a-z]+ [A-Z][a-z]+\.?$/i.test(
      answer.trim(),
    )
  ) {
    kinds.add('full_name');
  }
  return [...kinds];
}

/**
 * What a reader sees an agent line ask for, by the nouns it names. Combined with what the customer's answer
 * held: an agent asking "your full name or account ID?" asks for both even when the customer gave one.
 */
const NAMED: Array<[RegExp, string]> = [
  [/\b(?:full name|your name|first and last name|name on the account)\b/i, 'full_name'],
  [/\b(?:account (?:id|number|#)|acc(?:oun)?t id)\b/i, 'account_id'],
  [/\border (?:id|number|#)\b/i, 'order_id'],
  [/\be-?mail\b/i, 'email'],
  [/\b(?:phone|telephone)\b/i, 'phone'],
  [/\bzip\b/i, 'zip_code'],
  [/\buser ?name\b/i, 'username'],
  [/(?<!e-?mail )\baddress\b/i, 'street_address'],
  [/\b(?:date of birth|birthday|dob)\b/i, 'date_of_birth'],
];

/** Lines that name a back-office step (a reader's reading, not the guard's rules). */
const NAMES_ACTION: Record<string, RegExp> = {
  pull_up_account: /\b(?:pull(?:ing)? up|look(?:ing)? up|locat\w+|find(?:ing)?) (?:your|the) account\b/i,
  verify_identity: /\b(?:verif\w+|confirm\w*|authenticat\w+) (?:your |the )?identity\b/i,
  validate_purchase: /\b(?:validat\w+|verif\w+|confirm\w*) (?:your |the |this )?purchase\b/i,
};

const RESTART_STATEMENT =
  /\b(?:get|gather|collect) (?:some|a few|a little|some basic) (?:information|info|details)\b|what (?:you'?ve|have you) (?:already )?tried/i;

const MENTIONS_DETAIL =
  /\b(?:your|the) (?:full )?(?:name|e-?mail|phone|number|zip|address|user ?name|account id|order id|id)\b|\?/i;

function abcdPools(): { dev: Labelled[]; holdout: Labelled[] } {
  const dialogues = JSON.parse(readFileSync(join(DATA, 'abcd/dev_original.json'), 'utf8')) as Array<[string, string]>;
  const dev: Labelled[] = [];
  const holdout: Labelled[] = [];
  dialogues.forEach(([text], index) => {
    const pool = index % 4 === 0 ? holdout : dev;
    const turns = text
      .split(/\n+/)
      .map((line) => /^(SYS|USR|ACT):([\s\S]*)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ speaker: m[1] ?? '', text: (m[2] ?? '').trim() }))
      .filter((turn) => turn.text.length > 0);
    let seenCustomer = false;
    turns.forEach((turn, i) => {
      if (turn.speaker === 'USR') seenCustomer = true;
      if (turn.speaker !== 'SYS' || turn.text.length < 8 || turn.text.length > 220) return;
      if (!seenCustomer) {
        pool.push({
          text: turn.text,
          kind: 'opening',
          restart: /\b(?:help|assist|do for you|what brings|how can|how may)\b/i.test(turn.text),
        });
        return;
      }
      const next = turns[i + 1];
      if (next?.speaker === 'ACT') {
        const action = ANNOUNCED.find(([re]) => re.test(next.text))?.[1];
        if (
          action &&
          !/\?/.test(turn.text) &&
          !MENTIONS_DETAIL.test(turn.text) &&
          NAMES_ACTION[action]?.test(turn.text)
        ) {
          pool.push({ text: turn.text, kind: 'announce', action });
        }
        return;
      }
      const answers: string[] = [];
      for (let j = i + 1; j < turns.length && turns[j]?.speaker === 'USR'; j++) answers.push(turns[j]?.text ?? '');
      const kinds = new Set(answers.flatMap((answer) => valueKinds(answer, turn.text)));
      if (kinds.size > 0 && /\?|please|need|provide|confirm/i.test(turn.text)) {
        const named = NAMED.filter(([re]) => re.test(turn.text)).map(([, fact]) => fact);
        // A line that names none of what was answered ("can I get that from you?") cannot be labelled.
        if (!named.some((fact) => kinds.has(fact))) return;
        pool.push({ text: turn.text, kind: 'ask', facts: [...new Set(named)] });
        return;
      }
      if (answers.length === 0 || /\?/.test(turn.text) || MENTIONS_DETAIL.test(turn.text)) return;
      if (/\b(?:help|assist)\b/i.test(turn.text)) return;
      if (turn.text.split(/\s+/).length < 5) return;
      pool.push({ text: turn.text, kind: 'statement' });
    });
  });
  return { dev, holdout };
}

// ------------------------------------------------------------------ line pools from STAR

const STAR_ASKS: Record<string, string> = {
  ask_name: 'full_name',
  bank_ask_account_number: 'account_id',
  bank_ask_dob: 'date_of_birth',
};

function starPools(): { dev: Labelled[]; holdout: Labelled[] } {
  const dir = join(DATA, 'star/dialogues_bank');
  const dev: Labelled[] = [];
  const holdout: Labelled[] = [];
  const seen = new Set<string>();
  readdirSync(dir)
    .sort()
    .forEach((file, index) => {
      const dialogue = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { Events: Json[] };
      for (const event of dialogue.Events) {
        const label = typeof event.ActionLabel === 'string' ? STAR_ASKS[event.ActionLabel] : undefined;
        const text = typeof event.Text === 'string' ? event.Text.trim() : '';
        if (!label || !text || seen.has(text)) continue;
        seen.add(text);
        (index % 2 === 0 ? dev : holdout).push({ text, kind: 'ask', facts: [label] });
      }
    });
  // Few distinct wizard phrasings exist: both splits get every one.
  return { dev: [...dev, ...holdout], holdout: [...dev, ...holdout] };
}

// ------------------------------------------------------------------ contexts from the fact sets

interface Context {
  id: string;
  industry?: string;
  events: Event[];
  known: Set<string>;
  actions: Set<string>;
  verified: boolean;
  facts: Record<string, string>;
  allow: Record<string, string>;
  secrets: string[];
}

function contexts(file: string): Context[] {
  const out: Context[] = [];
  for (const line of readFileSync(join(DEV, file), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const transcript = JSON.parse(line) as {
      id: string;
      industry?: string;
      events: Event[];
      expect: { facts: Record<string, string>; allow?: Record<string, string> };
      secrets?: string[];
    };
    const cut = transcript.events.findIndex((event) => event.type === 'handoff');
    if (cut < 0) continue;
    const events = transcript.events.slice(0, cut + 1);
    const known = new Set([...Object.keys(transcript.expect.facts), ...Object.keys(transcript.expect.allow ?? {})]);
    if (known.size === 0) continue;
    const actions = new Set(
      events
        .filter((event) => event.type === 'action' && event.outcome !== 'blocked')
        .map((event) => String(event.name)),
    );
    const verified =
      events.some((event) => event.type === 'identity' && event.result === 'verified') ||
      events.some(
        (event) => event.type === 'action' && /verif|authent/.test(String(event.name)) && event.outcome === 'succeeded',
      );
    const context: Context = {
      id: transcript.id,
      events,
      known,
      actions,
      verified,
      facts: transcript.expect.facts,
      allow: transcript.expect.allow ?? {},
      secrets: transcript.secrets ?? [],
    };
    if (transcript.industry) context.industry = transcript.industry;
    out.push(context);
  }
  return out;
}

function label(line: Labelled, context: Context): string[] {
  const labels = labelKind(line, context);
  // Whatever the line's kind, naming a step the context already took (to verify the identity again, to
  // pull up the account again) repeats it.
  for (const [action, pattern] of Object.entries(NAMES_ACTION)) {
    if (
      context.actions.has(action) &&
      pattern.test(line.text) &&
      !/\b(?:I(?:'ve| have)|found|pulled|verified|validated)\b/i.test(line.text)
    ) {
      labels.push(`repeat_action:${action}`);
    }
  }
  if (line.kind === 'statement' && RESTART_STATEMENT.test(line.text)) labels.push('restart_phrase');
  return [...new Set(labels)];
}

function labelKind(line: Labelled, context: Context): string[] {
  switch (line.kind) {
    case 'ask': {
      const labels = new Set<string>();
      for (const fact of line.facts ?? []) {
        if (context.known.has(fact) || (fact === 'full_name' && context.verified)) labels.add(`repeat_ask:${fact}`);
      }
      return [...labels];
    }
    case 'announce':
      return line.action && context.actions.has(line.action) ? [`repeat_action:${line.action}`] : [];
    case 'opening':
      return line.restart ? ['restart_phrase'] : [];
    default:
      return [];
  }
}

function build(contextFiles: string[], pool: Labelled[], seed: number, perSource: number): string[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const byKind = (kind: Labelled['kind']) => pool.filter((line) => line.kind === kind);
  const asks = byKind('ask');
  const announces = byKind('announce');
  const statements = byKind('statement');
  const openings = byKind('opening');
  const lines: string[] = [];
  for (const file of contextFiles) {
    const all = contexts(file);
    const chosen = [...all].sort(() => random() - 0.5).slice(0, perSource);
    for (const context of chosen) {
      // Asks for facts this context holds (repeats) and for facts it does not (clean), so both occur.
      const holding = asks.filter((line) => line.facts?.some((fact) => context.known.has(fact)));
      const drafts: Labelled[] = [
        pick(holding.length ? holding : asks),
        pick(asks),
        pick(announces.length && random() < 0.6 ? announces : statements),
        pick(random() < 0.5 ? openings : statements),
      ];
      const events = [...context.events];
      const findings: Record<string, string[]> = {};
      for (const draft of drafts) {
        findings[String(events.length)] = label(draft, context);
        events.push({ type: 'message', author: 'agent', text: draft.text });
      }
      lines.push(
        JSON.stringify({
          id: `guard-${context.id}`,
          ...(context.industry ? { industry: context.industry } : {}),
          events,
          expect: { facts: context.facts, allow: context.allow, findings },
          secrets: context.secrets,
        }),
      );
    }
  }
  return lines;
}

const abcd = abcdPools();
const star = starPools();
const dev = build(['facts-abcd.jsonl', 'facts-star.jsonl'], [...abcd.dev, ...star.dev], 7, 60);
const holdout = build(
  ['facts-abcd-holdout.jsonl', 'facts-star-holdout.jsonl'],
  [...abcd.holdout, ...star.holdout],
  11,
  50,
);
writeFileSync(join(DEV, 'guard-star.jsonl'), `${dev.join('\n')}\n`);
writeFileSync(join(DEV, 'guard-star-holdout.jsonl'), `${holdout.join('\n')}\n`);
const counts = (pool: Labelled[]) =>
  ['ask', 'announce', 'statement', 'opening']
    .map((kind) => `${kind}=${pool.filter((l) => l.kind === kind).length}`)
    .join(' ');
console.log(`pools: dev ${counts([...abcd.dev, ...star.dev])}; holdout ${counts([...abcd.holdout, ...star.holdout])}`);
console.log(`guard-star.jsonl: ${dev.length} conversations; guard-star-holdout.jsonl: ${holdout.length}`);
