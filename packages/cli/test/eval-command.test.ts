import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../bin/baton.js', import.meta.url).pathname;
const SCENARIOS = new URL('../../core/test/fixtures/dev/scenarios.jsonl', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'baton-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function baton(...args: string[]) {
  return run(process.execPath, [BIN, ...args], { maxBuffer: 64 * 1024 * 1024 });
}

describe('baton eval', () => {
  const scenarios = readFileSync(SCENARIOS, 'utf8').split('\n').filter(Boolean);
  const file = join(dir, 'mixed.jsonl');
  writeFileSync(
    file,
    [
      scenarios[0],
      '{"id": "broken", "events": [',
      '',
      JSON.stringify({ id: 'no-events' }),
      JSON.stringify({ id: 'bad-event', events: [{ type: 'message', author: 'robot', text: 'hi' }] }),
      scenarios[1],
    ].join('\n'),
  );

  it('--json: one object per valid line in input order; bad lines reported with their number and skipped', {
    timeout: 90_000,
  }, async () => {
    const { stdout, stderr } = await baton('eval', file, '--json');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first?.id).toBe('S1-S5');
    expect(second?.id).toBe('S2');
    expect(first).toMatchObject({
      brief: {
        reason: { label: 'account access' },
        facts: expect.arrayContaining([expect.objectContaining({ name: 'email', source: 2 })]),
        steps: expect.arrayContaining([
          expect.objectContaining({ action: 'reset_password', outcome: 'succeeded', source: 7 }),
        ]),
        errors: [expect.objectContaining({ system: 'auth', code: 'MFA_DEVICE_NOT_REGISTERED', source: 11 })],
        greeting: expect.stringContaining('Hi Dana'),
      },
      findings: [
        expect.objectContaining({ index: 15, kind: 'repeat_ask', fact: 'email' }),
        expect.objectContaining({ index: 16, kind: 'repeat_action', action: 'reset_password' }),
        expect.objectContaining({ index: 17, kind: 'restart_phrase' }),
      ],
      metrics: expect.objectContaining({ repeatAsks: 1 }),
    });
    expect(stderr).toMatch(/mixed\.jsonl:2: skipped: not valid JSON/);
    expect(stderr).toMatch(/mixed\.jsonl:4: skipped: not a transcript/);
    expect(stderr).toMatch(/mixed\.jsonl:5: skipped: not a transcript at events\.0/);
    expect(stderr).not.toMatch(/:3:/);
  });

  it('without --json: a readable report and totals', { timeout: 90_000 }, async () => {
    const { stdout } = await baton('eval', SCENARIOS);
    expect(stdout).toContain('Reason: account access');
    expect(stdout).toContain('Suggested opening: Hi Dana');
    expect(stdout).toContain('repeat_action reset_password');
    expect(stdout).toMatch(/Conversations: 4 \(4 handed off\), 0 line\(s\) skipped/);
  });

  it('a missing file is an error with a clear message', { timeout: 90_000 }, async () => {
    await expect(baton('eval', join(dir, 'nope.jsonl'))).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('cannot read'),
    });
  });
});
