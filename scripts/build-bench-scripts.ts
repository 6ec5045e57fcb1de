/**
 * Builds the bench's customer scripts (packages/cli/src/bench/fixtures/customer-scripts.json) from ABCD's
 * dev split (shared/data/abcd/dev_original.json, MIT): the customer turns (`USR:` lines, verbatim, up to
 * `--lines`) of the first `--count` dialogues whose reason for contact (ABCD's subflow) is one the built-in
 * AI serves in the industry the bench gives it.
 *
 * Why only those: the bench drives 1,000 conversations with 50 agents, the shape of a desk where the AI
 * contains most conversations and people take a steady stream of handoffs (`--handoff-rate`). Customers
 * whose need no playbook covers are handed off by the AI after two turns it does not understand, the
 * right product behaviour, but it turns the load into a handoff flood that no 50-agent desk absorbs and the
 * handoff latency into queue time. The AI's own escalations still happen on these scripts and are counted.
 *
 *   npx tsx scripts/build-bench-scripts.ts [--data DIR] [--count N] [--lines N]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** ABCD subflows → the built-in ecommerce playbook that serves them (see scripts/measure-intents.ts). */
const SERVED: Record<string, string> = {
  missing: 'missing_order',
  status: 'missing_order',
  refund_initiate: 'refund',
  refund_status: 'refund',
  refund_update: 'refund',
};

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: join(import.meta.dirname, '../../shared/data') },
    count: { type: 'string', default: '48' },
    lines: { type: 'string', default: '6' },
  },
});
const count = z.coerce.number().int().positive().parse(values.count);
const maxLines = z.coerce.number().int().positive().parse(values.lines);
const dialogues = z
  .array(z.tuple([z.string(), z.string()]))
  .parse(JSON.parse(readFileSync(join(values.data, 'abcd/dev_original.json'), 'utf8')));

const scripts: { source: string; id: string; topic: string; industry: string; lines: string[] }[] = [];
dialogues.forEach(([text, subflow], index) => {
  if (scripts.length >= count || SERVED[subflow] === undefined) return;
  const lines = text
    .split('\n')
    .filter((line) => line.startsWith('USR:'))
    .map((line) => line.slice(4).trim())
    .filter((line) => line.length > 0)
    .slice(0, maxLines);
  if (lines.length < 2) return;
  scripts.push({
    source: 'abcd/dev_original.json',
    id: `abcd-dev-${index}`,
    topic: subflow,
    industry: 'ecommerce',
    lines,
  });
});

const out = join(import.meta.dirname, '../packages/cli/src/bench/fixtures/customer-scripts.json');
writeFileSync(out, `${JSON.stringify(scripts, null, 2)}\n`);
process.stdout.write(
  `${scripts.length} scripts, ${scripts.reduce((sum, script) => sum + script.lines.length, 0)} lines → ${out}\n`,
);
