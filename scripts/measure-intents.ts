/**
 * Measures the playbook agent's intent recognition on ABCD's dev split (shared/data/abcd, MIT): the
 * customer's opening turns against the subflow the dataset labels. Subflows that map to a built-in
 * playbook count for recall; every other subflow counts for false alarms (a task intent recognised
 * where none of ours applies).
 *
 *   npx tsx scripts/measure-intents.ts /work/shared/data/abcd/dev_original.json
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { recognizeIntents } from '../packages/server/src/agent/intent-recognizer.ts';
import { builtInPlaybooks } from '../packages/server/src/agent/playbooks/index.ts';

const EXPECTED: Record<string, string> = {
  recover_password: 'account_access',
  reset_2fa: 'account_access',
  recover_username: 'account_access',
  missing: 'missing_order',
  status: 'missing_order',
  refund_initiate: 'refund',
  refund_status: 'refund',
  refund_update: 'refund',
};

const file = process.argv[2];
if (!file) throw new Error('usage: measure-intents.ts <abcd dev_original.json>');
const dialogues = z.array(z.tuple([z.string(), z.string()])).parse(JSON.parse(readFileSync(file, 'utf8')));
const tasks = builtInPlaybooks.filter((playbook) => !playbook.reactive).map(({ id, signals }) => ({ id, signals }));

let relevant = 0;
let hits = 0;
let others = 0;
let falseAlarms = 0;
const misses: string[] = [];
const alarms: string[] = [];
for (const [text, subflow] of dialogues) {
  // The opening: the customer's lines before the agent's second message.
  const lines = text.split(/\n+/).filter((line) => line.trim() !== '');
  const opening: string[] = [];
  let agentTurns = 0;
  for (const line of lines) {
    if (line.startsWith('SYS:')) agentTurns++;
    if (agentTurns >= 2) break;
    if (line.startsWith('USR:')) opening.push(line.slice(4).trim());
  }
  const said = opening.join(' ');
  const found = recognizeIntents(said, tasks).map((match) => match.id);
  const expected = EXPECTED[subflow];
  if (expected) {
    relevant++;
    if (found.includes(expected)) hits++;
    else misses.push(`${subflow}: ${said}`);
  } else {
    others++;
    const wrong = found.filter((id) => id !== 'refund' || !/refund|money back/i.test(said));
    if (wrong.length > 0) {
      falseAlarms++;
      alarms.push(`${subflow} -> ${wrong.join(',')}: ${said}`);
    }
  }
}

const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)}%`;
console.log(`recall on mapped subflows: ${hits}/${relevant} (${pct(hits, relevant)})`);
console.log(`false alarms on other subflows: ${falseAlarms}/${others} (${pct(falseAlarms, others)})`);
if (process.argv.includes('--verbose')) {
  console.log(`\nmisses:\n${misses.join('\n')}`);
  console.log(`\nfalse alarms:\n${alarms.join('\n')}`);
}
