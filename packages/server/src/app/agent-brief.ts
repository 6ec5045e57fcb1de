import { type Brief, buildBrief, maskBrief, maskEvents, type StoredEvent, type Viewer } from '@baton/core';
import type { ConversationRecord, Store } from '../store/store.ts';

const PAGE = 1000;

/** Every event of a conversation, read page by page; past `known` (its first events, in order) when given. */
export async function readWholeLog(
  store: Store,
  conversationId: string,
  known: readonly StoredEvent[] = [],
): Promise<StoredEvent[]> {
  const events = [...known];
  for (;;) {
    const page = await store.readEvents(conversationId, events.at(-1)?.seq ?? 0, PAGE);
    for (const event of page) events.push(event);
    if (page.length < PAGE) return events;
  }
}

/**
 * A log read while `appended` was being written by the reader, brought up to the end of `appended`;
 * undefined when someone else's events fall between the two (read again past `read` for them).
 */
export function throughAppended(
  read: readonly StoredEvent[],
  appended: readonly StoredEvent[],
): readonly StoredEvent[] | undefined {
  const last = read.at(-1)?.seq ?? 0;
  if ((appended.at(-1)?.seq ?? 0) <= last) return read;
  if (appended[0]?.seq === last + 1) return [...read, ...appended];
  return undefined;
}

/**
 * The brief as one agent may see it: the log is masked for them before the brief is built, so nothing
 * derived (details, facts) carries a hidden field, and the brief is masked after, for what it adds on
 * its own. The brief route and the offer notice both send this.
 */
export function briefFor(
  events: readonly StoredEvent[],
  conversation: Pick<ConversationRecord, 'industry' | 'customerName'>,
  viewer: Viewer,
  upTo?: number,
): Brief {
  const masked = maskEvents(events, viewer);
  const built = buildBrief(masked, {
    industry: conversation.industry,
    ...(conversation.customerName ? { customerName: conversation.customerName } : {}),
    // Notes and earlier agents' work after the handoff belong to the brief a transferred agent reads (S6).
    ...(upTo ? { upTo } : { through: masked.length }),
  });
  return maskBrief(built, viewer);
}
