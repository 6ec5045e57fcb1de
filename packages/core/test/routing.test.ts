import { describe, expect, it } from 'vitest';
import {
  chooseAgent,
  estimateWaitSeconds,
  isOpen,
  OpeningHours,
  orderQueue,
  planOffers,
  QueueConfig,
  queuePosition,
  type RoutingAgent,
  resolveQueue,
  type WaitingHandoff,
} from '../src/routing.ts';

const now = new Date('2026-03-04T10:00:00.000Z');

function agent(id: string, overrides: Partial<RoutingAgent> = {}): RoutingAgent {
  return { id, skills: [], languages: ['en'], capacity: 2, presence: 'online', load: 0, ...overrides };
}

function handoff(conversationId: string, overrides: Partial<WaitingHandoff> = {}): WaitingHandoff {
  return {
    conversationId,
    queue: 'general',
    priority: 'normal',
    skills: [],
    waitingSince: '2026-03-04T09:50:00.000Z',
    ...overrides,
  };
}

const billing = QueueConfig.parse({ id: 'billing', skills: ['billing'] });
const general = QueueConfig.parse({ id: 'general' });

describe('chooseAgent', () => {
  it('offers only to online agents with a free slot who have the queue skills', () => {
    const agents = [
      agent('away', { presence: 'away', skills: ['billing'] }),
      agent('full', { skills: ['billing'], load: 2 }),
      agent('noskill'),
      agent('ok', { skills: ['billing'], load: 1 }),
    ];
    expect(chooseAgent(handoff('c1', { queue: 'billing' }), agents, now, billing)?.id).toBe('ok');
    expect(chooseAgent(handoff('c1', { queue: 'billing' }), agents.slice(0, 3), now, billing)).toBeUndefined();
  });

  it('prefers requested skills, then language, then free capacity, then least recently offered', () => {
    const h = handoff('c1', { skills: ['refunds'], language: 'es-MX' });
    const a = agent('a', { skills: ['refunds'], languages: ['en'], capacity: 5 });
    const b = agent('b', { skills: ['refunds'], languages: ['es'], capacity: 1 });
    const c = agent('c', { languages: ['es'], capacity: 9 });
    expect(chooseAgent(h, [c, a, b], now)?.id).toBe('b');
    expect(chooseAgent(h, [c, a], now)?.id).toBe('a');
    const d = agent('d', { lastOfferedAt: '2026-03-04T09:59:00.000Z' });
    const e = agent('e', { lastOfferedAt: '2026-03-04T09:58:00.000Z' });
    expect(chooseAgent(handoff('c2'), [d, e], now)?.id).toBe('e');
    expect(chooseAgent(handoff('c2'), [d, e, agent('f', { capacity: 3 })], now)?.id).toBe('f');
  });

  it('skips agents who declined or let the offer expire, and honours a named target', () => {
    const agents = [agent('a'), agent('b')];
    expect(chooseAgent(handoff('c1', { excludedAgentIds: ['a'] }), agents, now)?.id).toBe('b');
    expect(chooseAgent(handoff('c1', { excludedAgentIds: ['a', 'b'] }), agents, now)).toBeUndefined();
    expect(chooseAgent(handoff('c1', { targetAgentId: 'b' }), agents, now)?.id).toBe('b');
    expect(chooseAgent(handoff('c1', { targetAgentId: 'z' }), agents, now)).toBeUndefined();
  });
});

describe('queue order', () => {
  it('puts urgent before high before normal before low, then the longest wait first', () => {
    const waiting = [
      handoff('low', { priority: 'low', waitingSince: '2026-03-04T09:00:00.000Z' }),
      handoff('normal-late', { waitingSince: '2026-03-04T09:55:00.000Z' }),
      handoff('normal-early', { waitingSince: '2026-03-04T09:10:00.000Z' }),
      handoff('urgent', { priority: 'urgent', waitingSince: '2026-03-04T09:59:00.000Z' }),
      handoff('high', { priority: 'high' }),
    ];
    expect(orderQueue(waiting).map((h) => h.conversationId)).toEqual([
      'urgent',
      'high',
      'normal-early',
      'normal-late',
      'low',
    ]);
    expect(queuePosition(waiting, 'normal-late')).toBe(4);
    expect(queuePosition([...waiting, handoff('other', { queue: 'billing' })], 'other')).toBe(1);
    expect(queuePosition(waiting, 'missing')).toBeUndefined();
  });
});

