import { BatonError, Presence } from '@baton/core';
import { z } from 'zod';
import { ConsolePresence } from '../../routing/console-presence.ts';
import { type DeskConfigInput, deskConfig, loadDeskConfig } from '../../routing/desk-config.ts';
import { replayOncePerLog, SharedDeskMetrics } from '../../routing/desk-metrics.ts';
import { DeskStore } from '../../routing/desk-store.ts';
import { type DeskAgent, Router } from '../../routing/router.ts';
import type { Principal } from '../auth.ts';
import { ErrorBody } from '../http-errors.ts';
import type { RouteModule } from '../route-module.ts';
import { AgentSchema, ConversationIdParams, StoredEventSchema } from './schemas.ts';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };

const Note = z.string().trim().min(1).max(4000);
const EventReply = z.object({ event: StoredEventSchema });

const QueueViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    skills: z.array(z.string()),
    open: z.boolean(),
    waiting: z.number().int(),
    offered: z.number().int(),
    callbacks: z.number().int(),
    agentsOnline: z.number().int(),
    oldestWaitSeconds: z.number(),
    estimatedWaitSeconds: z.number().optional(),
    entries: z.array(
      z.object({
        conversationId: z.string(),
        priority: z.string(),
        state: z.string(),
        position: z.number().int().optional(),
        waitingSince: z.string(),
        estimatedWaitSeconds: z.number().optional(),
        offeredTo: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'QueueView' });

const AgentLoadSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.string(),
    presence: Presence,
    presenceReason: z
      .string()
      .optional()
      .describe('Why the server set the presence (console_closed, console_opened); absent when the agent chose it'),
    skills: z.array(z.string()),
    languages: z.array(z.string()),
    capacity: z.number().int(),
    load: z.number().int(),
    openOffers: z.number().int(),
    conversations: z.array(z.string()),
  })
  .meta({ id: 'AgentLoad' });

const InboxSchema = z
  .object({
    offers: z.array(
      z.object({
        conversationId: z.string(),
        queue: z.string(),
        priority: z.string(),
        waitingSince: z.string(),
        expiresAt: z.string(),
      }),
    ),
    owned: z.array(z.object({ conversationId: z.string(), queue: z.string(), assignedAt: z.string().optional() })),
    callbacks: z.array(
      z.object({ conversationId: z.string(), queue: z.string(), priority: z.string(), waitingSince: z.string() }),
    ),
  })
  .meta({ id: 'Inbox' });

const MetricsBucket = z.object({
  start: z.string(),
  handoffs: z.number().int(),
  offers: z.number().int(),
  accepted: z.number().int(),
  declined: z.number().int(),
  expired: z.number().int(),
  medianSecondsToAccept: z.number().optional(),
  repeatAsks: z.number().int(),
  repeatActions: z.number().int(),
  restartPhrases: z.number().int(),
  customerRestatements: z.number().int(),
  agentMessages: z.number().int(),
  cleanAgentMessages: z.number().int(),
  medianSecondsToFirstAgentMessage: z.number().optional(),
});

const MetricsSchema = z
  .object({
    since: z.string(),
    until: z.string(),
    bucketMinutes: z.number().int(),
    totals: MetricsBucket.pick({
      handoffs: true,
      offers: true,
      accepted: true,
      declined: true,
      expired: true,
      medianSecondsToAccept: true,
    }).extend({
      p90SecondsToAccept: z.number().optional(),
      acceptRate: z.number().optional(),
    }),
    buckets: z.array(MetricsBucket),
    handoff: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'DeskMetrics' });

/** Bodies are optional on these routes: a bare POST (Fastify hands over null) means no options. */
function optionalBody<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => value ?? {}, schema);
}

function agentOf(principal: Principal | null): DeskAgent {
  if (principal?.kind !== 'agent') throw new BatonError('forbidden', 'only agents work the desk');
  return { id: principal.agent.id, name: principal.agent.name };
}

/**
 * The desk: routing (a background runtime started with the server) and the routes agents and
 * supervisors use. `overrides` replace the environment's settings (BATON_OFFER_TTL_MS…), for tests.
 */
