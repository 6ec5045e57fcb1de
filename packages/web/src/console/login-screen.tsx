import { type FormEvent, useState } from 'react';
import { describeError, LoginAnswer, request } from '../lib/api.ts';
import type { AgentSession } from './agent-session.ts';

export function LoginScreen({ onLoggedIn }: { onLoggedIn: (session: AgentSession) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await request('/v1/auth/login', LoginAnswer, { body: { email: email.trim(), password } });
      onLoggedIn({ token: answer.token, agent: answer.agent });
    } catch (caught) {
      setError(describeError(caught));
      setBusy(false);
    }
  };

  return (
    <main className="login-page">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="login-brand">
          <span className="logo-mark" aria-hidden="true">
            B
          </span>
          <span className="brand-name">Baton</span>
        </div>
        <h1 id="login-title">Sign in to the agent console</h1>
        <label htmlFor="login-email">Work email</label>
        <input
          id="login-email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