describe('planOffers', () => {
  it('fills capacity in queue order without overbooking anyone in one pass', () => {
    const waiting = [
      handoff('c1', { waitingSince: '2026-03-04T09:01:00.000Z' }),
      handoff('c2', { waitingSince: '2026-03-04T09:02:00.000Z' }),
      handoff('c3', { priority: 'urgent', waitingSince: '2026-03-04T09:03:00.000Z' }),
    ];
    const plan = planOffers(waiting, [agent('a', { capacity: 1 }), agent('b', { capacity: 1 })], [general], now);
    expect(plan.map((p) => p.conversationId)).toEqual(['c3', 'c1']);
    expect(new Set(plan.map((p) => p.agentId)).size).toBe(2);
  });

  it('offers nothing from a closed queue', () => {
    const closed = QueueConfig.parse({
      id: 'general',
      hours: { windows: [{ days: ['sat'], open: '09:00', close: '10:00' }] },
    });
    expect(planOffers([handoff('c1')], [agent('a')], [closed], now)).toEqual([]);
  });
});

describe('resolveQueue', () => {
  const queues = [general, billing, QueueConfig.parse({ id: 'nurse', skills: ['clinical'] })];
  it('uses the named queue, else the queue matching the skills, else the general one', () => {
    expect(resolveQueue({ queue: 'billing', skills: [] }, queues)?.id).toBe('billing');
    expect(resolveQueue({ skills: ['clinical', 'vip'] }, queues)?.id).toBe('nurse');
    expect(resolveQueue({ skills: ['unknown'] }, queues)?.id).toBe('general');
    expect(resolveQueue({ queue: 'nope', skills: [] }, queues)?.id).toBe('general');
  });
});

describe('estimateWaitSeconds', () => {
  it('is zero while free slots cover everyone ahead, then grows by rounds of handle time', () => {
    const agents = [agent('a', { capacity: 2, load: 1 }), agent('b', { capacity: 2, load: 2 })];
    expect(estimateWaitSeconds({ position: 1, eligibleAgents: agents, averageHandleSeconds: 300 })).toBe(0);
    expect(estimateWaitSeconds({ position: 2, eligibleAgents: agents, averageHandleSeconds: 300 })).toBe(300);
    expect(estimateWaitSeconds({ position: 5, eligibleAgents: agents, averageHandleSeconds: 300 })).toBe(300);
    expect(estimateWaitSeconds({ position: 6, eligibleAgents: agents, averageHandleSeconds: 300 })).toBe(600);
  });

  it('gives no number when nobody who could answer is online', () => {
    expect(
      estimateWaitSeconds({
        position: 1,
        eligibleAgents: [agent('a', { presence: 'away' })],
        averageHandleSeconds: 60,
      }),
    ).toBeUndefined();
  });
});

describe('isOpen', () => {
  const weekdays = OpeningHours.parse({
    timezone: 'America/New_York',
    windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], open: '09:00', close: '17:00' }],
  });
  it('reads the windows in the queue time zone', () => {
    // 10:00 UTC on a Wednesday is 05:00 in New York.
    expect(isOpen(weekdays, now)).toBe(false);
    expect(isOpen(weekdays, new Date('2026-03-04T15:00:00.000Z'))).toBe(true);
    expect(isOpen(weekdays, new Date('2026-03-07T15:00:00.000Z'))).toBe(false);
    expect(isOpen(undefined, now)).toBe(true);
  });

  it('handles a window past midnight', () => {
    const night = OpeningHours.parse({ windows: [{ days: ['fri'], open: '22:00', close: '02:00' }] });
    expect(isOpen(night, new Date('2026-03-06T23:00:00.000Z'))).toBe(true);
    expect(isOpen(night, new Date('2026-03-07T01:00:00.000Z'))).toBe(true);
    expect(isOpen(night, new Date('2026-03-07T03:00:00.000Z'))).toBe(false);
    expect(isOpen(night, new Date('2026-03-05T23:00:00.000Z'))).toBe(false);
  });
});
