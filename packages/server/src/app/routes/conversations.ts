import {
  BatonError,
  CLINICAL_SKILL,
  HandoffRequested,
  Industry,
  maskEvents,
  type StoredEvent,
  type Viewer,
} from '@baton/core';
import { z } from 'zod';
import type { ConversationRecord } from '../../store/store.ts';
import type { Principal } from '../auth.ts';
import type { Actor } from '../conversation-service.ts';
import { ErrorBody } from '../http-errors.ts';
import type { RouteDeps, RouteModule } from '../route-module.ts';
import {
  ConversationIdParams,
  ConversationSchema,
  ConversationStateSchema,
  EventBodySchema,
  MessageText,
  StoredEventSchema,
} from './schemas.ts';

/** What a customer may see of their own record: internal notes, actions, facts and offers stay with staff. */
const CUSTOMER_VISIBLE = new Set<StoredEvent['type']>([
  'message',
  'handoff.requested',
  'handoff.queued',
  'handoff.accepted',
  'handoff.transferred',
  'handoff.returned',
  'handoff.resolved',
  'handoff.callback',
  'feedback',
]);

export function isVisibleTo(principal: Principal, event: StoredEvent): boolean {
  return principal.kind !== 'customer' || CUSTOMER_VISIBLE.has(event.type);
}

export function actorOf(principal: Principal): Actor {
  switch (principal.kind) {
    case 'agent':
      return { kind: 'agent', id: principal.agent.id, name: principal.agent.name };
    case 'bot':
      return { kind: 'bot', id: principal.botId };
    case 'customer':
      return { kind: 'customer' };
  }
}

/**
 * Checks that `principal` may open this conversation, and records every agent read in the audit log
 * (who, what, when): access to customer records must be accountable.
 */
export async function authorizeRead(
  deps: RouteDeps,
  principal: Principal,
  conversation: ConversationRecord,
  action: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  if (principal.kind === 'customer' && principal.conversationId !== conversation.id) {
    throw new BatonError('forbidden', 'this token opens another conversation');
  }
  if (principal.kind === 'bot' && conversation.botId !== principal.botId) {
    throw new BatonError('forbidden', 'this conversation belongs to another integration');
  }
  if (principal.kind === 'agent') {
    await deps.store.appendAudit({
      actorKind: 'agent',
      actorId: principal.agent.id,
      action,
      conversationId: conversation.id,
      detail,
    });
  }
}

/** Who reads, for field-level masking: an agent's role and skills (S3: `clinical` opens clinical fields). */
export function viewerOf(principal: Extract<Principal, { kind: 'agent' }>): Viewer {
  return { role: principal.agent.role, skills: principal.agent.skills };
}

/** What an agent's read let them see, for the audit entry. */
export function viewDetail(principal: Principal): Record<string, unknown> {
  return principal.kind === 'agent' ? { clinical: principal.agent.skills.includes(CLINICAL_SKILL) } : {};
}

function principalOf(request: { principal: Principal | null }): Principal {
  if (!request.principal) throw new BatonError('unauthorized', 'credentials required');
  return request.principal;
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };

