import { type ChildProcess, fork } from 'node:child_process';
import { openSync, readFileSync, readSync } from 'node:fs';
import type { IntervalHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/**
 * Forks one of the bench's TypeScript entry points (through tsx, like the `baton` command itself) as a
 * separate process with an IPC channel. The tail of its output is kept so a crash can be explained.
 */
export function forkTypeScript(
  entry: string,
  env: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
): ChildProcess {
  const child = fork(fileURLToPath(new URL(entry, import.meta.url)), [], {
    execArgv: ['--import', 'tsx', ...nodeArgs],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  const keep = (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  Object.defineProperty(child, 'recentStderr', { get: () => stderr });
  return child;
}

export function recentStderr(child: ChildProcess): string {
  const value: unknown = Reflect.get(child, 'recentStderr');
  return typeof value === 'string' ? value : '';
}

/** Waits for the first IPC message `accept` recognises; fails if the child exits or `timeoutMs` passes. */
export function nextMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown) => {
      const value = accept(message);
      if (value === undefined) return;
      cleanup();
      resolve(value);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what}: process exited (${code}) ${recentStderr(child).trim().slice(-1500)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer after ${timeoutMs} ms ${recentStderr(child).trim().slice(-1500)}`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Resident set size in MB from /proc (Linux); undefined elsewhere or once the process is gone. */
export function residentMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time the whole machine has spent busy since boot, in ms (all cores: user, nice, system, irq, softirq,
 * steal), from /proc/stat; 0 where it cannot be read. Counts what no child of ours shows: the database.
 */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const ticks = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
    return Number.isFinite(ticks) ? ticks * 10 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; clock ticks of 10 ms). */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long a process's main thread (for Node, its event loop) has been ready to run but waiting for a
 * core, in ms, from /proc/<pid>/schedstat (Linux); undefined elsewhere or once the process is gone.
 */
export function runQueueWaitMs(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : threadSchedule(`/proc/${pid}/schedstat`)?.waitedMs;
}

/**
 * A thread's time on a CPU and ready-but-waiting for one, in ms since it started, from a schedstat file
 * (`/proc/<pid>/schedstat` is the process's main thread); undefined where the kernel does not keep them.
 */
export function threadSchedule(file: string): ThreadSchedule | undefined {
  try {
    return parseSchedstat(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface ThreadSchedule {
  ranMs: number;
  waitedMs: number;
}

/**
 * `threadSchedule` for a file read again and again (the server's stall timer, 100 times a second): one
 * descriptor kept open and read from offset 0 into one buffer, where each `readFileSync` opened, sized,
 * read and closed the file (about 2% of the measured server's busy time went to it). Undefined readings
 * where the file cannot be opened or read.
 */
export function scheduleReader(file: string): () => ThreadSchedule | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return () => undefined;
  }
  const buffer = Buffer.alloc(256);
  return () => {
    try {
      return parseSchedstat(buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)));
    } catch {
      return undefined;
    }
  };
}

/**
 * How late a loop ran, in ms, from the histogram of a `monitorEventLoopDelay({ resolution: periodMs })`: it
 * holds the intervals between its timer's runs, period included, so the lateness is what exceeds the period.
 */
export function loopLateness(
  histogram: Pick<IntervalHistogram, 'percentile' | 'max'>,
  periodMs: number,
): { p50: number; p99: number; max: number } {
  const excess = (ns: number) => Math.max(0, ns / 1e6 - periodMs);
  return { p50: excess(histogram.percentile(50)), p99: excess(histogram.percentile(99)), max: excess(histogram.max) };
}

/** A schedstat line: time on a CPU, time waiting for one (both ns), timeslices. */
function parseSchedstat(text: string): ThreadSchedule | undefined {
  const [ranNs, waitedNs] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(ranNs) || !Number.isFinite(waitedNs)) return undefined;
  return { ranMs: (ranNs as number) / 1e6, waitedMs: (waitedNs as number) / 1e6 };
}

export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
