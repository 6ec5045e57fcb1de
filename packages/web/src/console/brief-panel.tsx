import { humanize } from '../lib/format.ts';
import type { BriefView } from './brief-view.ts';

const TRIGGER_TEXT: Record<string, string> = {
  customer_request: 'Customer asked for a person',
  frustration: 'Customer frustration rising',
  repeated_failure: 'The same step kept failing',
  not_understood: 'The assistant did not understand',
  policy: 'Policy: the assistant may not handle this',
  bot_request: 'Handed off by the bot',
  agent_transfer: 'Transferred by an agent',
  error: 'A system error blocked the assistant',
  manual: 'Handed off',
};

export function BriefPanel({ brief, onShowSource }: { brief: BriefView; onShowSource: (seq: number) => void }) {
  return (
    <section className="brief" aria-labelledby="brief-title" data-testid="brief">
      <header className="brief-header">
        <h2 id="brief-title">Handoff brief</h2>
        {brief.priority && brief.priority !== 'normal' ? (
          <span className={`badge ${brief.priority}`}>{humanize(brief.priority)} priority</span>
        ) : null}
      </header>

      <div className="brief-section">
        <h3>Reason</h3>
        <p className="brief-reason" data-testid="brief-reason">
          {brief.reason ?? (brief.trigger ? TRIGGER_TEXT[brief.trigger] : null) ?? 'No handoff yet'}
        </p>
        {brief.trigger && brief.reason ? <p className="muted small">{TRIGGER_TEXT[brief.trigger]}</p> : null}
        {brief.queue ? <p className="muted small">Queue: {brief.queue}</p> : null}
      </div>

      <div className="brief-section">
        <h3>Identity</h3>
        <p data-testid="brief-identity">
          <span className={`badge ${brief.identity.status}`}>
            {brief.identity.status === 'unknown' ? 'Not verified' : humanize(brief.identity.status)}
          </span>{' '}
          {brief.identity.method ? <span>by {humanize(brief.identity.method).toLowerCase()}</span> : null}
          {brief.identity.subject ? <span className="muted"> · {brief.identity.subject}</span> : null}
        </p>
      </div>

      {brief.sentiment ? (
        <div className="brief-section">
          <h3>Sentiment</h3>
          <p data-testid="brief-sentiment">
            <span className={`sentiment sentiment-${brief.sentiment.label}`}>{humanize(brief.sentiment.label)}</span>
            <span className="muted">
              {' '}
              · {brief.sentiment.trend === 'rising' ? 'frustration rising ↑' : null}
              {brief.sentiment.trend === 'falling' ? 'calming down ↓' : null}
              {brief.sentiment.trend === 'steady' ? 'steady' : null}
            </span>
          </p>
          <div className="meter" aria-hidden="true">
            <span style={{ width: `${Math.round(brief.sentiment.frustration * 100)}%` }} />
          </div>
          <p className="muted small">Frustration {Math.round(brief.sentiment.frustration * 100)}%</p>
        </div>
      ) : null}

      {brief.customerSaid ? (
        <div className="brief-section">
          <h3>Customer's last words</h3>
          <blockquote className="brief-quote">
            <button type="button" className="link-button" onClick={() => onShowSource(brief.customerSaid?.seq ?? 0)}>
              “{brief.customerSaid.text}”
            </button>
          </blockquote>
        </div>
      ) : null}

      <div className="brief-section">
        <h3>Known facts</h3>
        {brief.facts.length === 0 ? (
          <p className="muted">None yet</p>
        ) : (
          <dl className="fact-list" data-testid="brief-facts">
            {brief.facts.map((fact) => (
              <div key={fact.name} className="fact">
                <dt>{humanize(fact.name)}</dt>
                <dd>
                  {fact.sourceSeq !== undefined ? (
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => onShowSource(fact.sourceSeq ?? 0)}
                      title="Show the message this came from"
                    >
                      {fact.value}
                    </button>
                  ) : (
                    fact.value
                  )}
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
          <ol className="step-list" data-testid="brief-steps">
            {brief.steps.map((step) => (
              <li key={step.seq}>
                <button type="button" className="link-button step-name" onClick={() => onShowSource(step.seq)}>
                  {humanize(step.name)}
                </button>
                <span className={`badge ${step.outcome}`}>{step.outcome}</span>
                {step.detail ? <div className="muted small">{step.detail}</div> : null}
              </li>
            ))}
          </ol>
        )}
      </div>

      {brief.errors.length ? (
        <div className="brief-section">
          <h3>Errors</h3>
          <ul className="error-list" data-testid="brief-errors">
            {brief.errors.map((error) => (
              <li key={error.seq}>
                <code>{error.code}</code> <span className="muted">from {error.system}</span>
                {error.message ? <div className="small">{error.message}</div> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {brief.notes.length ? (
        <div className="brief-section">
          <h3>Notes from colleagues</h3>
          <ul className="note-list">
            {brief.notes.map((note) => (
              <li key={note.seq} className="note-card">
                <strong>{note.author}</strong>
                <p>{note.text}</p>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {brief.unknowns.length ? (
        <div className="brief-section">
          <h3>Still unknown</h3>
          <ul className="unknown-list">
            {brief.unknowns.map((unknown) => (
              <li key={unknown}>{unknown}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
