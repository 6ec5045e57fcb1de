import { BatonError } from '@baton/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { z } from 'zod';
import { ConversationSummary, request } from '../lib/api.ts';
import { EventLog } from '../lib/event-log.ts';
import { BatonStream, streamUrl, type TypingFrame } from '../lib/stream.ts';
import type { AgentSession } from './agent-session.ts';

const ConversationList = z.object({ conversations: z.array(ConversationSummary) });
/** An offer notice: only the offered agent's consoles receive one; a new offer carries the brief. */
const OfferNotice = z.object({ conversationId: z.string(), state: z.string() });

/** The desk does not depend on desk frames for correctness: a slow poll catches anything a frame missed. */
const SAFETY_POLL_MS = 5000;
const MAX_SUBSCRIBED = 150;
const TYPING_TTL_MS = 10_000;

export interface Desk {
  stream: BatonStream;
  log: EventLog;
  summaries: ReadonlyMap<string, ConversationSummary>;
  typing: ReadonlyMap<string, TypingFrame>;
  refresh: () => void;
  loadError: string | null;
}

export function useDesk(session: AgentSession, onUnauthorized: () => void): Desk {
  const stream = useMemo(
    () => new BatonStream({ url: () => streamUrl({ token: session.token }), desk: true }),
    [session.token],
  );
  const log = useMemo(() => new EventLog(stream), [stream]);
  const [summaries, setSummaries] = useState<ReadonlyMap<string, ConversationSummary>>(new Map());
  const [typing, setTyping] = useState<ReadonlyMap<string, TypingFrame>>(new Map());
  const [loadError, setLoadError] = useState<string | null>(null);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const typingTimers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    stream.open();
    return () => stream.close();
  }, [stream]);

  const load = useCallback(async () => {
    try {
      const answer = await request('/v1/conversations', ConversationList, { agentToken: session.token });
      const next = new Map<string, ConversationSummary>();
      for (const summary of answer.conversations.slice(0, MAX_SUBSCRIBED)) {
        next.set(summary.id, summary);
        if (!stream.isSubscribed(summary.id)) stream.subscribe(summary.id, 0);
      }
      setSummaries(next);
      setLoadError(null);
    } catch (error) {
      if (BatonError.is(error) && error.code === 'unauthorized') unauthorized.current();
      else setLoadError(error instanceof Error ? error.message : 'Could not load conversations');
    }
  }, [session.token, stream]);

  const refresh = useCallback(() => {
    if (refreshTimer.current) clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => void load(), 150);
  }, [load]);

  useEffect(() => {
    void load();
    const poll = setInterval(() => void load(), SAFETY_POLL_MS);
    const stop = stream.listen({
      desk: (frame) => {
        const offer = frame.name === 'offer' ? OfferNotice.safeParse(frame.payload) : undefined;
        if (offer?.success && offer.data.state === 'open') {
          // A new offer for me: its log starts streaming now, and the list is read at once, not debounced.
          if (!stream.isSubscribed(offer.data.conversationId)) stream.subscribe(offer.data.conversationId, 0);
          void load();
          return;
        }
        refresh();
      },
      state: (state) => {
        if (state === 'open') refresh();
      },
      error: (error) => {
        if (error.code === 'unauthorized') unauthorized.current();
      },
      typing: (frame) => {
        if (frame.author !== 'customer') return;
        const clear = () =>
          setTyping((current) => {
            if (!current.has(frame.conversationId)) return current;
            const next = new Map(current);
            next.delete(frame.conversationId);
            return next;
          });
        const previous = typingTimers.current.get(frame.conversationId);
        if (previous) clearTimeout(previous);
        if (!frame.typing) {
          clear();
          return;
        }
        setTyping((current) => new Map(current).set(frame.conversationId, frame));
        // A closed tab never says "stopped typing": the indicator fades on its own.
        typingTimers.current.set(frame.conversationId, setTimeout(clear, TYPING_TTL_MS));
      },
      event: (event) => {
        if (event.type === 'message' && event.author === 'customer') {
          setTyping((current) => {
            if (!current.has(event.conversationId)) return current;
            const next = new Map(current);
            next.delete(event.conversationId);
            return next;
          });
        }
      },
    });
    return () => {
      clearInterval(poll);
      stop();
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
    };
  }, [load, refresh, stream]);

  return { stream, log, summaries, typing, refresh, loadError };
}
