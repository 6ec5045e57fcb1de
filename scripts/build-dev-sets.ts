/**
 * Builds the fact development sets from the public ABCD and STAR data (shared/data) into
 * packages/core/test/fixtures/dev: facts-abcd.jsonl, facts-abcd-holdout.jsonl, facts-star.jsonl,
 * facts-star-holdout.jsonl, in the transcript format of DESIGN.md with an `expect` block.
 *
 *   npx tsx scripts/build-dev-sets.ts [--data DIR] [--abcd-size N] [--star-size N]
 *
 * Labels come from the datasets, never from our extractor: ABCD's scenario fields and the values its agents
 * typed into the back office (ACT lines), the fixed shapes of ABCD's generated values, and STAR's wizard
 * queries and user instructions. A value is expected only when it literally occurs in a customer turn before
 * the handoff; conversations whose labels would be ambiguous are left out rather than guessed.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './seeded-random.ts';

type Json = Record<string, unknown>;
interface Event {
  type: string;
  [key: string]: unknown;
}
interface Line {
  id: string;
  industry: string;
  events: Event[];
  expect: { facts: Record<string, string>; allow: Record<string, string>; findings: Record<string, string[]> };
  secrets: string[];
}

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const DATA = option('--data') ?? join(root, '..', 'shared', 'data');
const ABCD_SIZE = Number(option('--abcd-size') ?? 150);
const STAR_SIZE = Number(option('--star-size') ?? 100);
const OUT = join(root, 'packages', 'core', 'test', 'fixtures', 'dev');

/** Deterministic pseudo-random numbers, so a rebuild gives the same files. */
const random = seededRandom;

