import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { z } from 'zod';
import { Agent, Nothing, request } from '../lib/api.ts';
import { ConnectionBanner } from '../lib/connection-banner.tsx';
import { useEventLog } from '../lib/event-log.ts';
import { useConnectionState } from '../lib/use-connection.ts';
import { type AgentSession, clearAgentSession, loadAgentSession, saveAgentSession } from './agent-session.ts';
import { ConversationPane } from './conversation-pane.tsx';
import { groupInbox, Inbox, type InboxItem, toInboxItem } from './inbox.tsx';
import { LoginScreen } from './login-screen.tsx';
import { loadSoundPreference, playOfferChime, saveSoundPreference } from './offer-alert.ts';
import { PresenceControl } from './presence-control.tsx';
import { ShortcutsDialog } from './shortcuts-dialog.tsx';
import { type Desk, useDesk } from './use-desk.ts';

const MeAnswer = z.object({ agent: Agent });

export function ConsoleApp() {
  const [session, setSession] = useState<AgentSession | null>(() => loadAgentSession());

  const logout = useCallback(() => {
    clearAgentSession();
    setSession(null);
  }, []);

  if (!session) {
    return (
      <LoginScreen
        onLoggedIn={(next) => {
          // Signing in to the console means starting work: go online so routing can offer handoffs.
          const online = { ...next, agent: { ...next.agent, presence: 'online' } };
          saveAgentSession(online);
          setSession(online);
          void request('/v1/desk/presence', Nothing, { body: { presence: 'online' }, agentToken: next.token }).catch(
            () => undefined,
          );
        }}
      />
    );
  }
  return <Workspace key={session.token} session={session} onLogout={logout} />;
}

