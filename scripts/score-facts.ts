/**
 * Scores fact extraction alone on the development sets: the facts known at the first handoff of each
 * transcript against its `expect.facts`, with the reference scorer's comparison rules.
 *
 *   npx tsx scripts/score-facts.ts [FILE.jsonl ...] [--errors] [--out DIR]
 *
 * Without files it scores every facts-*.jsonl under packages/core/test/fixtures/dev. `--out DIR` also writes
 * `baton eval --json`-shaped lines per set (id + brief.facts) for cross-checking with shared/eval/score.py.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  type EvalOutput,
  type ExpectedTranscript,
  factsAtHandoff,
  parseExpectedTranscripts,
  scoreFacts,
} from '@baton/core';

const DEV_DIR = join(import.meta.dirname, '..', 'packages', 'core', 'test', 'fixtures', 'dev');

export function briefFacts(transcript: ExpectedTranscript): EvalOutput {
  return { id: transcript.id, brief: { facts: factsAtHandoff(transcript.events) } };
}

const args = process.argv.slice(2);
const showErrors = args.includes('--errors');
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 ? args[outIndex + 1] : undefined;
const files = args.filter((a, i) => !a.startsWith('--') && (outIndex < 0 || i !== outIndex + 1));
const inputs =
  files.length > 0
    ? files
    : readdirSync(DEV_DIR)
        .filter((f) => /^facts-.*\.jsonl$/.test(f))
        .sort()
        .map((f) => join(DEV_DIR, f));

const pct = (n: number) => n.toFixed(3);
let exitCode = 0;
for (const file of inputs) {
  const { transcripts, problems } = parseExpectedTranscripts(readFileSync(file, 'utf8'));
  for (const p of problems) console.error(`${basename(file)}:${p.line}: ${p.message}`);
  const started = performance.now();
  const outputs = transcripts.map(briefFacts);
  const ms = performance.now() - started;
  const score = scoreFacts(transcripts, outputs);
  console.log(
    `${basename(file)}: conversations=${score.conversations} facts P=${pct(score.precision)} R=${pct(score.recall)} F1=${pct(score.f1)} (tp=${score.tp} fp=${score.fp} fn=${score.fn}) secret_leaks=${score.secretLeaks} [${ms.toFixed(0)} ms]`,
  );
  for (const [name, c] of Object.entries(score.byName)) {
    console.log(
      `    ${name.padEnd(15)} P=${pct(c.precision)} R=${pct(c.recall)} F1=${pct(c.f1)} tp=${c.tp} fp=${c.fp} fn=${c.fn}`,
    );
  }
  if (showErrors) {
    for (const e of score.errors)
      console.log(`    ${e.kind} ${e.id} ${e.name} want=${JSON.stringify(e.want)} got=${JSON.stringify(e.got)}`);
  }
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, basename(file)), `${outputs.map((o) => JSON.stringify(o)).join('\n')}\n`);
  }
  if (score.secretLeaks > 0) exitCode = 1;
}
process.exitCode = exitCode;
