import { type ConversationState, Industry, initialState, reduce, type StoredEvent } from '@baton/core';
import { type FormEvent, type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { CreatedConversation, describeError, EventAnswer, Nothing, request } from '../lib/api.ts';
import { ConnectionBanner } from '../lib/connection-banner.tsx';
import { EventLog, useEventLog } from '../lib/event-log.ts';
import { formatTime } from '../lib/format.ts';
import { BatonStream, streamUrl } from '../lib/stream.ts';
import { useConnectionState } from '../lib/use-connection.ts';
import { type ChatSession, clearChatSession, loadChatSession, saveChatSession } from './chat-session.ts';
import { queueText, transitionText } from './transition-text.ts';

const params = new URLSearchParams(location.search);
const EMBEDDED = params.get('embed') === '1';
// An unknown industry from a hand-written embed code falls back to the server's default, not an error.
const INDUSTRY = Industry.safeParse(params.get('industry')).data;
const CUSTOMER_NAME = params.get('name') ?? undefined;
const TITLE = params.get('title') ?? 'Support';

interface Live {
  stream: BatonStream;
  log: EventLog;
}

function openLive(session: ChatSession): Live {
  const stream = new BatonStream({
    url: () => streamUrl({ customerToken: session.customerToken, conversationId: session.conversationId }),
  });
  const log = new EventLog(stream);
  stream.subscribe(session.conversationId, 0);
  stream.open();
  return { stream, log };
}

export function ChatApp() {
  const [session, setSession] = useState<ChatSession | null>(() => loadChatSession());
  const [live, setLive] = useState<Live | null>(null);

  useEffect(() => {
    if (!session) return;
    const opened = openLive(session);
    setLive(opened);
    return () => opened.stream.close();
  }, [session]);

  const startNew = () => {
    clearChatSession();
    setLive(null);
    setSession(null);
  };

  return (
    <div className={`chat-shell${EMBEDDED ? ' embedded' : ''}`}>
      <header className="chat-header">
        <div className="chat-brand">
          <span className="logo-mark" aria-hidden="true">
            B
          </span>
          <div>
            <h1>{TITLE}</h1>
            <p className="muted small">We usually answer in a few seconds</p>
          </div>
        </div>
        {EMBEDDED ? (
          <button
            type="button"
            className="icon-button"
            aria-label="Close chat"
            onClick={() => window.parent.postMessage({ source: 'baton', type: 'close' }, '*')}
          >
            ×
          </button>
        ) : null}
      </header>
      {session && live ? (
        <Conversation session={session} live={live} onStartNew={startNew} />
      ) : (
        <Welcome onStarted={setSession} />
      )}
    </div>
  );
}

function Welcome({ onStarted }: { onStarted: (session: ChatSession) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const trimmed = text.trim();
    if (!trimmed || busy) return;
    setBusy(true);
    setError(null);
    try {
      const created = await request('/v1/conversations', CreatedConversation, {
        body: {
          text: trimmed,
          ...(INDUSTRY ? { industry: INDUSTRY } : {}),
          ...(CUSTOMER_NAME ? { customerName: CUSTOMER_NAME } : {}),
        },
      });
      const session = { conversationId: created.conversation.id, customerToken: created.customerToken };
      saveChatSession(session);
      onStarted(session);
    } catch (caught) {
      setError(describeError(caught));
      setBusy(false);
    }
  };

  return (
    <main className="chat-body">
      <div className="chat-scroll">
        <div className="chat-welcome">
          <h2>Hi{CUSTOMER_NAME ? ` ${CUSTOMER_NAME}` : ''}, how can we help?</h2>
          <p className="muted">
            Our virtual assistant answers first. If you need a person, just ask: they will see this whole conversation.
          </p>
        </div>
      </div>
      {error ? (
        <p className="chat-error" role="alert">
          {error}
        </p>
      ) : null}
      <ChatComposer value={text} onChange={setText} onSubmit={submit} busy={busy} />
    </main>
  );
}

function Conversation({ session, live, onStartNew }: { session: ChatSession; live: Live; onStartNew: () => void }) {
  useEventLog(live.log);
  const connection = useConnectionState(live.stream);
  const { events, state } = live.log.get(session.conversationId);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [agentTyping, setAgentTyping] = useState<string | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const typingSent = useRef(false);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = live.stream.listen({
      typing: (frame) => {
        if (frame.conversationId !== session.conversationId || frame.author === 'customer') return;
        clearTimeout(timer);
        setAgentTyping(frame.typing ? (frame.name ?? 'Agent') : null);
        // If "stopped typing" never comes (a closed laptop), the line fades on its own.
        if (frame.typing) timer = setTimeout(() => setAgentTyping(null), 10_000);
      },
      event: (event) => {
        if (event.type === 'message' && event.author !== 'customer') setAgentTyping(null);
      },
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [live, session.conversationId]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll whenever a new event or typing line shows
  useEffect(() => {
    const element = scrollRef.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [events.length, agentTyping]);

  const items = useMemo(() => renderItems(events), [events]);
  const waiting = waitingInfo(events, state);
  const resolved = state.status === 'resolved';
  const rated = events.some((event) => event.type === 'feedback');

  const setDraft = (value: string) => {
    setText(value);
    const typing = value.trim().length > 0;
    if (typing !== typingSent.current) {
      typingSent.current = typing;
      live.stream.typing(session.conversationId, typing);
    }
  };

  /**
   * Messages leave one after another, in the order written, and the box is free for the next one at once: a
   * customer who writes again while the last message is on its way loses nothing (before, that Enter was
   * ignored and the box then emptied). One that fails comes back into the box, unless something else is there.
   */
  const sending = useRef<Promise<void>>(Promise.resolve());
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const trimmed = text.trim();
    if (!trimmed) return;
    setDraft('');
    setError(null);
    sending.current = sending.current.then(async () => {
      try {
        await request(`/v1/conversations/${encodeURIComponent(session.conversationId)}/messages`, EventAnswer, {
          body: { text: trimmed },
          customerToken: session.customerToken,
        });
      } catch (caught) {
        setError(describeError(caught));
        setText((current) => (current.trim() ? current : trimmed));
      }
    });
  };

  const askForPerson = async () => {
    setBusy(true);
    setError(null);
    try {
      await request(`/v1/conversations/${encodeURIComponent(session.conversationId)}/handoff`, EventAnswer, {
        body: { reason: 'The customer asked for a person' },
        customerToken: session.customerToken,
      });
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="chat-body">
      <ConnectionBanner state={connection} />
      {waiting ? (
        <div className="queue-status" role="status" aria-live="polite" data-testid="queue-status">
          <span className="pulse" aria-hidden="true" />
          {waiting}
        </div>
      ) : null}
      <div className="chat-scroll" ref={scrollRef}>
        <ol className="chat-log" aria-live="polite" aria-label="Conversation" data-testid="chat-log">
          {items.map((item) =>
            item.kind === 'message' ? (
              <li key={item.seq} className={`bubble-row ${item.mine ? 'mine' : 'theirs'}`} data-seq={item.seq}>
                {!item.mine && item.author ? <span className="bubble-author">{item.author}</span> : null}
                <div className={`bubble ${item.role}`}>{item.text}</div>
                <span className="bubble-time">{formatTime(item.at)}</span>
              </li>
            ) : (
              <li key={item.seq} className="chat-transition" data-seq={item.seq}>
                {item.text}
              </li>
            ),
          )}
        </ol>
        {agentTyping ? (
          <p className="typing-line" aria-live="polite">
            <span className="dots" aria-hidden="true">
              <i />
              <i />
              <i />
            </span>
            {agentTyping} is typing…
          </p>
        ) : null}
      </div>
      {error ? (
        <p className="chat-error" role="alert">
          {error}
        </p>
      ) : null}
      {resolved ? (
        <Rating session={session} rated={rated} onStartNew={onStartNew} />
      ) : (
        <>
          {state.status === 'active' && events.length > 0 ? (
            <div className="ask-person">
              <button type="button" className="link-button" onClick={() => void askForPerson()} disabled={busy}>
                Talk to a person
              </button>
            </div>
          ) : null}
          <ChatComposer value={text} onChange={setDraft} onSubmit={submit} busy={busy} />
        </>
      )}
    </main>
  );
}

function ChatComposer({
  value,
  onChange,
  onSubmit,
  busy,
}: {
  value: string;
  onChange: (value: string) => void;
  onSubmit: (event?: FormEvent) => void;
  busy: boolean;
}) {
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      onSubmit();
    }
  };
  return (
    <form className="chat-compose" onSubmit={onSubmit}>
      <label htmlFor="chat-input" className="sr-only">
        Your message
      </label>
      <textarea
        id="chat-input"
        rows={1}
        placeholder="Write a message…"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        maxLength={8000}
      />
      <button type="submit" className="button primary" disabled={busy || !value.trim()}>
        Send
      </button>
    </form>
  );
}

function Rating({ session, rated, onStartNew }: { session: ChatSession; rated: boolean; onStartNew: () => void }) {
  const [rating, setRating] = useState(0);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!rating) return;
    setBusy(true);
    try {
      await request(`/v1/conversations/${encodeURIComponent(session.conversationId)}/feedback`, Nothing, {
        body: { rating, ...(comment.trim() ? { comment: comment.trim() } : {}) },
        customerToken: session.customerToken,
      });
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  if (rated) {
    return (
      <div className="rating done" role="status">
        <p>Thank you for your feedback.</p>
        <button type="button" className="button" onClick={onStartNew}>
          Start a new conversation
        </button>
      </div>
    );
  }
  return (
    <form className="rating" onSubmit={submit} aria-label="Rate this conversation">
      <fieldset>
        <legend>How did we do?</legend>
        <div className="stars">
          {[1, 2, 3, 4, 5].map((value) => (
            <label key={value} className={value <= rating ? 'star on' : 'star'}>
              <input
                type="radio"
                name="rating"
                value={value}
                checked={rating === value}
                onChange={() => setRating(value)}
                className="sr-only"
              />
              <span aria-hidden="true">★</span>
              <span className="sr-only">
                {value} star{value > 1 ? 's' : ''}
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <label htmlFor="rating-comment" className="sr-only">
        Comment
      </label>
      <textarea
        id="rating-comment"
        rows={2}
        placeholder="Anything we could do better? (optional)"
        value={comment}
        onChange={(event) => setComment(event.target.value)}
      />
      {error ? <p role="alert">{error}</p> : null}
      <button type="submit" className="button primary" disabled={!rating || busy}>
        Send rating
      </button>
    </form>
  );
}

type ChatItem =
  | { kind: 'message'; seq: number; at: string; text: string; mine: boolean; role: string; author: string | null }
  | { kind: 'transition'; seq: number; text: string };

function renderItems(events: readonly StoredEvent[]): ChatItem[] {
  const items: ChatItem[] = [];
  let state: ConversationState = initialState();
  for (const event of events) {
    if (event.type === 'message') {
      const mine = event.author === 'customer';
      items.push({
        kind: 'message',
        seq: event.seq,
        at: event.at,
        text: event.text,
        mine,
        role: event.author,
        author: mine
          ? null
          : event.author === 'ai'
            ? 'Virtual assistant'
            : event.author === 'system'
              ? null
              : (event.authorName ?? 'Agent'),
      });
    } else {
      const currentAgent = state.owner.kind === 'agent' ? state.owner.name : undefined;
      const queue =
        event.type === 'handoff.accepted' ? (state.handoff?.queue ?? undefined) : (state.handoff?.queue ?? undefined);
      const text = transitionText(event, {
        ...(currentAgent ? { currentAgent } : {}),
        ...(queue ? { queue } : {}),
      });
      if (text) items.push({ kind: 'transition', seq: event.seq, text });
    }
    state = reduce(state, event);
  }
  return items;
}

function waitingInfo(events: readonly StoredEvent[], state: ConversationState): string | null {
  if (state.status !== 'queued' && state.status !== 'offered') return null;
  for (let index = events.length - 1; index >= 0; index -= 1) {
    const event = events[index];
    if (!event) continue;
    if (event.type === 'handoff.queued') return queueText(event.position, event.estimatedWaitSeconds);
    if (event.type === 'handoff.requested' || event.type === 'handoff.transferred') break;
  }
  return 'Finding someone for you…';
}
