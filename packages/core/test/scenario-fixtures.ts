import { readFileSync } from 'node:fs';
import { ExpectedTranscript } from '../src/index.ts';

/** The scenarios of shared/SCENARIOS.md as transcripts (packages/core/test/fixtures/dev/scenarios.jsonl). */
export function scenario(id: string): ExpectedTranscript {
  const text = readFileSync(new URL('./fixtures/dev/scenarios.jsonl', import.meta.url), 'utf8');
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const parsed = ExpectedTranscript.parse(JSON.parse(line));
    if (parsed.id === id) return parsed;
  }
  throw new Error(`no scenario ${id}`);
}

/** The events of a scenario up to and including its handoff request. */
export function untilHandoff(transcript: ExpectedTranscript): ExpectedTranscript['events'] {
  const at = transcript.events.findIndex((event) => event.type === 'handoff.requested');
  return transcript.events.slice(0, at + 1);
}
