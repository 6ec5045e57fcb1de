import { describe, expect, it } from 'vitest';
import { machineShare, throughputVerdict } from '../src/bench/bench-report.ts';

describe('the throughput target', () => {
  it('is judged against the mean of two baselines that agree', () => {
    expect(throughputVerdict(0.28, { before: 9667.5, after: 10725.2 })).toEqual({
      value: '0.28× (baseline 9667.5 msg/s before Baton, 10725.2 after: 11% apart)',
      met: true,
    });
    expect(throughputVerdict(0.21, { before: 10000, after: 9000 }).met).toBe(false);
  });

  it('is reported but not judged when the machine changed speed between the two baselines', () => {
    const verdict = throughputVerdict(0.3, { before: 12743.9, after: 5601.5 });
    expect(verdict.met).toBeNull();
    expect(verdict.value).toContain('128% apart: the machine changed speed under the measurement, not judged');
  });

  it('is judged on the one baseline when there is no second', () => {
    expect(throughputVerdict(0.26, { before: 9000, after: null })).toEqual({
      value: '0.26× (baseline 9000 msg/s)',
      met: true,
    });
    expect(throughputVerdict(null, { before: 9000, after: 9100 }).met).toBeNull();
  });
});

describe('the machine over the measured load', () => {
  const reading = (at: number, machineMs: number, serversMs: number, loadsMs: number, serversWaitMs = 0) => ({
    at,
    machineMs,
    serversMs,
    loadsMs,
    serversWaitMs,
  });

  it('says how busy all cores were, who used them (in cores), and how long a server waited for one', () => {
    // 10 s on 2 cores: 16 s of CPU in all, 9 s the servers', 3 s the load processes', 4 s the rest's; the two
    // servers' event loops waited 0.3 s and 0.5 s for a core.
    expect(
      machineShare({
        cores: 2,
        servers: 2,
        start: reading(1000, 50_000, 4000, 2000, 700),
        end: reading(11_000, 66_000, 13_000, 5000, 1500),
      }),
    ).toEqual({
      cores: 2,
      busy_pct: 80,
      baton_servers_cores: 0.9,
      load_processes_cores: 0.3,
      rest_cores: 0.4,
      server_thread_waited_pct: 4,
    });
  });

  it('gives nothing where the machine could not be read', () => {
    expect(machineShare(undefined)).toBeNull();
    // /proc/stat unreadable: the machine's readings are 0 at both ends.
    expect(
      machineShare({ cores: 2, servers: 1, start: reading(0, 0, 10, 10), end: reading(5000, 0, 900, 400) }),
    ).toBeNull();
  });

  it('never counts a part below zero when a process was gone at the second reading', () => {
    const share = machineShare({
      cores: 2,
      servers: 1,
      start: reading(0, 1000, 5000, 100),
      end: reading(1000, 2000, 0, 600),
    });
    expect(share?.baton_servers_cores).toBe(0);
    expect(share?.rest_cores).toBe(0.5);
  });
});
