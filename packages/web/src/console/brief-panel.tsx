import { humanize } from '../lib/format.ts';
import type { BriefStepView, BriefView } from './brief-view.ts';

const TRIGGER_TEXT: Record<string, string> = {
  customer_request: 'Customer asked for a person',
  frustration: 'Frustration rising',
  repeated_failure: 'The same step kept failing',
  not_understood: 'The assistant did not understand',
  policy: 'Policy: the assistant may not handle this',
  bot_request: 'Handed off by the bot',
  agent_transfer: 'Transferred by an agent',
  error: 'A system error blocked the assistant',
  manual: 'Handed off',
};

const TREND_TEXT: Record<string, string> = {
  rising: 'frustration rising ↑',
  falling: 'calming down ↓',
  steady: 'steady',
};

function Steps({
  steps,
  onShowSource,
  testId,
}: {
  steps: BriefStepView[];
  onShowSource: (seq: number) => void;
  testId: string;
}) {
  return (
    <ol className="step-list" data-testid={testId}>
      {steps.map((step) => (
        <li key={step.seq}>
          <button type="button" className="link-button step-name" onClick={() => onShowSource(step.seq)}>
            {humanize(step.name)}
          </button>
          <span className={`badge ${step.outcome}`}>{step.outcome}</span>
          {step.outcome !== 'succeeded' && step.summary ? <div className="muted small">{step.summary}</div> : null}
          {step.details.length ? (
            <ul className="step-details muted small" data-testid="step-details">
              {step.details.map((line, index) => (
                // Lines repeat (two identical scans) and never reorder: the index is the identity.
                // biome-ignore lint/suspicious/noArrayIndexKey: see above
                <li key={index} style={line.startsWith(' ') ? { paddingLeft: '1em' } : undefined}>
                  {line.trim()}
                </li>
              ))}
            </ul>
          ) : null}
        </li>
      ))}
    </ol>
  );
}

