/**
 * Where the routing passes' time went, from the servers' logs: how long each pass waited behind the one in
 * flight, for the lease and the desk's reads, on its plan and offers, and until the next could start.
 * Diagnostics for the bench; not part of the server.
 *
 *   BATON_BENCH_LOG_LEVEL=debug BATON_BENCH_SERVER_OUT=/tmp/servers.log \
 *     npx baton bench --store postgres --processes 2
 *   npx tsx scripts/pass-timings.ts /tmp/servers.log
 *
 * Reads pino's JSON lines (`routing pass`, logged at debug level by the router) and skips every other line.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

const PassLine = z.object({
  msg: z.literal('routing pass'),
  pid: z.number().optional(),
  pass: z.object({ queuedMs: z.number(), leaseMs: z.number(), workMs: z.number(), releaseMs: z.number() }),
});
type Pass = z.infer<typeof PassLine>['pass'];

export function readPasses(text: string): { pid: number | undefined; pass: Pass }[] {
  const passes: { pid: number | undefined; pass: Pass }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const pass = PassLine.safeParse(parsed);
    if (pass.success) passes.push({ pid: pass.data.pid, pass: pass.data.pass });
  }
  return passes;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export function summarise(passes: readonly Pass[]): string[] {
  const keys = ['queuedMs', 'leaseMs', 'workMs', 'releaseMs'] as const;
  return keys.map((key) => {
    const sorted = passes.map((pass) => pass[key]).sort((a, b) => a - b);
    const figures = [0.5, 0.9, 0.99].map((q) => `p${q * 100} ${quantile(sorted, q).toFixed(1)}`);
    return `  ${key.padEnd(10)} ${figures.join('  ')}  max ${(sorted.at(-1) ?? 0).toFixed(1)}`;
  });
}

const file = process.argv[2];
if (file && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const passes = readPasses(readFileSync(file, 'utf8'));
  if (passes.length === 0) {
    console.error(`no routing pass lines in ${file}: run the bench with BATON_BENCH_LOG_LEVEL=debug`);
    process.exit(1);
  }
  const byProcess = new Map<number, typeof passes>();
  for (const entry of passes) byProcess.set(entry.pid ?? 0, [...(byProcess.get(entry.pid ?? 0) ?? []), entry]);
  console.log(`${passes.length} routing passes, ms:`);
  for (const line of summarise(passes.map((entry) => entry.pass))) console.log(line);
  if (byProcess.size > 1) {
    for (const [pid, entries] of byProcess) {
      console.log(`process ${pid}: ${entries.length} passes`);
      for (const line of summarise(entries.map((entry) => entry.pass))) console.log(line);
    }
  }
}
