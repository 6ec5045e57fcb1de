import { BatonError } from '@baton/core';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { z } from 'zod';
import { type AgentSession, clearAgentSession, loadAgentSession, saveAgentSession } from '../console/agent-session.ts';
import { LoginScreen } from '../console/login-screen.tsx';
import { describeError, Nothing, request } from '../lib/api.ts';
import { ConnectionBanner } from '../lib/connection-banner.tsx';
import { formatDuration } from '../lib/format.ts';
import { BatonStream, streamUrl } from '../lib/stream.ts';
import { useConnectionState } from '../lib/use-connection.ts';
import { BarChart, LineChart } from './charts.tsx';

const QueueView = z.looseObject({
  id: z.string(),
  name: z.string(),
  open: z.boolean(),
  waiting: z.number(),
  offered: z.number(),
  callbacks: z.number(),
  agentsOnline: z.number(),
  oldestWaitSeconds: z.number(),
  estimatedWaitSeconds: z.number().optional(),
});
type QueueView = z.infer<typeof QueueView>;

const AgentLoad = z.looseObject({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  presence: z.string(),
  presenceReason: z.string().optional(),
  skills: z.array(z.string()),
  capacity: z.number(),
  load: z.number(),
  openOffers: z.number(),
});
type AgentLoad = z.infer<typeof AgentLoad>;

/** Why the server changed someone's presence, in the supervisor's words. */
const PRESENCE_REASONS: Record<string, string> = { console_closed: 'console closed' };

const Bucket = z.looseObject({
  start: z.string(),
  handoffs: z.number(),
  offers: z.number(),
  accepted: z.number(),
  declined: z.number(),
  expired: z.number(),
  medianSecondsToAccept: z.number().optional(),
  repeatAsks: z.number().default(0),
  repeatActions: z.number().default(0),
  restartPhrases: z.number().default(0),
  customerRestatements: z.number().default(0),
  agentMessages: z.number().default(0),
  cleanAgentMessages: z.number().default(0),
  medianSecondsToFirstAgentMessage: z.number().optional(),
});

const Metrics = z.looseObject({
  bucketMinutes: z.number(),
  totals: z.looseObject({
    handoffs: z.number(),
    offers: z.number(),
    accepted: z.number(),
    declined: z.number(),
    expired: z.number(),
    medianSecondsToAccept: z.number().optional(),
    p90SecondsToAccept: z.number().optional(),
    acceptRate: z.number().optional(),
  }),
  buckets: z.array(Bucket),
  handoff: z.record(z.string(), z.unknown()).optional(),
});
type Metrics = z.infer<typeof Metrics>;

const RANGES = [
  { label: 'Last hour', hours: 1, bucketMinutes: 5 },
  { label: 'Last 8 hours', hours: 8, bucketMinutes: 30 },
  { label: 'Last 24 hours', hours: 24, bucketMinutes: 60 },
  { label: 'Last 7 days', hours: 168, bucketMinutes: 720 },
] as const;

export function SupervisorApp() {
  const [session, setSession] = useState<AgentSession | null>(() => loadAgentSession());
  if (!session) {
    return (
      <LoginScreen
        onLoggedIn={(next) => {
          saveAgentSession(next);
          setSession(next);
        }}
      />
    );
  }
  return (
    <Dashboard
      session={session}
      onLogout={() => {
        clearAgentSession();
        setSession(null);
      }}
    />
  );
}