function shuffle<T>(items: T[], seed: number): T[] {
  const next = random(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Where the handoff goes: after a random turn in the second half, never before the first customer turn. */
function handoffAfter(turns: number, firstCustomer: number, seed: number): number {
  const next = random(seed * 7919 + 17);
  const low = Math.max(firstCustomer + 1, Math.ceil(turns * 0.5));
  return Math.min(turns, low + Math.floor(next() * (turns - low + 1)));
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ------------------------------------------------------------------------------------------------ ABCD

const ACTIONS: Array<[RegExp, string]> = [
  [/^Account has been pulled up/, 'pull_up_account'],
  [/^Identity verification/, 'verify_identity'],
  [/^Purchase validation/, 'validate_purchase'],
  [/^Searching the FAQ|^System Action: search|^Agent is looking for/, 'search_faq'],
  [/^FAQ answer related/, 'select_faq_answer'],
  [/^Querying the system/, 'query_system'],
  [/^A refund has been made/, 'offer_refund'],
  [/^A link will be sent/, 'send_link'],
  [/^A promo code has been created/, 'create_promo_code'],
  [/^Details of .* have been entered/, 'enter_details'],
  [/^A password has been generated/, 'reset_password'],
  [/^Membership level of/, 'record_membership_level'],
  [/^Shipping status of/, 'record_shipping_status'],
  [/^A reason of/, 'record_reason'],
  [/^Order has been updated/, 'update_order'],
  [/^Account has been updated/, 'update_account'],
  [/has been notified/, 'notify_team'],
];

function abcdAction(text: string): Event {
  const name = ACTIONS.find(([re]) => re.test(text))?.[1] ?? 'record_note';
  return { type: 'action', name, actor: 'ai', outcome: 'succeeded', result: { message: text } };
}

interface AbcdDialogue {
  id: string;
  turns: Array<{ speaker: 'SYS' | 'USR' | 'ACT'; text: string }>;
  scenario?: Json;
}

function abcdDialogues(): AbcdDialogue[] {
  const dev = JSON.parse(readFileSync(join(DATA, 'abcd', 'dev_original.json'), 'utf8')) as Array<[string, string]>;
  const out: AbcdDialogue[] = dev.map(([text], i) => ({
    id: `abcd-dev-${i}`,
    turns: text
      .split('\n\n')
      .map((line) => /^(SYS|USR|ACT):([\s\S]*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null && (m[2] ?? '').trim().length > 0)
      .map((m) => ({ speaker: m[1] as 'SYS' | 'USR' | 'ACT', text: (m[2] ?? '').trim() })),
  }));
  const sample = JSON.parse(readFileSync(join(DATA, 'abcd', 'abcd_sample.json'), 'utf8')) as Array<{
    convo_id: number;
    scenario: Json;
    original: Array<[string, string]>;
  }>;
  for (const d of sample) {
    out.push({
      id: `abcd-sample-${d.convo_id}`,
      scenario: d.scenario,
      turns: d.original
        .filter(([, text]) => text.trim())
        .map(([speaker, text]) => ({
          speaker: speaker === 'agent' ? 'SYS' : speaker === 'customer' ? 'USR' : 'ACT',
          text: text.trim(),
        })),
    });
  }
  return out;
}

/** Vocabularies built from the whole corpus: the names agents pulled accounts up for, and usernames. */
function abcdVocabulary(dialogues: AbcdDialogue[]): { names: Set<string>; usernames: Set<string> } {
  const names = new Set<string>();
  const usernames = new Set<string>();
  for (const d of dialogues) {
    for (const t of d.turns) {
      const pulled = /^Account has been pulled up for ([A-Za-z' -]+)\.?$/.exec(t.text);
      if (t.speaker === 'ACT' && pulled?.[1] && pulled[1].trim().split(/\s+/).length >= 2) {
        names.add(pulled[1].trim().toLowerCase());
      }
      for (const m of t.text.matchAll(/([a-z0-9._-]+)@[a-z0-9-]+\.[a-z]{2,}/gi))
        usernames.add((m[1] ?? '').toLowerCase());
      const cued = /\buser\s?name(?: is|:)?\s+([a-z0-9._-]{3,})/i.exec(t.text);
      if (t.speaker === 'USR' && cued?.[1]) usernames.add(cued[1].toLowerCase().replace(/\.+$/, ''));
    }
    const personal = (d.scenario?.personal ?? {}) as Json;
    if (typeof personal.customer_name === 'string') names.add(personal.customer_name.toLowerCase());
    if (typeof personal.username === 'string') usernames.add(personal.username.toLowerCase());
  }
  return { names, usernames };
}

const ASKS_PHONE = /\bphone|\bnumber (?:to|we can)|\bcell\b/i;
const ASKS_ORDER = /\border\b/i;
const STREET =
  /\b\d{3,5}\s+(?:[A-Za-z0-9]+\s+){0,3}?(?:ave|avenue|st|street|rd|road|drive|dr|lane|ln|blvd|boulevard|way|court|ct|circle)\b\.?/i;

/**
 * Labels one ABCD dialogue from the customer turns before the handoff, or explains why it is left out.
 * ABCD's generated values have fixed shapes: emails at email.com, order ids of 10 digits, account ids of 10
 * upper-case letters and digits, 5-digit zips, phones as (xxx) xxx-xxxx.
 */
function labelAbcd(
  customerTurns: Array<{ text: string; question: string }>,
  vocabulary: { names: Set<string>; usernames: Set<string> },
  scenario: Json | undefined,
): { facts: Record<string, string>; allow: Record<string, string>; secrets: string[] } | { skip: string } {
  const facts: Record<string, string> = {};
  const allow: Record<string, string> = {};
  const secrets: string[] = [];
  for (const { text, question } of customerTurns) {
    let rest = text;
    // A PIN the customer typed is a secret, whatever its shape.
    for (const m of rest.matchAll(/\bpin\b\W{0,3}(?:(?:number|is|was|#)\W{0,3})*(\d{3,8})\b/gi)) {
      if (m[1]) secrets.push(m[1]);
      rest = rest.replace(m[0], ' '.repeat(m[0].length));
    }
    const take = (re: RegExp, name: string, value?: (m: RegExpExecArray) => string) => {
      for (let m = re.exec(rest); m; m = re.exec(rest)) {
        facts[name] = value ? value(m) : m[0];
        rest = rest.slice(0, m.index) + ' '.repeat(m[0].length) + rest.slice(m.index + m[0].length);
        re.lastIndex = 0;
      }
    };
    take(/[A-Za-z0-9._-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, 'email', (m) => m[0].replace(/\.$/, ''));
    const street = STREET.exec(rest);
    if (street) {
      facts.street_address = street[0].replace(/\.$/, '');
      rest = rest.replace(street[0], ' '.repeat(street[0].length));
    }
    // A number shaped like a phone is the order number when the customer says so.
    for (const m of rest.matchAll(/\(?\b\d{3}\)?[ .-]?\d{3}[.-]\d{4}\b/g)) {
      const before = rest.slice(Math.max(0, (m.index ?? 0) - 25), m.index ?? 0);
      facts[/\border\b/i.test(before) ? 'order_id' : 'phone'] = m[0];
    }
    rest = rest.replace(/\(?\b\d{3}\)?[ .-]?\d{3}[.-]\d{4}\b/g, (s) => ' '.repeat(s.length));
    // Phones typed with spaces, or without the area code after the agent asked for a phone number.
    for (const m of rest.matchAll(/(?<![\d-])\d{3} \d{3} \d{4}(?![\d-])|(?<![\d-])\d{3}-\d{4}(?![\d-])/g)) {
      if (m[0].length === 8 && !ASKS_PHONE.test(question)) continue;
      facts.phone = m[0];
      rest = rest.replace(m[0], ' '.repeat(m[0].length));
    }
    const cuedZip = /\bzip(?: code)?(?: is| of|:)?\s*(\d{4,5})\b/i.exec(rest);
    if (cuedZip?.[1]) {
      facts.zip_code = cuedZip[1];
      rest = rest.replace(cuedZip[0], ' '.repeat(cuedZip[0].length));
    }
    const cuedAccount = /\baccount (?:id|number)(?: is|:)?\s*([A-Za-z0-9]{5,})\b/i.exec(rest);
    if (cuedAccount?.[1] && /\d/.test(cuedAccount[1])) {
      facts.account_id = cuedAccount[1];
      rest = rest.replace(cuedAccount[0], ' '.repeat(cuedAccount[0].length));
    }
    for (const m of rest.matchAll(/(?<![\d-])\d{10}(?![\d-])/g)) {
      const before = rest.slice(Math.max(0, (m.index ?? 0) - 25), m.index ?? 0);
      const cuedOrder = /\border\b|\bid\b/i.test(before);
      const cuedPhone = /\bphone|\bnumber is\b|\bcell/i.test(before) && !cuedOrder;
      const order = cuedOrder || (!cuedPhone && ASKS_ORDER.test(question) && !ASKS_PHONE.test(question));
      const phone = cuedPhone || (!cuedOrder && ASKS_PHONE.test(question) && !ASKS_ORDER.test(question));
      if (order === phone) return { skip: `10-digit number of unknown kind: ${m[0]}` };
      facts[order ? 'order_id' : 'phone'] = m[0];
    }
    for (const m of rest.matchAll(/(?<![\w@.])[A-Za-z0-9]{10}(?![\w@])/g)) {
      const token = m[0];
      // ABCD account ids are ten upper-case letters and digits (some have no digit at all).
      if (!/[A-Za-z]/.test(token) || (!/\d/.test(token) && token !== token.toUpperCase())) continue;
      if (vocabulary.usernames.has(token.toLowerCase())) continue;
      if (token !== token.toUpperCase()) return { skip: `10-character id of unknown kind: ${token}` };
      facts.account_id = token;
    }
    for (const m of rest.matchAll(/(?<![\w.@-])[A-Za-z0-9._-]{3,}(?![\w@-])/g)) {
      const token = m[0].replace(/\.$/, '');
      if (vocabulary.usernames.has(token.toLowerCase()) && /\d/.test(token)) facts.username = token;
    }
    // ABCD usernames are letters then digits; a turn that is only such a token is one.
    const lone = /^\s*([a-z][a-z.]*\d+)\s*$/.exec(rest);
    if (lone?.[1] && lone[1].length !== 10) facts.username = lone[1];
    for (const m of rest.matchAll(/(?<![\d-])\d{5}(?![\d-])/g)) {
      const around = rest.slice(Math.max(0, (m.index ?? 0) - 4), (m.index ?? 0) + 10);
      if (/\d\s+\d{5}|\d{5}\s+\d/.test(around)) return { skip: `number groups around a zip: ${around}` };
      facts.zip_code = m[0];
    }
    const lower = rest.toLowerCase();
    for (const name of vocabulary.names) {
      const at = lower.search(new RegExp(`(?<![a-z])${escapeRegExp(name)}(?![a-z])`));
      if (at >= 0) facts.full_name = rest.slice(at, at + name.length);
    }
    // A first or last name alone is right, not required.
    const word = /^\s*([A-Za-z]+)\s*$/.exec(rest)?.[1];
    if (word && !facts.full_name && [...vocabulary.names].some((n) => n.split(' ').includes(word.toLowerCase()))) {
      allow.full_name = word;
    }
    const money = [...rest.matchAll(/\$\s?\d[\d,]*(?:\.\d{2})?|\b\d[\d,]*(?:\.\d{2})?\s*(?:dollars|bucks)\b/gi)];
    if (money.length > 0 && !allow.amount) allow.amount = (money[0]?.[0] ?? '').replace(/\s/g, '');
  }
  // The full-format sample dialogues also carry their scenario: use it where the customer said the value.
  const said = customerTurns.map((t) => t.text.toLowerCase()).join('\n');
  const personal = (scenario?.personal ?? {}) as Json;
  const order = (scenario?.order ?? {}) as Json;
  const fromScenario: Array<[string, unknown]> = [
    ['full_name', personal.customer_name],
    ['email', personal.email],
    ['phone', personal.phone],
    ['username', personal.username],
    ['order_id', order.order_id],
    ['zip_code', order.zip_code],
    ['street_address', order.street_address],
  ];
  for (const [name, value] of fromScenario) {
    if (typeof value === 'string' && value && said.includes(value.toLowerCase()) && !facts[name]) facts[name] = value;
  }
  return { facts, allow, secrets };
}

function buildAbcd(): Line[] {
  const dialogues = abcdDialogues();
  const vocabulary = abcdVocabulary(dialogues);
  const lines: Line[] = [];
  const skipped: Record<string, number> = {};
  dialogues.forEach((d, n) => {
    const firstCustomer = d.turns.findIndex((t) => t.speaker === 'USR');
    if (firstCustomer < 0) return;
    const cut = handoffAfter(d.turns.length, firstCustomer, n + 1);
    const events: Event[] = [];
    const customerTurns: Array<{ text: string; question: string }> = [];
    let question = '';
    d.turns.forEach((t, i) => {
      if (i === cut) events.push({ type: 'handoff', trigger: 'customer_request' });
      if (t.speaker === 'ACT') events.push(abcdAction(t.text));
      else if (t.speaker === 'SYS') {
        events.push({ type: 'message', author: i < cut ? 'ai' : 'agent', text: t.text });
        question = t.text;
      } else {
        events.push({ type: 'message', author: 'customer', text: t.text });
        if (i < cut) customerTurns.push({ text: t.text, question });
      }
    });
    if (cut >= d.turns.length) events.push({ type: 'handoff', trigger: 'customer_request' });
    const labels = labelAbcd(customerTurns, vocabulary, d.scenario);
    if ('skip' in labels) {
      const reason = labels.skip.split(':')[0] ?? labels.skip;
      skipped[reason] = (skipped[reason] ?? 0) + 1;
      return;
    }
    lines.push({
      id: d.id,
      industry: 'ecommerce',
      events,
      expect: { facts: labels.facts, allow: labels.allow, findings: {} },
      secrets: labels.secrets,
    });
  });
  console.log(`abcd: ${lines.length} labelled, left out:`, skipped);
  return lines;
}

// ------------------------------------------------------------------------------------------------ STAR

const SECRET_CONSTRAINTS = new Set(['PIN', 'SecurityAnswer1', 'SecurityAnswer2']);
const FACT_CONSTRAINTS: Record<string, string> = {
  FullName: 'full_name',
  AccountNumber: 'account_id',
  DateOfBirth: 'date_of_birth',
};

function unquote(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '';
  const s = String(value).trim();
  if (s === 'null') return '';
  return s.replace(/^"|"$/g, '').trim();
}

/**
 * The dates a person wrote in a text. `key` is the calendar date they meant, as ISO where it is certain:
 * day first when the first number cannot be a month (STAR's workers wrote both ways), a two-digit year of a
 * birth date in the past. A date that does not exist ("31/06/1996") stays as written.
 */
function datesIn(text: string): Array<{ raw: string; key: string }> {
  const out: Array<{ raw: string; key: string }> = [];
  const thisYear = new Date().getFullYear();
  for (const m of text.matchAll(/(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?!\d)/g)) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    let y = Number(m[3]);
    if (y < 100) y += 2000 + y > thisYear ? 1900 : 2000;
    const [month, day] = a > 12 && b <= 12 ? [b, a] : [a, b];
    const date = new Date(Date.UTC(y, month - 1, day));
    const valid = month <= 12 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
    const iso = `${y}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    out.push({ raw: m[0], key: valid ? iso : m[0] });
  }
  return out;
}

/** The customers' names across STAR: the names the user guide gave and the wizards typed. */
function starNames(dir: string): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(dir)) {
    const dialogue = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { Events: Json[] };
    for (const e of dialogue.Events) {
      const you =
        e.Agent === 'UserGuide' && typeof e.Text === 'string'
          ? /You are ([A-Z][a-z]+(?: [A-Z][a-z]+)+)\./.exec(e.Text)
          : null;
      if (you?.[1]) names.add(you[1].toLowerCase());
      for (const constraint of (e.Action === 'query' ? (e.Constraints ?? []) : []) as Json[]) {
        for (const key of ['FullName', 'CustomerName']) {
          const v = unquote(constraint[key]);
          if (v?.includes(' ')) names.add(v.toLowerCase());
        }
      }
    }
  }
  return names;
}

function buildStar(): Line[] {
  const dir = join(DATA, 'star', 'dialogues_bank');
  const names = starNames(dir);
  const lines: Line[] = [];
  let noBank = 0;
  for (const file of readdirSync(dir).sort()) {
    const dialogue = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { DialogueID: number; Events: Json[] };
    const raw = dialogue.Events;
    if (!raw.some((e) => e.Action === 'query' && String(e.APIName ?? '').startsWith('bank'))) {
      noBank += 1;
      continue;
    }
    const candidates: Array<[string, string]> = [];
    const secretValues = new Set<string>();
    for (const e of raw) {
      if (e.Action === 'query') {
        for (const constraint of (e.Constraints ?? []) as Json[]) {
          for (const [key, value] of Object.entries(constraint)) {
            const v = unquote(value);
            if (!v) continue;
            if (SECRET_CONSTRAINTS.has(key)) secretValues.add(v);
            const fact = FACT_CONSTRAINTS[key];
            if (fact) candidates.push([fact, v]);
            // The wizard's summary of the report keeps the amount the customer reported.
            if (key === 'FraudReport') {
              for (const m of v.matchAll(/\$?\d[\d,]*(?:\.\d{2})?/g)) {
                if (Number(m[0].replace(/[$,]/g, '')) >= 10) candidates.push(['amount', m[0]]);
              }
            }
          }
        }
      }
      if (e.Agent === 'UserGuide' && typeof e.Text === 'string') {
        const t = e.Text;
        const you = /You are ([A-Z][a-z]+(?: [A-Z][a-z]+)+)\./.exec(t);
        if (you?.[1]) candidates.push(['full_name', you[1]]);
        const account = /account number is (\d+)/.exec(t);
        if (account?.[1]) candidates.push(['account_id', account[1]]);
        for (const m of t.matchAll(/\bPIN (?:is|was)(?: either)? (\d+)(?: or (\d+))?|either (\d+) or (\d+)/g)) {
          for (const v of m.slice(1)) if (v) secretValues.add(v);
        }
        const security = /security questions?: ([A-Za-z]+)\)/.exec(t);
        if (security?.[1]) secretValues.add(security[1]);
        const money = /\$\d[\d,]*(?:\.\d{2})?/.exec(t);
        if (money) candidates.push(['amount', money[0]]);
      }
    }
    // Turns: the user, the wizard (the bank's AI assistant), the back-office query and its result.
    type Turn = { author: 'customer' | 'ai'; text: string; asked?: string } | { action: Event };
    const turns: Turn[] = [];
    let asked = '';
    for (let i = 0; i < raw.length; i += 1) {
      const e = raw[i] as Json;
      if (e.Agent === 'Wizard' && (e.Action === 'pick_suggestion' || e.Action === 'utter')) {
        asked = typeof e.ActionLabel === 'string' ? e.ActionLabel : '';
        // A wizard who typed the question instead of picking it still asked for the date of birth.
        if (!asked && typeof e.Text === 'string' && /date of birth|birthday|\bdob\b/i.test(e.Text))
          asked = 'bank_ask_dob';
      }
      if (e.Agent === 'User' && e.Action === 'utter' && typeof e.Text === 'string' && e.Text.trim()) {
        turns.push({ author: 'customer', text: e.Text.trim(), asked });
      } else if (
        e.Agent === 'Wizard' &&
        (e.Action === 'pick_suggestion' || e.Action === 'utter') &&
        typeof e.Text === 'string' &&
        e.Text.trim()
      ) {
        turns.push({ author: 'ai', text: e.Text.trim() });
      } else if (e.Action === 'query') {
        const input: Json = {};
        for (const constraint of (e.Constraints ?? []) as Json[]) {
          for (const [key, value] of Object.entries(constraint)) {
            if (!SECRET_CONSTRAINTS.has(key) && unquote(value)) input[key] = unquote(value);
          }
        }
        const answer = raw.slice(i + 1, i + 3).find((r) => r.Action === 'return_item') as Json | undefined;
        const item = (answer?.Item ?? {}) as Json;
        const result: Json = {};
        for (const [key, value] of Object.entries(item)) {
          if (!/pin|security|password/i.test(key) && (typeof value === 'string' || typeof value === 'number')) {
            result[key] = value;
          }
        }
        const failed = Object.keys(item).length === 0 || /fail|not|invalid|error/i.test(JSON.stringify(item));
        turns.push({
          action: {
            type: 'action',
            name: String(e.APIName ?? 'query'),
            actor: 'ai',
            input,
            outcome: failed ? 'failed' : 'succeeded',
            ...(Object.keys(result).length > 0 ? { result } : {}),
          },
        });
      }
    }
    const firstCustomer = turns.findIndex((t) => 'author' in t && t.author === 'customer');
    if (firstCustomer < 0) continue;
    const cut = handoffAfter(turns.length, firstCustomer, dialogue.DialogueID);
    const events: Event[] = [];
    const said: string[] = [];
    // Answers to the wizard's labelled questions (bank_ask_account_number, bank_ask_dob).
    const answers: Array<[string, string]> = [];
    turns.forEach((t, i) => {
      if (i === cut) events.push({ type: 'handoff', trigger: 'customer_request' });
      if ('action' in t) events.push(t.action);
      else {
        events.push({ type: 'message', author: t.author === 'ai' && i >= cut ? 'agent' : t.author, text: t.text });
        if (t.author === 'customer' && i < cut) {
          said.push(t.text);
          if (t.asked === 'bank_ask_account_number') {
            const runs = [...t.text.matchAll(/(?<!\d)\d{6,}(?!\d)/g)].map((m) => m[0]);
            if (runs.length === 1 && runs[0]) answers.push(['account_id', runs[0]]);
          }
          if (t.asked === 'bank_ask_dob') {
            const dates = datesIn(t.text);
            if (dates.length === 1 && dates[0]) answers.push(['date_of_birth', dates[0].raw]);
          }
        }
      }
    });
    candidates.push(...answers);
    if (cut >= turns.length) events.push({ type: 'handoff', trigger: 'customer_request' });

    const facts: Record<string, string> = {};
    const text = said.join('\n');
    for (const [name, value] of candidates) {
      if (name === 'date_of_birth') {
        const wanted = datesIn(value)[0];
        const found = wanted && datesIn(text).find((d) => d.key === wanted.key);
        if (found) facts[name] = found.key;
        continue;
      }
      if (name === 'account_id') {
        const digits = text.replace(/(?<=\d)[ -](?=\d)/g, '');
        if (new RegExp(`(?<!\\d)${escapeRegExp(value)}(?!\\d)`).test(digits)) facts[name] = value;
        continue;
      }
      if (name === 'amount') {
        // "$500", "500 bucks", "500 dollars" are the same amount said three ways.
        const digits = escapeRegExp(value.replace(/[$,]/g, ''));
        const said = new RegExp(
          `\\$\\s?${digits}(?![\\d,])|(?<![\\d.])${digits}(?:\\.00)?\\s*(?:dollars|bucks|usd)\\b`,
          'i',
        ).exec(text);
        if (said) facts[name] = said[0];
        continue;
      }
      const at = text.toLowerCase().indexOf(value.toLowerCase());
      if (at >= 0) facts[name] = text.slice(at, at + value.length);
    }
    if (!facts.full_name) {
      const lower = text.toLowerCase();
      for (const name of names) {
        const at = lower.search(new RegExp(`(?<![a-z])${escapeRegExp(name)}(?![a-z])`));
        if (at >= 0) facts.full_name = text.slice(at, at + name.length);
      }
    }
    const allText = turns
      .filter((t) => 'author' in t && t.author === 'customer')
      .map((t) => ('text' in t ? t.text : ''))
      .join('\n')
      .toLowerCase();
    const secrets = [...secretValues].filter(
      (s) =>
        s.length >= 3 &&
        allText.includes(s.toLowerCase()) &&
        !Object.values(facts).some((f) => f.toLowerCase().includes(s.toLowerCase())),
    );
    lines.push({
      id: `star-bank-${dialogue.DialogueID}`,
      industry: 'finance',
      events,
      expect: { facts, allow: {}, findings: {} },
      secrets,
    });
  }
  console.log(`star: ${lines.length} bank dialogues (${noBank} without a bank query left out)`);
  return lines;
}

function write(name: string, lines: Line[]): void {
  writeFileSync(join(OUT, name), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  const facts = lines.reduce((n, l) => n + Object.keys(l.expect.facts).length, 0);
  console.log(`  ${name}: ${lines.length} conversations, ${facts} expected facts`);
}

function split(lines: Line[], seed: number, prefix: string, size: number): void {
  // Conversations with nothing to find still test precision; keep them, but not as most of the set.
  const shuffled = shuffle(lines, seed);
  write(`${prefix}.jsonl`, shuffled.slice(0, size));
  write(`${prefix}-holdout.jsonl`, shuffled.slice(size, size * 2));
}

split(buildAbcd(), 11, 'facts-abcd', ABCD_SIZE);
split(buildStar(), 23, 'facts-star', STAR_SIZE);
