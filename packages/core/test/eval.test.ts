import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EvalResult, evaluateTranscript, parseExpectedTranscripts, scoreGuard } from '../src/index.ts';
import { scenario } from './scenario-fixtures.ts';

describe('evaluateTranscript', () => {
  it("honours issue 3's contract on S1/S5", () => {
    const transcript = scenario('S1-S5');
    const result = evaluateTranscript(transcript);
    expect(EvalResult.parse(JSON.parse(JSON.stringify(result)))).toBeTruthy();
    expect(result.id).toBe('S1-S5');
    expect(result.handoffIndex).toBe(13);
    expect(result.brief.reason).toMatchObject({ label: 'account access' });
    expect(result.brief.facts).toContainEqual(
      expect.objectContaining({ name: 'email', value: 'dana.reyes@example.com', source: 2 }),
    );
    expect(result.brief.steps).toContainEqual(
      expect.objectContaining({ action: 'reset_password', outcome: 'succeeded', source: 7 }),
    );
    expect(result.brief.errors).toContainEqual(
      expect.objectContaining({ system: 'auth', code: 'MFA_DEVICE_NOT_REGISTERED', source: 11 }),
    );
    expect(result.brief.greeting.length).toBeGreaterThan(40);
    expect(
      result.findings.map((finding) => [finding.index, finding.kind, finding.fact ?? finding.action ?? null]),
    ).toEqual([
      [15, 'repeat_ask', 'email'],
      [16, 'repeat_action', 'reset_password'],
      [17, 'restart_phrase', null],
    ]);
    for (const finding of result.findings) expect(finding.suggestion.length).toBeGreaterThan(10);
    expect(result.metrics.agentMessages).toBe(4);
  });

  it('judges each agent message on everything before it, and nothing before the handoff', () => {
    const result = evaluateTranscript({
      id: 't',
      events: [
        { type: 'message', author: 'agent', text: 'How can I help you today?' },
        { type: 'message', author: 'customer', text: 'my zip is 60614' },
        { type: 'handoff.requested', trigger: 'manual', priority: 'normal', skills: [] },
        { type: 'message', author: 'agent', text: "What's your phone number?" },
        { type: 'message', author: 'customer', text: '(312) 555-0198' },
        { type: 'message', author: 'agent', text: "What's your phone number?" },
        { type: 'message', author: 'agent', text: 'And your zip code?' },
      ],
    });
    expect(result.findings.map((finding) => [finding.index, finding.fact])).toEqual([
      [5, 'phone'],
      [6, 'zip_code'],
    ]);
    expect(result.findings[0]?.source).toBe(4);
  });

  it('the scenarios set scores perfectly with the repo scorer', () => {
    const { transcripts } = parseExpectedTranscripts(
      readFileSync(new URL('./fixtures/dev/scenarios.jsonl', import.meta.url), 'utf8'),
    );
    const score = scoreGuard(transcripts, transcripts.map(evaluateTranscript));
    expect(score).toMatchObject({ fp: 0, fn: 0, cleanPass: score.cleanTotal });
  });
});
