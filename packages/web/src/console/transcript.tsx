import type { StoredEvent } from '@baton/core';
import { formatTime, humanize } from '../lib/format.ts';

function authorLabel(event: Extract<StoredEvent, { type: 'message' }>): string {
  switch (event.author) {
    case 'customer':
      return event.authorName ?? 'Customer';
    case 'ai':
      return 'AI assistant';
    case 'agent':
      return event.authorName ?? 'Agent';
    case 'bot':
      return event.authorName ?? 'Bot';
    default:
      return 'System';
  }
}

function systemLine(event: StoredEvent): string | null {
  switch (event.type) {
    case 'handoff.requested':
      return `Handoff requested · ${event.reason ?? humanize(event.trigger).toLowerCase()}${event.priority === 'normal' ? '' : ` · ${event.priority} priority`}`;
    case 'handoff.queued':
      return `Queued in ${event.queue}${event.position ? ` · position ${event.position}` : ''}`;
    case 'handoff.offered':
      return `Offered to ${event.agentName ?? event.agentId}`;
    case 'handoff.accepted':
      return `${event.agentName ?? event.agentId} joined`;
    case 'handoff.declined':
      return `Declined by ${event.agentId}${event.reason ? `: ${event.reason}` : ''}`;
    case 'handoff.expired':
      return `Offer to ${event.agentId} expired`;
    case 'handoff.transferred':
      return `Transferred${event.queue ? ` to ${event.queue}` : ''}${event.toAgentId ? ` to ${event.toAgentId}` : ''}`;
    case 'handoff.returned':
      return 'Handed back to the AI';
    case 'handoff.resolved':
      return `Resolved${event.summary ? `: ${event.summary}` : ''}`;
    case 'handoff.callback':
      return `Callback requested${event.reason ? `: ${event.reason}` : ''}`;
    case 'identity':
      return `Identity ${event.result} by ${humanize(event.method).toLowerCase()}`;
    case 'feedback':
      return `Customer rated ${'★'.repeat(event.rating)}${'☆'.repeat(5 - event.rating)}${event.comment ? `: “${event.comment}”` : ''}`;
    default:
      return null;
  }
}

/** The whole record in order: messages, the AI's actions with their outcomes, notes and handoff steps. */
export function Transcript({ events, highlight }: { events: readonly StoredEvent[]; highlight: number | null }) {
  return (
    <ol className="transcript" aria-label="Transcript" data-testid="transcript">
      {events.map((event) => {
        const highlighted = highlight === event.seq ? ' highlight' : '';
        if (event.type === 'message') {
          return (
            <li
              key={event.seq}
              id={`event-${event.seq}`}
              tabIndex={-1}
              className={`message message-${event.author}${highlighted}`}
              data-seq={event.seq}
            >
              <div className="message-meta">
                <span className="message-author">{authorLabel(event)}</span>
                <time dateTime={event.at}>{formatTime(event.at)}</time>
              </div>
              <div className="message-text">{event.text}</div>
            </li>
          );
        }
        if (event.type === 'action') {
          return (
            <li
              key={event.seq}
              id={`event-${event.seq}`}
              tabIndex={-1}
              className={`action-row${highlighted}`}
              data-seq={event.seq}
            >
              <span className="action-icon" aria-hidden="true">
                ⚙
              </span>
              <span className="action-actor">{event.actor === 'ai' ? 'AI' : humanize(event.actor)}</span>
              <span className="action-name">{humanize(event.name)}</span>
              <span className={`badge ${event.outcome}`}>{event.outcome}</span>
              {event.error ? (
                <code className="action-error">
                  {event.error.system}: {event.error.code}
                </code>
              ) : null}
            </li>
          );
        }
        if (event.type === 'note') {
          return (
            <li
              key={event.seq}
              id={`event-${event.seq}`}
              tabIndex={-1}
              className={`note-row${highlighted}`}
              data-seq={event.seq}
            >
              <div className="message-meta">
                <span className="message-author">Internal note · {event.authorName ?? 'Agent'}</span>
                <time dateTime={event.at}>{formatTime(event.at)}</time>
              </div>
              <div className="message-text">{event.text}</div>
            </li>
          );
        }
        if (event.type === 'fact') return null;
        const line = systemLine(event);
        if (!line) return null;
        return (
          <li key={event.seq} id={`event-${event.seq}`} className={`system-row${highlighted}`} data-seq={event.seq}>
            <span>{line}</span>
            <time dateTime={event.at}>{formatTime(event.at)}</time>
          </li>
        );
      })}
    </ol>
  );
}