export const conversationRoutes: RouteModule = {
  name: 'conversations',
  register(app, deps) {
    const { auth, service } = deps;

    app.post(
      '/v1/conversations',
      {
        preHandler: auth.optionalBot(),
        schema: {
          tags: ['conversations'],
          summary: 'Start a conversation (widget or bot); returns the customer token once',
          body: z
            .object({
              industry: Industry.optional(),
              customerName: z.string().trim().min(1).max(120).optional(),
              text: MessageText.optional(),
            })
            .default({}),
          response: {
            201: z.object({
              conversation: ConversationSchema,
              customerToken: z.string(),
              events: z.array(StoredEventSchema),
            }),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const principal = request.principal;
        const body = request.body;
        const created = await service.create({
          ...(body.industry ? { industry: body.industry } : {}),
          ...(body.customerName ? { customerName: body.customerName } : {}),
          ...(body.text !== undefined ? { text: body.text } : {}),
          ...(principal?.kind === 'bot' ? { botId: principal.botId, channel: 'api' as const } : {}),
        });
        auth.rememberCustomer(created.conversation.id, created.customerToken);
        return reply.status(201).send(created);
      },
    );

    app.get(
      '/v1/conversations',
      {
        preHandler: auth.require('agent'),
        schema: {
          tags: ['conversations'],
          summary: 'List conversations, most recently updated first',
          querystring: z.object({
            status: z
              .string()
              .max(200)
              .optional()
              .describe('comma-separated statuses, e.g. queued,assigned')
              .transform((value) =>
                value
                  ?.split(',')
                  .map((part) => part.trim())
                  .filter(Boolean),
              ),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
          response: { 200: z.object({ conversations: z.array(ConversationSchema) }), ...errors },
        },
      },
      async (request) => {
        const { status, limit } = request.query;
        const conversations = await service.list({ ...(status?.length ? { status } : {}), limit });
        return { conversations };
      },
    );

    app.get(
      '/v1/conversations/:id',
      {
        preHandler: auth.require('agent', 'customer', 'bot'),
        schema: {
          tags: ['conversations'],
          summary: 'A conversation and its reduced state',
          params: ConversationIdParams,
          response: { 200: z.object({ conversation: ConversationSchema, state: ConversationStateSchema }), ...errors },
        },
      },
      async (request) => {
        const view = await service.getFresh(request.params.id);
        await authorizeRead(deps, principalOf(request), view.conversation, 'conversation.viewed');
        return view;
      },
    );

    app.get(
      '/v1/conversations/:id/events',
      {
        preHandler: auth.require('agent', 'customer', 'bot'),
        schema: {
          tags: ['conversations'],
          summary: 'Events with seq > after, in order',
          params: ConversationIdParams,
          querystring: z.object({
            after: z.coerce.number().int().min(0).default(0),
            limit: z.coerce.number().int().min(1).max(1000).default(1000),
          }),
          response: {
            200: z.object({
              events: z.array(StoredEventSchema),
              lastSeq: z.number().int().describe("the conversation's last seq"),
              until: z
                .number()
                .int()
                .describe('the last seq this page covered (staff-only events included): the next page is after=until'),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const { id } = request.params;
        const { after, limit } = request.query;
        const view = await service.get(id);
        await authorizeRead(deps, principal, view.conversation, 'conversation.events_read', {
          after,
          limit,
          ...viewDetail(principal),
        });
        const events = await service.readEvents(id, after, limit);
        const visible = events.filter((event) => isVisibleTo(principal, event));
        return {
          // Clinical fields only for clinical staff, identity secrets for no one (S3); bots read what they wrote.
          events: principal.kind === 'agent' ? maskEvents(visible, viewerOf(principal)) : visible,
          // The log itself is the truth: another process may have written past this process's cache.
          lastSeq: Math.max(view.state.lastSeq, events.at(-1)?.seq ?? 0),
          until: events.at(-1)?.seq ?? after,
        };
      },
    );

    app.post(
      '/v1/conversations/:id/messages',
      {
        preHandler: auth.require('agent', 'customer', 'bot'),
        schema: {
          tags: ['conversations'],
          summary: 'Write to the conversation; the author comes from the credentials',
          params: ConversationIdParams,
          body: z.object({ text: MessageText }),
          response: { 201: z.object({ event: StoredEventSchema }), ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { id } = request.params;
        if (principal.kind === 'bot') await assertBotConversation(deps, principal, id);
        const text = request.body.text;
        const message =
          principal.kind === 'agent'
            ? {
                type: 'message' as const,
                author: 'agent' as const,
                text,
                authorId: principal.agent.id,
                authorName: principal.agent.name,
              }
            : principal.kind === 'bot'
              ? { type: 'message' as const, author: 'bot' as const, text, authorId: principal.botId }
              : { type: 'message' as const, author: 'customer' as const, text };
        const [event] = await service.append(id, [message], actorOf(principal));
        return reply.status(201).send({ event: event! });
      },
    );

    app.post(
      '/v1/conversations/:id/events',
      {
        preHandler: auth.require('bot'),
        schema: {
          tags: ['conversations'],
          summary: 'A bot integration appends what it did and learned (messages, actions, facts, identity, handoff)',
          params: ConversationIdParams,
          body: z.object({ events: z.array(EventBodySchema).min(1).max(200) }),
          response: { 201: z.object({ events: z.array(StoredEventSchema) }), ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.kind !== 'bot') throw new BatonError('forbidden', 'bots only');
        await assertBotConversation(deps, principal, request.params.id);
        const events = await service.append(request.params.id, request.body.events, actorOf(principal));
        return reply.status(201).send({ events });
      },
    );

    app.post(
      '/v1/conversations/:id/handoff',
      {
        preHandler: auth.require('customer', 'bot'),
        schema: {
          tags: ['conversations'],
          summary: 'Ask for a human',
          params: ConversationIdParams,
          body: z
            .object({
              reason: z.string().trim().max(500).optional(),
              skills: z.array(z.string().min(1).max(40)).max(20).optional(),
              priority: HandoffRequested.shape.priority.optional(),
            })
            .default({}),
          response: { 201: z.object({ event: StoredEventSchema }), ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { id } = request.params;
        if (principal.kind === 'bot') await assertBotConversation(deps, principal, id);
        const { state } = await service.getFresh(id);
        if (state.status === 'queued' || state.status === 'offered' || state.status === 'assigned') {
          throw new BatonError(
            'conflict',
            `a person is already ${state.status === 'assigned' ? 'here' : 'on the way'}`,
          );
        }
        const body = request.body;
        const [event] = await service.append(
          id,
          [
            {
              type: 'handoff.requested',
              trigger: principal.kind === 'bot' ? 'bot_request' : 'customer_request',
              ...(body.reason ? { reason: body.reason } : {}),
              ...(body.skills ? { skills: body.skills } : {}),
              ...(body.priority ? { priority: body.priority } : {}),
            },
          ],
          actorOf(principal),
        );
        return reply.status(201).send({ event: event! });
      },
    );

    app.post(
      '/v1/conversations/:id/notes',
      {
        preHandler: auth.require('agent'),
        schema: {
          tags: ['conversations'],
          summary: 'Internal note, never shown to the customer',
          params: ConversationIdParams,
          body: z.object({ text: MessageText }),
          response: { 201: z.object({ event: StoredEventSchema }), ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.kind !== 'agent') throw new BatonError('forbidden', 'agents only');
        const [event] = await service.append(
          request.params.id,
          [{ type: 'note', text: request.body.text, authorId: principal.agent.id, authorName: principal.agent.name }],
          actorOf(principal),
        );
        return reply.status(201).send({ event: event! });
      },
    );

    app.post(
      '/v1/conversations/:id/feedback',
      {
        preHandler: auth.require('customer'),
        schema: {
          tags: ['conversations'],
          summary: "The customer's rating",
          params: ConversationIdParams,
          body: z.object({
            rating: z.number({ message: 'rating must be a number' }).int().min(1).max(5),
            comment: z.string().trim().max(2000).optional(),
          }),
          response: { 201: z.object({ event: StoredEventSchema }), ...errors },
        },
      },
      async (request, reply) => {
        const { rating, comment } = request.body;
        const [event] = await service.append(
          request.params.id,
          [{ type: 'feedback', rating, ...(comment ? { comment } : {}) }],
          { kind: 'customer' },
        );
        return reply.status(201).send({ event: event! });
      },
    );
  },
};

async function assertBotConversation(
  deps: RouteDeps,
  principal: Extract<Principal, { kind: 'bot' }>,
  id: string,
): Promise<void> {
  const { conversation } = await deps.service.get(id);
  if (conversation.botId !== principal.botId) {
    throw new BatonError('forbidden', 'this conversation belongs to another integration');
  }
}
