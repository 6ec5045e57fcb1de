import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  aggregateMetrics,
  BatonError,
  type EvalResult,
  evaluateTranscript,
  type HandoffMetrics,
  renderBrief,
  Transcript,
} from '@baton/core';
import cliProgress from 'cli-progress';

export const EVAL_USAGE = `Usage: baton eval FILE.jsonl [--json] [--quiet]

Replays each transcript (one conversation a line) through the core: the brief at the first handoff, the
continuity guard's findings for every agent message after it, and the handoff metrics.

  --json    exactly one JSON object per input line, in input order, on stdout
  --quiet   no per-conversation report, totals only (without --json)

A line that is not JSON or not a transcript is reported on stderr with its line number and skipped.
`;

/** Files above this size get a progress bar (on stderr, so --json output stays clean). */
const PROGRESS_FROM_BYTES = 256 * 1024;

export interface EvalProblem {
  line: number;
  message: string;
}

/**
 * Evaluates one line of a transcript file. Returns the result, a problem to report, or null for a blank
 * line. Exported so tests and the API share the exact parsing of the CLI.
 */
export function evaluateLine(text: string, line: number): EvalResult | EvalProblem | null {
  if (!text.trim()) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { line, message: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = Transcript.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    return { line, message: `not a transcript${where}: ${issue?.message ?? 'invalid'}` };
  }
  return evaluateTranscript(parsed.data);
}

function isProblem(value: EvalResult | EvalProblem): value is EvalProblem {
  return 'line' in value && 'message' in value && !('brief' in value);
}

function renderResult(result: EvalResult): string {
  const lines = [`── ${result.id}${result.industry ? ` (${result.industry})` : ''}`];
  lines.push(
    ...renderBrief(result.brief)
      .split('\n')
      .map((line) => `  ${line}`),
  );
  if (result.findings.length === 0) {
    lines.push(result.metrics.agentMessages ? '  Guard: every agent message passed' : '  Guard: no agent messages');
  } else {
    lines.push('  Guard:');
    for (const finding of result.findings) {
      const key = finding.fact ?? finding.action ?? finding.phrase ?? '';
      lines.push(`    [event ${finding.index}] ${finding.kind}${key ? ` ${key}` : ''} → ${finding.suggestion}`);
    }
  }
  return lines.join('\n');
}

function renderTotals(metrics: readonly HandoffMetrics[], problems: number, lines: number): string {
  const total = aggregateMetrics(metrics);
  const out = [
    '',
    `Conversations: ${total.conversations} (${total.handedOff} handed off), ${problems} line(s) skipped of ${lines}`,
    `Agent messages after handoff: ${total.agentMessages}, clean ${total.cleanAgentMessages}`,
    `Findings: ${total.repeatAsks} repeat asks, ${total.repeatActions} repeat actions, ${total.restartPhrases} restart phrases`,
    `Customer restatements: ${total.customerRestatements}; conversations with a repeat: ${total.conversationsWithRepeats}`,
  ];
  if (total.timeToAcceptMs.median !== null) {
    out.push(
      `Time to accept: median ${Math.round(total.timeToAcceptMs.median / 1000)} s, p90 ${Math.round((total.timeToAcceptMs.p90 ?? 0) / 1000)} s`,
    );
  }
  return out.join('\n');
}

export async function evalCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(EVAL_USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) {
    process.stderr.write(EVAL_USAGE);
    return 2;
  }
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new BatonError('not_found', `cannot read ${file}`);
  }
  const json = values.json === true;
  const progress =
    size >= PROGRESS_FROM_BYTES && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            format: 'eval [{bar}] {percentage}% | {value}/{total} KB | {conversations} conversations',
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  progress?.start(Math.ceil(size / 1024), 0, { conversations: 0 });

  const metrics: HandoffMetrics[] = [];
  let problems = 0;
  let lineNumber = 0;
  let bytes = 0;
  const input = createInterface({
    input: createReadStream(file, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of input) {
    lineNumber++;
    bytes += Buffer.byteLength(line) + 1;
    const outcome = evaluateLine(line, lineNumber);
    if (outcome === null) continue;
    if (isProblem(outcome)) {
      problems++;
      progress?.stop();
      process.stderr.write(`${file}:${outcome.line}: skipped: ${outcome.message}\n`);
      progress?.start(Math.ceil(size / 1024), Math.floor(bytes / 1024), { conversations: metrics.length });
      continue;
    }
    metrics.push(outcome.metrics);
    if (json) process.stdout.write(`${JSON.stringify(outcome)}\n`);
    else if (!values.quiet) process.stdout.write(`${renderResult(outcome)}\n`);
    progress?.update(Math.floor(bytes / 1024), { conversations: metrics.length });
  }
  progress?.stop();
  if (!json) process.stdout.write(`${renderTotals(metrics, problems, lineNumber)}\n`);
  else process.stderr.write(`baton eval: ${metrics.length} conversation(s), ${problems} line(s) skipped\n`);
  return 0;
}