function selectedFromHash(): string | null {
  const match = /^#\/c\/(.+)$/.exec(location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

function Workspace({ session, onLogout }: { session: AgentSession; onLogout: () => void }) {
  const desk = useDesk(session, onLogout);
  const version = useEventLog(desk.log);
  const connection = useConnectionState(desk.stream);
  const [selected, setSelected] = useState<string | null>(() => selectedFromHash());
  const [drafts, setDrafts] = useState<ReadonlyMap<string, string>>(new Map());
  const [seen, setSeen] = useState<ReadonlyMap<string, number>>(new Map());
  const [sound, setSound] = useState(loadSoundPreference);
  const [toast, setToast] = useState<string | null>(null);
  const [showShortcuts, setShowShortcuts] = useState(false);
  const knownOffers = useRef<Set<string> | null>(null);

  useEffect(() => {
    request('/v1/me', MeAnswer, { agentToken: session.token }).catch((error: unknown) => {
      if (error instanceof Error && 'code' in error && error.code === 'unauthorized') onLogout();
    });
  }, [session.token, onLogout]);

  useEffect(() => {
    const onHash = () => setSelected(selectedFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const select = useCallback((id: string) => {
    location.hash = `#/c/${encodeURIComponent(id)}`;
    setSelected(id);
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the log mutates in place; version tracks it
  const items = useMemo(() => buildItems(desk, seen), [desk, seen, version]);
  const groups = useMemo(() => groupInbox(items, session.agent.id), [items, session.agent.id]);
  const ordered = useMemo(
    () => [...groups.offers, ...groups.mine, ...groups.waiting, ...groups.withAi, ...groups.closed],
    [groups],
  );

  // A new offer: chime, toast and title, so an agent in another tab or window notices it.
  useEffect(() => {
    const current = new Set(groups.offers.map((item) => item.id));
    const previous = knownOffers.current;
    knownOffers.current = current;
    const fresh = [...current].filter((id) => !previous?.has(id));
    if (fresh.length === 0) return;
    if (sound) playOfferChime();
    const first = groups.offers.find((item) => item.id === fresh[0]);
    setToast(`New handoff: ${first?.name ?? 'a customer'} is waiting for you`);
    if (!selected || !ordered.some((item) => item.id === selected)) select(fresh[0] ?? '');
  }, [groups.offers, sound, selected, ordered, select]);

  useEffect(() => {
    document.title = groups.offers.length ? `(${groups.offers.length}) New handoff · Baton` : 'Baton console';
  }, [groups.offers.length]);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(timer);
  }, [toast]);

  // Viewing a conversation marks its messages as read.
  const selectedLastSeq = selected ? desk.log.get(selected).state.lastSeq : 0;
  useEffect(() => {
    if (!selected) return;
    setSeen((current) => {
      if (current.get(selected) === selectedLastSeq) return current;
      const next = new Map(current);
      next.set(selected, selectedLastSeq);
      return next;
    });
  }, [selected, selectedLastSeq]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target?.closest('input, textarea, select, dialog')) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'j' || event.key === 'k') {
        event.preventDefault();
        const index = ordered.findIndex((item) => item.id === selected);
        const nextIndex = event.key === 'j' ? Math.min(ordered.length - 1, index + 1) : Math.max(0, index - 1);
        const next = ordered[nextIndex];
        if (next) select(next.id);
      } else if (event.key === '?') {
        event.preventDefault();
        setShowShortcuts(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [ordered, selected, select]);

  const logout = async () => {
    // Signing out ends the shift: routing stops offering to this agent at once, not after an offer expires.
    await request('/v1/desk/presence', Nothing, { body: { presence: 'offline' }, agentToken: session.token }).catch(
      () => undefined,
    );
    await request('/v1/auth/logout', Nothing, { method: 'POST', agentToken: session.token }).catch(() => undefined);
    onLogout();
  };

  return (
    <div className="console-shell">
      <header className="topbar">
        <div className="topbar-brand">
          <span className="logo-mark" aria-hidden="true">
            B
          </span>
          <span className="brand-name">Baton</span>
          <span className="muted small">Agent console</span>
        </div>
        <div className="topbar-right">
          <span className={`conn-dot conn-${connection}`} role="img" aria-label={`Connection: ${connection}`} />
          <PresenceControl session={session} stream={desk.stream} />
          <button
            type="button"
            className="button ghost small"
            aria-pressed={sound}
            onClick={() => {
              setSound(!sound);
              saveSoundPreference(!sound);
            }}
            title="Sound alert on new offers"
          >
            <svg width="14" height="14" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">
              <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z" />
              {sound ? null : <path d="M3 3l18 18" stroke="currentColor" strokeWidth="2.5" />}
            </svg>
            {sound ? 'Sound on' : 'Sound off'}
          </button>
          <button type="button" className="button ghost small" onClick={() => setShowShortcuts(true)}>
            Shortcuts <kbd>?</kbd>
          </button>
          <span className="agent-name" data-testid="agent-name">
            {session.agent.name}
          </span>
          <button type="button" className="button small" onClick={() => void logout()}>
            Sign out
          </button>
        </div>
      </header>
      <ConnectionBanner state={connection} />
      {toast ? (
        <div className="toast" role="alert">
          {toast}
        </div>
      ) : null}
      <div className="console-body">
        <Inbox groups={groups} selected={selected} onSelect={select} />
        <main className="console-main">
          {selected ? (
            <ConversationPane
              key={selected}
              desk={desk}
              session={session}
              conversationId={selected}
              summary={desk.summaries.get(selected)}
              draft={drafts.get(selected) ?? ''}
              onDraft={(value) =>
                setDrafts((current) => {
                  const next = new Map(current);
                  next.set(selected, value);
                  return next;
                })
              }
            />
          ) : (
            <div className="empty-state">
              <h2>No conversation selected</h2>
              <p className="muted">
                New handoffs appear on the left with a sound. Use <kbd>j</kbd> and <kbd>k</kbd> to move through the
                inbox.
              </p>
              {desk.loadError ? (
                <p className="form-error" role="alert">
                  {desk.loadError}
                </p>
              ) : null}
            </div>
          )}
        </main>
      </div>
      {showShortcuts ? <ShortcutsDialog onClose={() => setShowShortcuts(false)} /> : null}
    </div>
  );
}

function buildItems(desk: Desk, seen: ReadonlyMap<string, number>): InboxItem[] {
  const items: InboxItem[] = [];
  for (const summary of desk.summaries.values()) {
    const { events, state } = desk.log.get(summary.id);
    items.push(toInboxItem(summary, events, events.length ? state : fallbackState(summary), seen.get(summary.id) ?? 0));
  }
  items.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  return items;
}

function fallbackState(summary: { status?: string }): InboxItem['state'] {
  return {
    lastSeq: 0,
    owner: { kind: 'ai' },
    status: (summary.status as InboxItem['state']['status']) ?? 'active',
    agents: [],
    messageCount: 0,
    customerMessageCount: 0,
  };
}
