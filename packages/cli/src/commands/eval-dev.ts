import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Counts,
  type EvalResult,
  type ExpectedTranscript,
  evaluateTranscript,
  parseExpectedTranscripts,
  ReasonReference,
  type ReasonScore,
  scoreFacts,
  scoreGuard,
  scoreReasons,
} from '@baton/core';

export const EVAL_DEV_USAGE = `Usage: baton eval-dev [--dir DIR] [--set NAME] [--errors N]

Runs every development set (*.jsonl with an "expect" block, default packages/core/test/fixtures/dev/)
through evaluateTranscript and prints fact P/R/F1, guard P/R/F1, clean passes and secret leaks per set
and overall, then the reason for contact against the datasets' own labels (reasons.json in DIR: the
share of reasons accepted for ABCD and STAR, development and held-out sets apart, and quotes that are a
bare greeting).
When ../shared/eval/score.py exists next to the repository, each set's \`baton eval --json\`
output also goes through it and its line is printed.

  --set NAME   only the sets whose file name contains NAME
  --errors N   print up to N guard misses and false alarms per set
`;

const REPO_ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

export interface SetReport {
  name: string;
  conversations: number;
  facts: Counts & { secretLeaks: number };
  guard: Counts & { cleanPass: number; cleanTotal: number };
  outputs: EvalResult[];
  expected: ExpectedTranscript[];
  problems: number;
}

/** Evaluates one development set; pure apart from reading the file. Exported for the quality-gate test. */
export function runDevSet(file: string): SetReport & { guardErrors: ReturnType<typeof scoreGuard>['errors'] } {
  const { transcripts, problems } = parseExpectedTranscripts(readFileSync(file, 'utf8'));
  const outputs = transcripts.map((transcript) => evaluateTranscript(transcript));
  const facts = scoreFacts(transcripts, outputs);
  const guard = scoreGuard(transcripts, outputs);
  return {
    name: file.split('/').pop() ?? file,
    conversations: transcripts.length,
    facts: { ...facts, secretLeaks: facts.secretLeaks },
    guard,
    outputs,
    expected: transcripts,
    problems: problems.length,
    guardErrors: guard.errors,
  };
}

const pct = (value: number) => value.toFixed(3);
const hasLabels = (counts: Counts) => counts.tp + counts.fp + counts.fn > 0;

function line(report: Pick<SetReport, 'name' | 'conversations' | 'facts' | 'guard'>, guardLabelled = true): string {
  const facts = hasLabels(report.facts)
    ? `facts P=${pct(report.facts.precision)} R=${pct(report.facts.recall)} F1=${pct(report.facts.f1)}`
    : 'facts      (no labels)      ';
  const guard =
    guardLabelled && (hasLabels(report.guard) || report.guard.cleanTotal)
      ? `guard P=${pct(report.guard.precision)} R=${pct(report.guard.recall)} F1=${pct(report.guard.f1)} clean_pass=${report.guard.cleanPass}/${report.guard.cleanTotal}`
      : 'guard (no labels)';
  return `${report.name.padEnd(30)} n=${String(report.conversations).padStart(4)} | ${facts} | ${guard} | secret_leaks=${report.facts.secretLeaks}`;
}

function sum(items: readonly Counts[]): Counts {
  const tp = items.reduce((total, item) => total + item.tp, 0);
  const fp = items.reduce((total, item) => total + item.fp, 0);
  const fn = items.reduce((total, item) => total + item.fn, 0);
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  return {
    tp,
    fp,
    fn,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
  };
}

