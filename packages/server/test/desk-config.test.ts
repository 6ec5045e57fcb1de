import { BatonError } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { loadDeskConfig } from '../src/routing/desk-config.ts';

function problemsOf(env: Record<string, string>): string {
  try {
    loadDeskConfig(env);
  } catch (error) {
    if (BatonError.is(error)) return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('desk configuration', () => {
  it('defaults to always-open queues and a 30 s offer', () => {
    const config = loadDeskConfig({});
    expect(config.offerTtlMs).toBe(30_000);
    expect(config.queues.map((queue) => queue.id)).toEqual(['general', 'billing', 'technical', 'nurse']);
    expect(config.queues.every((queue) => queue.hours === undefined)).toBe(true);
  });

  it('reads queues with opening hours from BATON_QUEUES', () => {
    const config = loadDeskConfig({
      BATON_OFFER_TTL_MS: '5000',
      BATON_CALLBACK_AFTER_MS: '0',
      BATON_QUEUES: JSON.stringify([
        {
          id: 'clinic',
          skills: ['clinical'],
          hours: { timezone: 'America/Chicago', windows: [{ days: ['mon', 'fri'], open: '08:00', close: '17:30' }] },
        },
      ]),
    });
    expect(config.offerTtlMs).toBe(5000);
    expect(config.callbackAfterMs).toBe(0);
    expect(config.queues[0]).toMatchObject({ id: 'clinic', skills: ['clinical'], averageHandleSeconds: 300 });
    expect(config.queues[0]?.hours?.timezone).toBe('America/Chicago');
  });

  it('names every variable that is wrong', () => {
    expect(problemsOf({ BATON_QUEUES: '[{"id":' })).toContain('BATON_QUEUES: must be a JSON array');
    expect(problemsOf({ BATON_QUEUES: '[{"id":"a"},{"id":"a"}]' })).toContain('queue ids must be unique');
    expect(
      problemsOf({ BATON_QUEUES: '[{"id":"a","hours":{"windows":[{"days":["mon"],"open":"9am","close":"17:00"}]}}]' }),
    ).toContain('time must be HH:MM');
    const both = problemsOf({ BATON_OFFER_TTL_MS: 'soon', BATON_ROUTING_TICK_MS: '-1' });
    expect(both).toContain('BATON_OFFER_TTL_MS');
    expect(both).toContain('BATON_ROUTING_TICK_MS');
  });
});
