/**
 * The AI turn's cost per customer message, in-process on a temp SQLite file: ConversationService +
 * AgentRuntime (playbook agent, demo back office), no HTTP, no router. Conversations grow through the
 * real runtime on real customer lines (ABCD, STAR) until they hold 10, 50 and 200 events; a handoff is
 * accepted and handed back at once by a simulated colleague, so the AI keeps talking. Then a few more
 * customer lines are measured each: CPU (`process.cpuUsage`, user + system) and wall time from the
 * customer's append until the runtime is idle. `append only` is the same customer append to a
 * conversation a human owns (no AI turn), so `AI turn` = total − append is the runtime's part;
 * `outside the store` leaves out the CPU spent in the store's reads and writes (the AI's replies too).
 *
 * `npx tsx scripts/bench-ai-turn.ts [conversations per size] [measured turns per conversation]`.
 * Machine-dependent: compare runs on the same machine, and repeat (medians).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadCustomerScripts } from '../packages/cli/src/bench/customer-scripts.ts';
import { AgentRuntime } from '../packages/server/src/agent/agent-runtime.ts';
import { backOfficeTools } from '../packages/server/src/agent/back-office-tools.ts';
import { PlaybookAgent } from '../packages/server/src/agent/playbook-agent.ts';
import { ToolRegistry } from '../packages/server/src/agent/tools.ts';
import { ConversationService } from '../packages/server/src/app/conversation-service.ts';
import { InProcessBus } from '../packages/server/src/bus/in-process-bus.ts';
import { DemoBackOffice } from '../packages/server/src/connectors/demo-back-office.ts';
import { createStore } from '../packages/server/src/store/sql-store.ts';

const perSize = Number(process.argv[2] ?? 40);
const measuredTurns = Number(process.argv[3] ?? 3);
const sizes = [10, 50, 200];

const dir = mkdtempSync(join(tmpdir(), 'baton-bench-ai-turn-'));
const logger = pino({ level: 'silent' });
const store = createStore({ file: join(dir, 'baton.db'), logger });
await store.migrate();
/** CPU spent inside the store's reads and writes, so the turn's own logic can be told from its I/O. */
let storeMicros = 0;
for (const name of ['append', 'readEvents', 'getConversation'] as const) {
  const methods = store as unknown as Record<typeof name, (...args: unknown[]) => Promise<unknown>>;
  const original = methods[name].bind(store);
  methods[name] = async (...args: unknown[]) => {
    const started = process.cpuUsage();
    try {
      return await original(...args);
    } finally {
      storeMicros += cpuMicros(started);
    }
  };
}
const bus = new InProcessBus({ logger });
const service = new ConversationService({ store, bus, logger });
const runtime = new AgentRuntime({
  service,
  agent: new PlaybookAgent(),
  tools: new ToolRegistry(backOfficeTools, new DemoBackOffice()),
  logger,
});
runtime.start();

const scripts = loadCustomerScripts();
const human = { kind: 'agent', id: 'a_bench', name: 'Sam' } as const;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Customer lines for conversation `index`: its script, then the next ones, round and round. */
function* linesFor(index: number): Generator<string> {
  for (let k = index; ; k++) yield* scripts[k % scripts.length]!.lines;
}

async function say(id: string, text: string): Promise<void> {
  await service.append(id, [{ type: 'message', author: 'customer', text }], { kind: 'customer' });
  // Listeners run on the next turn of the event loop: only then is the turn queued.
  await tick();
  await runtime.idle(id);
}

/** A colleague takes the handoff and gives the conversation straight back. */
async function takeAndReturn(id: string): Promise<void> {
  await service.append(id, [{ type: 'handoff.accepted', agentId: human.id, agentName: human.name }], {
    kind: 'system',
  });
  await service.append(id, [{ type: 'message', author: 'agent', text: 'Done on my side, passing you back.' }], human);
  await service.append(id, [{ type: 'handoff.returned', fromAgentId: human.id }], { kind: 'system' });
  await tick();
  await runtime.idle(id);
}

async function ownedByAi(id: string): Promise<boolean> {
  return (await service.get(id)).state.owner.kind === 'ai';
}

function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

let next = 0;

async function run(size: number, conversations: number): Promise<string> {
  const cpu: number[] = [];
  const outsideStore: number[] = [];
  const wall: number[] = [];
  const appendCpu: number[] = [];
  const lengths: number[] = [];
  for (let c = 0; c < conversations; c++) {
    const index = next++;
    const script = scripts[index % scripts.length]!;
    const industry = script.industry;
    const { conversation } = await service.create({ industry, customerName: 'Bench Customer' });
    const id = conversation.id;
    const lines = linesFor(index);
    // Grow through the runtime, so its kept state is what a live conversation leaves.
    while ((await service.get(id)).state.lastSeq < size) {
      if (!(await ownedByAi(id))) await takeAndReturn(id);
      await say(id, lines.next().value as string);
    }
    for (let t = 0; t < measuredTurns; t++) {
      if (!(await ownedByAi(id))) await takeAndReturn(id);
      lengths.push((await service.get(id)).state.lastSeq);
      const text = lines.next().value as string;
      const started = process.cpuUsage();
      const inStore = storeMicros;
      const at = performance.now();
      await say(id, text);
      wall.push(performance.now() - at);
      const used = cpuMicros(started);
      cpu.push(used);
      outsideStore.push(used - (storeMicros - inStore));
    }
    // The same append with a human owning the conversation: no AI turn.
    if ((await ownedByAi(id)) || (await service.get(id)).state.owner.kind === 'queue') {
      if (await ownedByAi(id)) {
        await service.append(
          id,
          [{ type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] }],
          { kind: 'system' },
        );
      }
      await service.append(id, [{ type: 'handoff.accepted', agentId: human.id, agentName: human.name }], {
        kind: 'system',
      });
    }
    await tick();
    await runtime.idle(id);
    for (let t = 0; t < measuredTurns; t++) {
      const started = process.cpuUsage();
      await say(id, lines.next().value as string);
      appendCpu.push(cpuMicros(started));
    }
  }
  const median = (values: number[]) => quantile(values, 0.5);
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  return (
    `${String(size).padStart(3)} events (measured at ${Math.min(...lengths)}-${Math.max(...lengths)}, ${cpu.length} turns): ` +
    `CPU per customer message p50 ${median(cpu).toFixed(0)} µs (mean ${mean(cpu).toFixed(0)}), ` +
    `append only p50 ${median(appendCpu).toFixed(0)} µs (mean ${mean(appendCpu).toFixed(0)}), ` +
    `AI turn ≈ p50 ${(median(cpu) - median(appendCpu)).toFixed(0)} µs (mean ${(mean(cpu) - mean(appendCpu)).toFixed(0)}); ` +
    `outside the store p50 ${median(outsideStore).toFixed(0)} µs (mean ${mean(outsideStore).toFixed(0)}); ` +
    `wall p50 ${quantile(wall, 0.5).toFixed(2)} ms, p99 ${quantile(wall, 0.99).toFixed(2)} ms`
  );
}

// Warm-up (JIT, caches of the fixed vocabulary): the first size measured would otherwise pay for it.
for (const size of sizes) await run(size, 4);
for (const size of sizes) console.log(await run(size, perSize));

await runtime.stop();
await bus.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