export function deskModule(overrides: DeskConfigInput = {}): RouteModule {
  return {
    name: 'desk',
    register(app, deps) {
      const { auth, service, store } = deps;
      const config = deskConfig({ ...loadDeskConfig(process.env), ...overrides });
      const desk = new DeskStore(deps.database);
      const router = new Router({ desk, store, service, logger: deps.logger, config, bus: deps.bus });
      router.start();
      const metrics = new SharedDeskMetrics({
        desk,
        replay: replayOncePerLog({ store, service }),
        offerTtlMs: config.offerTtlMs,
      });
      const presence =
        config.consoleGraceMs > 0
          ? new ConsolePresence(
              { consoles: deps.consoles, router, store, logger: deps.logger },
              { graceMs: config.consoleGraceMs, checkMs: config.consoleCheckMs },
            )
          : undefined;
      presence?.start();
      const stopAnnouncing = deps.consoles.onOpenedHere((agentId) => {
        router.announceOpenOffers(agentId).catch((error: unknown) => {
          deps.logger.warn({ err: error, agentId }, "open offers not announced to the agent's new console");
        });
      });
      app.addHook('onClose', async () => {
        stopAnnouncing();
        presence?.stop();
        await router.stop();
      });

      app.post(
        '/v1/conversations/:id/accept',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Accept the offer made to you (or take a callback); a second accept gets 409',
            params: ConversationIdParams,
            response: { 200: EventReply, ...errors },
          },
        },
        async (request) => ({ event: await router.accept(request.params.id, agentOf(request.principal)) }),
      );

      app.post(
        '/v1/conversations/:id/decline',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Decline the offer made to you; it moves on to the next agent',
            params: ConversationIdParams,
            body: optionalBody(z.object({ reason: z.string().trim().max(500).optional() })),
            response: { 200: EventReply, ...errors },
          },
        },
        async (request) => ({
          event: await router.decline(request.params.id, agentOf(request.principal), request.body.reason),
        }),
      );

      app.post(
        '/v1/conversations/:id/transfer',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Hand your conversation to a queue or a named agent, with a note for them',
            params: ConversationIdParams,
            body: optionalBody(
              z.object({
                queue: z.string().min(1).max(60).optional(),
                agentId: z.string().min(1).max(120).optional(),
                note: Note.optional(),
              }),
            ),
            response: { 200: EventReply, ...errors },
          },
        },
        async (request) => ({
          event: await router.transfer(request.params.id, agentOf(request.principal), request.body),
        }),
      );

      app.post(
        '/v1/conversations/:id/return',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Hand your conversation back to the AI, with a note of what you did',
            params: ConversationIdParams,
            body: optionalBody(z.object({ note: Note.optional() })),
            response: { 200: EventReply, ...errors },
          },
        },
        async (request) => ({
          event: await router.returnToAi(request.params.id, agentOf(request.principal), request.body.note),
        }),
      );

      app.post(
        '/v1/conversations/:id/resolve',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Close your conversation',
            params: ConversationIdParams,
            body: optionalBody(
              z.object({
                summary: Note.optional(),
                seenSeq: z
                  .number()
                  .int()
                  .nonnegative()
                  .optional()
                  .describe(
                    'The last event you had in front of you. If the customer wrote after it, nothing is closed: 409 with details.reason "customer_wrote"',
                  ),
              }),
            ),
            response: { 200: EventReply, ...errors },
          },
        },
        async (request) => ({
          event: await router.resolve(request.params.id, agentOf(request.principal), {
            summary: request.body.summary,
            seenSeq: request.body.seenSeq,
          }),
        }),
      );

      app.post(
        '/v1/desk/presence',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Set your presence; going away or offline lets your open offers go at once',
            body: z.object({ presence: Presence }),
            response: { 200: z.object({ agent: AgentSchema }), ...errors },
          },
        },
        async (request) => {
          const agent = agentOf(request.principal);
          await router.setPresence(agent, request.body.presence);
          const record = await store.getAgent(agent.id);
          if (!record) throw new BatonError('not_found', 'agent not found');
          return { agent: record };
        },
      );

      app.get(
        '/v1/desk/inbox',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Your open offers, the conversations you own, and callbacks anyone may take',
            response: { 200: InboxSchema, ...errors },
          },
        },
        async (request) => router.inbox(agentOf(request.principal).id),
      );

      app.get(
        '/v1/desk/queues',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Queues with who is waiting, in order, and the wait estimate',
            response: { 200: z.object({ queues: z.array(QueueViewSchema) }), ...errors },
          },
        },
        async () => ({ queues: await router.queueViews() }),
      );

      app.get(
        '/v1/desk/agents',
        {
          preHandler: auth.require('agent'),
          schema: {
            tags: ['desk'],
            summary: 'Agents with presence and load (for transfers and the supervisor view)',
            response: { 200: z.object({ agents: z.array(AgentLoadSchema) }), ...errors },
          },
        },
        async () => ({ agents: await router.agentViews() }),
      );

      app.get(
        '/v1/desk/metrics',
        {
          preHandler: auth.require('supervisor'),
          schema: {
            tags: ['desk'],
            summary: 'Handoff metrics over time buckets, for the supervisor charts',
            querystring: z.object({
              hours: z.coerce
                .number()
                .positive()
                .max(24 * 31)
                .default(24),
              bucketMinutes: z.coerce
                .number()
                .int()
                .min(1)
                .max(24 * 60)
                .default(60),
            }),
            response: { 200: MetricsSchema, ...errors },
          },
        },
        async (request) => metrics.get(request.query),
      );
    },
  };
}

export const deskRoutes: RouteModule = deskModule();
