/**
 * What a heap holds more of at the end than at the start: two V8 heap snapshots (the bench writes them
 * with BATON_BENCH_MEMORY_TRACE=dir BATON_BENCH_HEAP_SNAPSHOTS=1) summed by kind and constructor, largest
 * growth first. Tells a bounded cache still filling (trackers, kept logs) or open sockets from a leak.
 *
 *   npx tsx scripts/heap-diff.ts START.heapsnapshot END.heapsnapshot [rows=30]
 *
 * Snapshots of a bench server are ~50 MB; give Node room: NODE_OPTIONS=--max-old-space-size=4000.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const Snapshot = z.object({
  snapshot: z.object({
    meta: z.object({ node_fields: z.array(z.string()), node_types: z.tuple([z.array(z.string())]).rest(z.unknown()) }),
  }),
  nodes: z.array(z.number()),
  strings: z.array(z.string()),
});

/** Count and shallow bytes by "kind:constructor" (strings of every shape count as one kind). */
function summarise(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = Snapshot.parse(JSON.parse(readFileSync(file, 'utf8')));
  const fields = snapshot.snapshot.meta.node_fields;
  const kinds = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  if (typeAt === undefined || nameAt === undefined || sizeAt === undefined || Math.min(typeAt, nameAt, sizeAt) < 0) {
    throw new Error(`${file}: not a V8 heap snapshot (node fields: ${fields.join(', ')})`);
  }
  const totals = new Map<string, { count: number; bytes: number }>();
  const { nodes, strings } = snapshot;
  for (let at = 0; at < nodes.length; at += width) {
    const kind = kinds[nodes[at + typeAt] ?? -1] ?? 'unknown';
    const named = kind === 'object' || kind === 'closure' || kind === 'native';
    const key = kind.endsWith('string') ? 'string' : named ? `${kind}:${strings[nodes[at + nameAt] ?? -1]}` : kind;
    const total = totals.get(key) ?? { count: 0, bytes: 0 };
    total.count += 1;
    total.bytes += nodes[at + sizeAt] ?? 0;
    totals.set(key, total);
  }
  return totals;
}

const [startFile, endFile, rowsArg] = process.argv.slice(2);
if (!startFile || !endFile) {
  console.error('usage: npx tsx scripts/heap-diff.ts START.heapsnapshot END.heapsnapshot [rows=30]');
  process.exit(2);
}
const start = summarise(startFile);
const end = summarise(endFile);
const rows = [...new Set([...start.keys(), ...end.keys()])].map((key) => {
  const before = start.get(key) ?? { count: 0, bytes: 0 };
  const after = end.get(key) ?? { count: 0, bytes: 0 };
  return { key, bytes: after.bytes - before.bytes, count: after.count - before.count, now: after.bytes };
});
rows.sort((a, b) => b.bytes - a.bytes);
console.log(`${'Δ bytes'.padStart(10)} ${'Δ count'.padStart(8)} ${'bytes at end'.padStart(13)}  kind:constructor`);
for (const row of rows.slice(0, Number(rowsArg ?? 30))) {
  console.log(
    `${String(row.bytes).padStart(10)} ${String(row.count).padStart(8)} ${String(row.now).padStart(13)}  ${row.key}`,
  );
}
