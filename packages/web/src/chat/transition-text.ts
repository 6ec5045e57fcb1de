import { DEFAULT_QUEUES, type StoredEvent } from '@baton/core';
import { formatDuration } from '../lib/format.ts';

/**
 * What the customer is told at each step of a handoff: honest about who is coming, what they can see,
 * and how long it may take. Internal steps (offers, declines, notes, facts) say nothing.
 */
export function transitionText(event: StoredEvent, context: { currentAgent?: string; queue?: string }): string | null {
  switch (event.type) {
    case 'handoff.requested':
      return "I'm connecting you with a person from our team. They will see this whole conversation, so you won't have to repeat yourself.";
    case 'handoff.accepted': {
      const name = event.agentName ?? 'An agent';
      const from = teamName(context.queue);
      return `${name}${from} is joining; they can see everything so far.`;
    }
    case 'handoff.transferred': {
      const who = context.currentAgent ?? 'Your agent';
      const where = `a colleague${teamName(event.queue)}`;
      return `${who} is bringing in ${where}. They will see everything so far.`;
    }
    case 'handoff.returned': {
      const who = context.currentAgent ?? 'Your agent';
      return `${who} has handed you back to our virtual assistant, which can see everything ${who === 'Your agent' ? 'they' : who} did.`;
    }
    case 'handoff.resolved':
      return 'This conversation has been marked as resolved.';
    case 'handoff.callback':
      return "No one is free right now, so we've turned this into a callback request. A person will contact you with this whole conversation in front of them.";
    default:
      return null;
  }
}

export function queueText(position: number | undefined, waitSeconds: number | undefined): string {
  const place = position ? `You are number ${position} in the queue.` : 'You are in the queue.';
  if (waitSeconds === undefined)
    return `${place} Everyone who could help is busy or away right now; we'll keep your place.`;
  if (waitSeconds < 60) return `${place} Expected wait: under a minute.`;
  const minutes = Math.round(waitSeconds / 60);
  if (minutes < 90) return `${place} Expected wait: about ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  return `${place} Expected wait: about ${formatDuration(waitSeconds)}.`;
}

/** " from billing" for a named team; nothing for the general queue, whose name says nothing to a customer. */
function teamName(queue: string | undefined): string {
  if (!queue || queue === 'general') return '';
  const known = DEFAULT_QUEUES.find((entry) => entry.id === queue);
  return ` from ${(known?.name ?? queue).toLowerCase()}`;
}
