import { StoredEvent } from '@baton/core';
import { z } from 'zod';
import type { BusMessage } from './bus.ts';

export const BUS_PROTOCOL_VERSION = 1;

export const BusMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('event'), event: StoredEvent }),
  z.object({ kind: z.literal('desk'), name: z.string().min(1), payload: z.record(z.string(), z.unknown()) }),
]);

/** What travels between processes: the message, its topic, and who sent it. */
export const BusEnvelope = z.object({
  v: z.literal(BUS_PROTOCOL_VERSION),
  /** The sending bus instance, so each process can tell its own messages from others'. */
  processId: z.string().min(1),
  topic: z.string().min(1),
  message: BusMessageSchema,
});
export type BusEnvelope = Omit<z.infer<typeof BusEnvelope>, 'message'> & { message: BusMessage };
