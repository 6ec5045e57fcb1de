import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { serverGcFor } from '../src/bench/run-bench.ts';
import { parseBenchArgs } from '../src/commands/bench.ts';

describe('baton bench --server-gc', () => {
  it('auto: single-threaded once every core has a Baton process, Node’s parallel default below that', () => {
    expect(serverGcFor(1, 2)).toBe('parallel');
    expect(serverGcFor(2, 2)).toBe('single');
    expect(serverGcFor(3, 2)).toBe('single');
    expect(serverGcFor(2, 8)).toBe('parallel');
    const cores = availableParallelism();
    expect(parseBenchArgs([`--processes=${cores}`], {}).options.serverGc).toBe('single');
    if (cores > 1) expect(parseBenchArgs(['--processes=1'], {}).options.serverGc).toBe('parallel');
  });

  it('takes an explicit mode over the rule, and refuses one it does not know, naming the option', () => {
    expect(parseBenchArgs(['--server-gc=parallel', '--processes=64'], {}).options.serverGc).toBe('parallel');
    expect(parseBenchArgs(['--server-gc', 'single'], {}).options.serverGc).toBe('single');
    expect(() => parseBenchArgs(['--server-gc=fast'], {})).toThrow('--server-gc must be auto, single or parallel');
  });
});
