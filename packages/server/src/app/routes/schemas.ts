import { EventBody, HandoffTrigger, Industry, MAX_TEXT_LENGTH, Priority, StoredEvent } from '@baton/core';
import { z } from 'zod';

/** Response and request schemas shared by route modules; they also name the components of /openapi.json. */

export const OwnerSchema = z
  .union([
    z.object({ kind: z.literal('ai') }),
    z.object({ kind: z.literal('bot'), id: z.string() }),
    z.object({ kind: z.literal('agent'), id: z.string(), name: z.string().optional() }),
    z.object({ kind: z.literal('queue'), queue: z.string().optional() }),
    z.object({ kind: z.literal('none') }),
  ])
  .meta({ id: 'Owner' });

export const ConversationSchema = z
  .object({
    id: z.string(),
    industry: z.string(),
    channel: z.enum(['widget', 'api', 'demo']),
    botId: z.string().nullable(),
    customerName: z.string().nullable(),
    status: z.string(),
    owner: OwnerSchema,
    lastSeq: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Conversation' });

export const ConversationStateSchema = z
  .object({
    lastSeq: z.number().int(),
    owner: OwnerSchema,
    status: z.enum(['active', 'queued', 'offered', 'assigned', 'resolved', 'callback']),
    handoff: z
      .object({
        trigger: HandoffTrigger,
        reason: z.string().optional(),
        priority: Priority,
        skills: z.array(z.string()),
        queue: z.string().optional(),
        requestedSeq: z.number().int(),
        requestedAt: z.string().optional(),
        offeredTo: z.string().optional(),
      })
      .optional(),
    agents: z.array(z.string()),
    messageCount: z.number().int(),
    customerMessageCount: z.number().int(),
    lastCustomerMessageAt: z.string().optional(),
    lastCustomerMessageSeq: z.number().int().optional(),
    startedAt: z.string().optional(),
    updatedAt: z.string().optional(),
  })
  .meta({ id: 'ConversationState' });

export const StoredEventSchema = StoredEvent.meta({ id: 'StoredEvent' });
export const EventBodySchema = EventBody.meta({ id: 'EventBody' });

export const AgentSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['agent', 'supervisor', 'admin']),
    skills: z.array(z.string()),
    languages: z.array(z.string()),
    capacity: z.number().int(),
    presence: z.enum(['online', 'away', 'offline']),
    createdAt: z.string(),
  })
  .meta({ id: 'Agent' });

export const ConversationIdParams = z.object({
  id: z.string().min(1).max(120),
});

export const MessageText = z
  .string({ message: 'text must be a string' })
  .trim()
  .min(1, 'text must not be empty')
  .max(MAX_TEXT_LENGTH, `text is longer than ${MAX_TEXT_LENGTH} characters`);

export const IndustrySchema = Industry;
