import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BATON = resolve(import.meta.dirname, '../bin/baton.js');

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(dataDir: string, args: string[] = ['--demo']): Running {
  const child = spawn(process.execPath, [BATON, 'start', ...args], {
    env: { ...process.env, PORT: '0', BATON_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function bannerUrl(running: Running): Promise<string> {
  // Either the banner shows up or the process ends first: then its output says why.
  const ready = expect
    .poll(() => running.output(), { timeout: 120_000, interval: 200 })
    .toMatch(/Press Ctrl\+C to stop/);
  const died = running.exited.then((code) => {
    throw new Error(`baton start exited with ${code}:\n${running.output()}`);
  });
  try {
    await Promise.race([ready, died]);
  } finally {
    // Stopping it later is expected: only an exit before the banner is a failure.
    died.catch(() => undefined);
  }
  const match = /Baton is running at (http:\/\/\S+)/.exec(running.output());
  if (!match?.[1]) throw new Error(`no URL in output:\n${running.output()}`);
  return match[1];
}

describe('baton start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'baton-start-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('seeds the demo once, prints working credentials, stops cleanly on SIGTERM and keeps the data', async () => {
    const first = start(dataDir);
    children.push(first.child);
    const url = await bannerUrl(first);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const credentials = /(sam@demo\.baton\.dev)\s+(\S+)/.exec(first.output());
    expect(credentials).not.toBeNull();
    const login = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: credentials![1], password: credentials![2] }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const listed = await fetch(`${url}/v1/conversations`, { headers: { authorization: `Bearer ${token}` } });
    const before = ((await listed.json()) as { conversations: { id: string }[] }).conversations;
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(first.output()).toMatch(/bk_[\w-]{20,}/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/SIGTERM: closing connections and the database/);

    const second = start(dataDir);
    children.push(second.child);
    const secondUrl = await bannerUrl(second);
    expect(second.output()).toMatch(/Demo workspace already exists/);
    expect(second.output()).not.toMatch(/bk_/);
    const again = await fetch(`${secondUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: credentials![1], password: credentials![2] }),
    });
    const secondToken = ((await again.json()) as { token: string }).token;
    const relisted = await fetch(`${secondUrl}/v1/conversations`, {
      headers: { authorization: `Bearer ${secondToken}` },
    });
    expect(((await relisted.json()) as { conversations: { id: string }[] }).conversations.map((c) => c.id)).toEqual(
      before.map((conversation) => conversation.id),
    );
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 240_000);

  /** Runs `baton …` on the test's data directory until it exits; its exit code and standard error. */
  async function runToExit(args: string[], env: Record<string, string>) {
    const child = spawn(process.execPath, [BATON, ...args], {
      env: { ...process.env, BATON_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    return { code, stderr };
  }

  it('says which port is taken instead of a stack trace', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runToExit(['start', '--port', String(port)], { LOG_LEVEL: 'silent' });
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      blocker.close();
    }
  }, 120_000);

  it('refuses a bad configuration with a message naming the variable', async () => {
    const { code, stderr } = await runToExit(['start'], { PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/invalid configuration: PORT: must be a number/);
  }, 120_000);
});