/** The reason for contact against `reasons.json` beside the sets, development and held-out apart. */
function reasonLine(dir: string, reports: readonly SetReport[]): string | undefined {
  const file = join(dir, 'reasons.json');
  if (!existsSync(file)) return undefined;
  const reference = ReasonReference.parse(JSON.parse(readFileSync(file, 'utf8')));
  const part = (dataset: string, holdout: boolean) => {
    const outputs = reports
      .filter((report) => report.name.includes('holdout') === holdout)
      .flatMap((report) => report.outputs)
      .filter((output) => output.id.replace(/^guard-/, '').startsWith(`${dataset}-`));
    return scoreReasons(reference, outputs);
  };
  const datasets = [
    { name: 'ABCD', dev: part('abcd', false), held: part('abcd', true) },
    { name: 'STAR', dev: part('star', false), held: part('star', true) },
  ];
  const scores = datasets.flatMap((dataset) => [dataset.dev, dataset.held]);
  if (scores.every((score) => score.count === 0)) return undefined;
  const figure = (score: ReasonScore) => `${pct(score.accuracy)} (${score.right}/${score.count})`;
  const figures = datasets.map((d) => `${d.name} dev ${figure(d.dev)}, held out ${figure(d.held)}`);
  const greetings = scores.reduce((total, score) => total + score.greetingQuotes.length, 0);
  return `${'reasons (dataset labels)'.padEnd(30)} ${figures.join(' | ')} | bare-greeting quotes=${greetings}`;
}

export async function evalDevCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      set: { type: 'string' },
      errors: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(EVAL_DEV_USAGE);
    return 0;
  }
  const dir = resolve(values.dir ?? join(REPO_ROOT, 'packages/core/test/fixtures/dev'));
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.jsonl') && (!values.set || file.includes(values.set)))
    .sort()
    .map((file) => join(dir, file));
  const showErrors = Number(values.errors ?? 0);
  const reports: SetReport[] = [];
  for (const file of files) {
    const report = runDevSet(file);
    reports.push(report);
    const labelled = report.expected.some((item) => Object.keys(item.expect.findings).length > 0);
    process.stdout.write(`${line(report, labelled)}\n`);
    for (const error of report.guardErrors.slice(0, showErrors)) {
      const transcript = report.expected.find((item) => item.id === error.id);
      const event = transcript?.events[Number(error.index)];
      const text = event?.type === 'message' ? event.text : '';
      process.stdout.write(`    ${error.kind} ${error.label} ${error.id}#${error.index}: ${text}\n`);
    }
  }
  // Sets without guard labels (the facts sets) say nothing about the guard: leave them out of its total.
  const guarded = reports.filter((report) => report.expected.some((item) => Object.keys(item.expect.findings).length));
  const guardCounts = sum(guarded.map((report) => report.guard));
  const overall = {
    name: 'overall',
    conversations: reports.reduce((total, report) => total + report.conversations, 0),
    facts: {
      ...sum(reports.map((report) => report.facts)),
      secretLeaks: reports.reduce((t, r) => t + r.facts.secretLeaks, 0),
    },
    guard: {
      ...guardCounts,
      cleanPass: guarded.reduce((total, report) => total + report.guard.cleanPass, 0),
      cleanTotal: guarded.reduce((total, report) => total + report.guard.cleanTotal, 0),
    },
  };
  process.stdout.write(`${line(overall)}\n`);
  const reasons = reasonLine(dir, reports);
  if (reasons) process.stdout.write(`${reasons}\n`);

  const scorer = resolve(REPO_ROOT, '../shared/eval/score.py');
  if (existsSync(scorer)) {
    const work = mkdtempSync(join(tmpdir(), 'baton-eval-dev-'));
    try {
      process.stdout.write(`\nshared/eval/score.py:\n`);
      for (const [i, report] of reports.entries()) {
        const out = join(work, `${i}.jsonl`);
        writeFileSync(
          out,
          report.outputs
            .map((output) => JSON.stringify(output))
            .join('\n')
            .concat('\n'),
        );
        const run = spawnSync('python3', [scorer, files[i] ?? '', out], { encoding: 'utf8' });
        const text = (run.stdout || run.stderr).trim();
        process.stdout.write(`${report.name.padEnd(30)} ${text}\n`);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return overall.facts.secretLeaks > 0 ? 1 : 0;
}
