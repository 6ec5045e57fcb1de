/** Times the context engine: brief per conversation length, guard preparation, guard per draft. */
import { benchContextEngine } from '../packages/core/src/context-bench.ts';

for (const result of benchContextEngine([10, 100, 1000], 500)) {
  console.log(
    `events=${String(result.events).padStart(5)}  brief ${result.briefMs.toFixed(3)} ms  prepare guard ${result.prepareGuardMs.toFixed(3)} ms  guard per draft ${(result.draftMs * 1000).toFixed(1)} µs`,
  );
}