/** The handoff brief, on screen before the agent accepts. Every item links to the event it came from. */
export function BriefPanel({ brief, onShowSource }: { brief: BriefView; onShowSource: (seq: number) => void }) {
  const frustration = Math.round(brief.sentiment.frustration * 100);
  return (
    <section className="brief" aria-labelledby="brief-title" data-testid="brief">
      <header className="brief-header">
        <h2 id="brief-title">{brief.trigger ? 'Handoff brief' : 'Brief so far'}</h2>
        {brief.priority && brief.priority !== 'normal' ? (
          <span className={`badge ${brief.priority}`}>{humanize(brief.priority)} priority</span>
        ) : null}
      </header>

      <div className="brief-section">
        <h3>Reason</h3>
        <p className="brief-reason" data-testid="brief-reason">
          {humanize(brief.reasonLabel)}
        </p>
        {brief.trigger ? <p className="muted small">{TRIGGER_TEXT[brief.trigger] ?? humanize(brief.trigger)}</p> : null}
        {brief.reasonText ? (
          <blockquote className="brief-quote">
            {brief.reasonSeq !== null ? (
              <button type="button" className="link-button" onClick={() => onShowSource(brief.reasonSeq ?? 0)}>
                “{brief.reasonText}”
              </button>
            ) : (
              `“${brief.reasonText}”`
            )}
          </blockquote>
        ) : null}
        {brief.queue ? <p className="muted small">Queue: {brief.queue}</p> : null}
      </div>

      {brief.notes.length ? (
        <div className="brief-section">
          <h3>Notes from colleagues</h3>
          <ul className="note-list" data-testid="brief-notes">
            {brief.notes.map((note) => (
              <li key={note.seq} className="note-card">
                <strong>{note.author}</strong>
                <p>{note.text}</p>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {brief.previousAgents.length ? (
        <div className="brief-section">
          <h3>Before you</h3>
          <ul className="note-list" data-testid="brief-previous-agents">
            {brief.previousAgents.map((agent) => (
              <li key={`${agent.agentId}-${agent.lastMessage?.seq ?? 0}`} className="note-card">
                <strong>{agent.name}</strong>{' '}
                <span className="muted small">
                  {agent.ended} · {agent.messages} message{agent.messages === 1 ? '' : 's'} to the customer
                </span>
                {agent.lastMessage ? (
                  <p>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => onShowSource(agent.lastMessage?.seq ?? 0)}
                      title="Their last message"
                    >
                      “{agent.lastMessage.text}”
                    </button>
                  </p>
                ) : null}
                {agent.actions.length ? (
                  <Steps steps={agent.actions} onShowSource={onShowSource} testId="brief-previous-actions" />
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <div className="brief-section">
        <h3>Identity</h3>
        <p data-testid="brief-identity">
          <span className={`badge ${brief.identity.verified ? 'verified' : 'pending'}`}>
            {brief.identity.verified ? 'Verified' : 'Not verified'}
          </span>{' '}
          {brief.identity.method ? (
            <button
              type="button"
              className="link-button"
              onClick={() => onShowSource(brief.identity.seq ?? 0)}
              title="Show where"
            >
              by {humanize(brief.identity.method).toLowerCase()}
            </button>
          ) : null}
          {brief.customerName ? <span className="muted"> · {brief.customerName}</span> : null}
        </p>
      </div>

      <div className="brief-section">
        <h3>Sentiment</h3>
        <p data-testid="brief-sentiment">
          <span className={`sentiment sentiment-${brief.sentiment.label}`}>{humanize(brief.sentiment.label)}</span>
          <span className="muted"> · {TREND_TEXT[brief.sentiment.trend] ?? brief.sentiment.trend}</span>
        </p>
        <div className="meter" aria-hidden="true">
          <span style={{ width: `${frustration}%` }} />
        </div>
        <p className="muted small">Frustration {frustration}%</p>
      </div>

      <div className="brief-section">
        <h3>Known facts</h3>
        {brief.facts.length === 0 ? (
          <p className="muted">None yet</p>
        ) : (
          <dl className="fact-list" data-testid="brief-facts">
            {brief.facts.map((fact) => (
              <div key={fact.name} className="fact">
                <dt>{humanize(fact.label)}</dt>
                <dd>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => onShowSource(fact.sourceSeq)}
                    title={
                      fact.onFile
                        ? 'On file in a back-office system: show where it was read'
                        : 'Show the message it came from'
                    }
                    data-fact={fact.name}
                  >
                    {fact.value}
                  </button>
                  {fact.onFile ? <span className="muted small"> · on file</span> : null}
                </dd>
              </div>
            ))}
          </dl>
        )}
      </div>

      <div className="brief-section">
        <h3>Steps taken</h3>
        {brief.steps.length === 0 ? (
          <p className="muted">Nothing tried yet</p>
        ) : (
          <Steps steps={brief.steps} onShowSource={onShowSource} testId="brief-steps" />
        )}
      </div>

      {brief.errors.length ? (
        <div className="brief-section">
          <h3>Errors</h3>
          <ul className="error-list" data-testid="brief-errors">
            {brief.errors.map((error) => (
              <li key={error.seq}>
                <button type="button" className="link-button" onClick={() => onShowSource(error.seq)}>
                  <code>{error.code}</code>
                </button>{' '}
                <span className="muted">from {error.system}</span>
                {error.message ? <div className="small">{error.message}</div> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {brief.unknowns.length ? (
        <div className="brief-section">
          <h3>Still unknown</h3>
          <ul className="unknown-list" data-testid="brief-unknowns">
            {brief.unknowns.map((unknown) => (
              <li key={unknown}>{humanize(unknown)}</li>
            ))}
          </ul>
        </div>
      ) : null}

      {brief.since.length ? (
        <div className="brief-section">
          <h3>Done by agents since</h3>
          <Steps steps={brief.since} onShowSource={onShowSource} testId="brief-since" />
        </div>
      ) : null}
    </section>
  );
}
