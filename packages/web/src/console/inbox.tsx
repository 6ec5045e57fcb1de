import type { ConversationState, StoredEvent } from '@baton/core';
import type { ConversationSummary } from '../lib/api.ts';
import { formatTime, initials } from '../lib/format.ts';

export interface InboxItem {
  id: string;
  name: string;
  preview: string;
  at: string | undefined;
  state: ConversationState;
  unread: boolean;
}

export interface InboxGroups {
  offers: InboxItem[];
  mine: InboxItem[];
  waiting: InboxItem[];
  withAi: InboxItem[];
  closed: InboxItem[];
}

export function groupInbox(items: readonly InboxItem[], me: string): InboxGroups {
  const groups: InboxGroups = { offers: [], mine: [], waiting: [], withAi: [], closed: [] };
  for (const item of items) {
    const { state } = item;
    if (state.status === 'offered' && state.handoff?.offeredTo === me) groups.offers.push(item);
    else if (state.owner.kind === 'agent' && state.owner.id === me) groups.mine.push(item);
    else if (state.status === 'queued' || state.status === 'offered') groups.waiting.push(item);
    else if (state.status === 'active' || state.status === 'assigned') groups.withAi.push(item);
    else groups.closed.push(item);
  }
  return groups;
}

export function toInboxItem(
  summary: ConversationSummary,
  events: readonly StoredEvent[],
  state: ConversationState,
  seenSeq: number,
): InboxItem {
  let preview = summary.preview ?? summary.lastMessage ?? '';
  let at = summary.updatedAt ?? summary.createdAt ?? undefined;
  let unread = false;
  for (let index = events.length - 1; index >= 0; index -= 1) {
    const event = events[index];
    if (event?.type === 'message') {
      preview = event.text;
      at = event.at;
      unread = event.author === 'customer' && event.seq > seenSeq;
      break;
    }
  }
  return { id: summary.id, name: summary.customerName ?? 'Customer', preview, at, state, unread };
}

const SECTIONS: readonly { key: keyof InboxGroups; title: string }[] = [
  { key: 'offers', title: 'Offers for you' },
  { key: 'mine', title: 'My conversations' },
  { key: 'waiting', title: 'Waiting in queue' },
  { key: 'withAi', title: 'With the AI or colleagues' },
  { key: 'closed', title: 'Closed' },
];

export function Inbox({
  groups,
  selected,
  onSelect,
}: {
  groups: InboxGroups;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  return (
    <nav className="inbox" aria-label="Inbox" data-testid="inbox">
      {SECTIONS.map(({ key, title }) => {
        const items = groups[key];
        if (items.length === 0 && key !== 'mine' && key !== 'offers') return null;
        return (
          <section key={key} className={`inbox-section inbox-${key}`} aria-label={title}>
            <h2>
              {title} <span className="count">{items.length}</span>
            </h2>
            {items.length === 0 ? (
              <p className="muted small inbox-empty">{key === 'offers' ? 'No offers right now' : 'Nothing here'}</p>
            ) : (
              <ul>
                {items.map((item) => (
                  <li key={item.id}>
                    <button
                      type="button"
                      className={`inbox-item${selected === item.id ? ' selected' : ''}${key === 'offers' ? ' offer' : ''}`}
                      aria-current={selected === item.id ? 'true' : undefined}
                      onClick={() => onSelect(item.id)}
                      data-conversation={item.id}
                    >
                      <span className="avatar" aria-hidden="true">
                        {initials(item.name)}
                      </span>
                      <span className="inbox-text">
                        <span className="inbox-line">
                          <span className="inbox-name">{item.name}</span>
                          <time className="muted small">{formatTime(item.at)}</time>
                        </span>
                        <span className="inbox-preview">{item.preview || '…'}</span>
                        {item.state.handoff && item.state.handoff.priority !== 'normal' ? (
                          <span className={`badge ${item.state.handoff.priority}`}>{item.state.handoff.priority}</span>
                        ) : null}
                      </span>
                      {item.unread ? <span className="unread-dot" role="img" aria-label="Unread" /> : null}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </nav>
  );
}