function Dashboard({ session, onLogout }: { session: AgentSession; onLogout: () => void }) {
  const stream = useMemo(
    () => new BatonStream({ url: () => streamUrl({ token: session.token }), desk: true }),
    [session.token],
  );
  useEffect(() => {
    stream.open();
    return () => stream.close();
  }, [stream]);
  const connection = useConnectionState(stream);
  const [queues, setQueues] = useState<QueueView[]>([]);
  const [agents, setAgents] = useState<AgentLoad[]>([]);
  const [metrics, setMetrics] = useState<Metrics | null>(null);
  const [range, setRange] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);

  const load = useCallback(async () => {
    const selected = RANGES[range] ?? RANGES[0];
    const options = { agentToken: session.token };
    try {
      const [queueAnswer, agentAnswer, metricsAnswer] = await Promise.all([
        request('/v1/desk/queues', z.object({ queues: z.array(QueueView) }), options),
        request('/v1/desk/agents', z.object({ agents: z.array(AgentLoad) }), options),
        request(`/v1/desk/metrics?hours=${selected.hours}&bucketMinutes=${selected.bucketMinutes}`, Metrics, options),
      ]);
      setQueues(queueAnswer.queues);
      setAgents(agentAnswer.agents);
      setMetrics(metricsAnswer);
      setError(null);
      setUpdatedAt(new Date());
    } catch (caught) {
      if (BatonError.is(caught) && caught.code === 'unauthorized') onLogout();
      else if (BatonError.is(caught) && caught.code === 'forbidden')
        setError('The supervisor view needs a supervisor or admin account.');
      else setError(describeError(caught));
    }
  }, [range, session.token, onLogout]);

  useEffect(() => {
    void load();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void load(), 300);
    };
    // Desk frames make it live; the poll keeps wait times ticking between events.
    const stop = stream.listen({ desk: soon, state: (state) => state === 'open' && soon() });
    const poll = setInterval(() => void load(), 10_000);
    return () => {
      stop();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    };
  }, [load, stream]);

  const waiting = queues.reduce((sum, queue) => sum + queue.waiting + queue.offered, 0);
  const longest = queues.reduce(
    (max, queue) => Math.max(max, queue.waiting + queue.offered ? queue.oldestWaitSeconds : 0),
    0,
  );
  const online = agents.filter((agent) => agent.presence === 'online');
  const capacity = online.reduce((sum, agent) => sum + agent.capacity, 0);
  const busy = online.reduce((sum, agent) => sum + agent.load, 0);
  const labels = (metrics?.buckets ?? []).map((bucket) => bucketLabel(bucket.start, metrics?.bucketMinutes ?? 60));

  return (
    <div className="supervisor-shell">
      <header className="topbar">
        <div className="topbar-brand">
          <span className="logo-mark" aria-hidden="true">
            B
          </span>
          <span className="brand-name">Baton</span>
          <span className="muted small">Supervisor</span>
        </div>
        <div className="topbar-right">
          <span className="muted small" aria-live="polite">
            {updatedAt ? `Updated ${updatedAt.toLocaleTimeString()}` : 'Loading…'}
          </span>
          <a className="button ghost small" href="/console/">
            Agent console
          </a>
          <span className="agent-name">{session.agent.name}</span>
          <button
            type="button"
            className="button small"
            onClick={() =>
              void request('/v1/auth/logout', Nothing, { method: 'POST', agentToken: session.token })
                .catch(() => undefined)
                .then(onLogout)
            }
          >
            Sign out
          </button>
        </div>
      </header>
      <ConnectionBanner state={connection} />
      <main className="supervisor-main">
        {error ? (
          <p className="form-error inline" role="alert">
            {error}
          </p>
        ) : null}
        <section className="kpis" aria-label="Right now">
          <Kpi label="Customers waiting" value={String(waiting)} tone={waiting > 0 ? 'warn' : 'ok'} />
          <Kpi label="Longest wait" value={formatDuration(longest)} tone={longest > 300 ? 'bad' : 'ok'} />
          <Kpi label="Agents online" value={`${online.length} / ${agents.length}`} />
          <Kpi label="Desk load" value={capacity ? `${Math.round((busy / capacity) * 100)}%` : '—'} />
          <Kpi
            label="Accept rate"
            value={metrics?.totals.acceptRate !== undefined ? `${Math.round(metrics.totals.acceptRate * 100)}%` : '—'}
          />
          <Kpi
            label="Median time to accept"
            value={
              metrics?.totals.medianSecondsToAccept !== undefined
                ? formatDuration(metrics.totals.medianSecondsToAccept)
                : '—'
            }
          />
        </section>

        <div className="supervisor-grid">
          <section className="panel" aria-labelledby="queues-title">
            <h2 id="queues-title">Queues</h2>
            <table className="data-table" data-testid="queues">
              <thead>
                <tr>
                  <th scope="col">Queue</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">Offered</th>
                  <th scope="col">Callbacks</th>
                  <th scope="col">Agents</th>
                  <th scope="col">Longest wait</th>
                  <th scope="col">Estimate</th>
                </tr>
              </thead>
              <tbody>
                {queues.map((queue) => (
                  <tr key={queue.id}>
                    <th scope="row">
                      {queue.name} {queue.open ? null : <span className="badge">closed</span>}
                    </th>
                    <td className={queue.waiting ? 'strong' : ''}>{queue.waiting}</td>
                    <td>{queue.offered}</td>
                    <td>{queue.callbacks}</td>
                    <td>{queue.agentsOnline}</td>
                    <td>{queue.waiting + queue.offered ? formatDuration(queue.oldestWaitSeconds) : '—'}</td>
                    <td>
                      {queue.estimatedWaitSeconds === undefined
                        ? '—'
                        : queue.estimatedWaitSeconds === 0
                          ? 'now'
                          : formatDuration(queue.estimatedWaitSeconds)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>

          <section className="panel" aria-labelledby="agents-title">
            <h2 id="agents-title">Agents</h2>
            <table className="data-table" data-testid="agents">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Presence</th>
                  <th scope="col">Load</th>
                  <th scope="col">Offers</th>
                  <th scope="col">Skills</th>
                </tr>
              </thead>
              <tbody>
                {agents.map((agent) => (
                  <tr key={agent.id}>
                    <th scope="row">
                      {agent.name}
                      {agent.role !== 'agent' ? <span className="muted small"> · {agent.role}</span> : null}
                    </th>
                    <td>
                      <span className={`badge ${agent.presence}`}>{agent.presence}</span>
                      {agent.presence !== 'online' && agent.presenceReason ? (
                        <span className="small muted" data-testid="presence-reason">
                          {' '}
                          · {PRESENCE_REASONS[agent.presenceReason] ?? agent.presenceReason}
                        </span>
                      ) : null}
                    </td>
                    <td>
                      <div className="load" aria-hidden="true">
                        <span
                          className={agent.load >= agent.capacity ? 'full' : ''}
                          style={{
                            width: `${agent.capacity ? Math.min(100, (agent.load / agent.capacity) * 100) : 0}%`,
                          }}
                        />
                      </div>
                      <span className="small muted">
                        {agent.load}/{agent.capacity}
                      </span>
                    </td>
                    <td>{agent.openOffers}</td>
                    <td className="small">{agent.skills.join(', ') || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>

        <section className="panel" aria-labelledby="metrics-title">
          <div className="panel-header">
            <h2 id="metrics-title">Handoffs over time</h2>
            <label className="range">
              <span className="sr-only">Time range</span>
              <select value={range} onChange={(event) => setRange(Number(event.target.value))}>
                {RANGES.map((entry, index) => (
                  <option key={entry.label} value={index}>
                    {entry.label}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {metrics ? (
            <div className="charts">
              <BarChart
                title="Handoffs and accepted offers"
                labels={labels}
                series={[
                  { name: 'Handoffs', color: '#2f55d4', values: metrics.buckets.map((bucket) => bucket.handoffs) },
                  { name: 'Accepted', color: '#1f9d61', values: metrics.buckets.map((bucket) => bucket.accepted) },
                  {
                    name: 'Declined or expired',
                    color: '#e0a526',
                    values: metrics.buckets.map((bucket) => bucket.declined + bucket.expired),
                  },
                ]}
              />
              <BarChart
                title="Continuity findings in agents' replies"
                labels={labels}
                series={[
                  { name: 'Repeat asks', color: '#d9480f', values: metrics.buckets.map((bucket) => bucket.repeatAsks) },
                  {
                    name: 'Repeated steps',
                    color: '#e0a526',
                    values: metrics.buckets.map((bucket) => bucket.repeatActions),
                  },
                  {
                    name: 'Restart phrases',
                    color: '#7a4cd9',
                    values: metrics.buckets.map((bucket) => bucket.restartPhrases),
                  },
                  {
                    name: 'Customer repeated a fact',
                    color: '#c2255c',
                    values: metrics.buckets.map((bucket) => bucket.customerRestatements),
                  },
                ]}
              />
              <LineChart
                title="Agent replies with no finding (%)"
                labels={labels}
                series={[
                  {
                    name: 'Clean replies',
                    color: '#1f9d61',
                    values: metrics.buckets.map((bucket) =>
                      bucket.agentMessages ? (bucket.cleanAgentMessages / bucket.agentMessages) * 100 : undefined,
                    ),
                  },
                ]}
              />
              <LineChart
                title="Median time to accept and to first reply (seconds)"
                labels={labels}
                series={[
                  {
                    name: 'Median seconds to accept',
                    color: '#7a4cd9',
                    values: metrics.buckets.map((bucket) => bucket.medianSecondsToAccept),
                  },
                  {
                    name: 'Median seconds to first agent reply',
                    color: '#0c8599',
                    values: metrics.buckets.map((bucket) => bucket.medianSecondsToFirstAgentMessage),
                  },
                ]}
              />
            </div>
          ) : (
            <p className="muted">Loading…</p>
          )}
          {metrics?.handoff ? <ContextMetrics values={metrics.handoff} /> : null}
        </section>
      </main>
    </div>
  );
}

function Kpi({ label, value, tone }: { label: string; value: string; tone?: 'ok' | 'warn' | 'bad' }) {
  return (
    <div className={`kpi${tone ? ` kpi-${tone}` : ''}`}>
      <span className="kpi-label">{label}</span>
      <span className="kpi-value">{value}</span>
    </div>
  );
}

const Aggregate = z.looseObject({
  conversations: z.number(),
  handedOff: z.number(),
  agentMessages: z.number(),
  cleanAgentMessages: z.number(),
  repeatAsks: z.number(),
  repeatActions: z.number(),
  restartPhrases: z.number(),
  customerRestatements: z.number(),
  conversationsWithRepeats: z.number().optional(),
  timeToFirstAgentMessageMs: z.looseObject({ median: z.number().nullable() }).optional(),
});

/** The context engine's totals for the range: did customers have to repeat themselves after a handoff? */
function ContextMetrics({ values }: { values: Record<string, unknown> }) {
  const parsed = Aggregate.safeParse(values);
  if (!parsed.success) return null;
  const totals = parsed.data;
  const clean = totals.agentMessages ? `${Math.round((totals.cleanAgentMessages / totals.agentMessages) * 100)}%` : '—';
  const firstReply = totals.timeToFirstAgentMessageMs?.median;
  const entries: [string, string][] = [
    ['Handed-off conversations', String(totals.handedOff)],
    ['Agent replies with no finding', clean],
    ['Repeat asks', String(totals.repeatAsks)],
    ['Repeated steps', String(totals.repeatActions)],
    ['Restart phrases', String(totals.restartPhrases)],
    ['Customer repeated a fact', String(totals.customerRestatements)],
    ['Median time to first reply', firstReply == null ? '—' : formatDuration(firstReply / 1000)],
  ];
  return (
    <div className="context-metrics" data-testid="context-metrics">
      <h3>Context engine</h3>
      <dl>
        {entries.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function bucketLabel(iso: string, bucketMinutes: number): string {
  const date = new Date(iso);
  if (bucketMinutes >= 720) return date.toLocaleDateString([], { weekday: 'short', hour: '2-digit' });
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
