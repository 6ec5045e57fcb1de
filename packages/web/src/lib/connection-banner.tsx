import type { ConnectionState } from './stream.ts';

/** Says plainly when live updates are paused; silent when all is well. */
export function ConnectionBanner({ state }: { state: ConnectionState }) {
  if (state === 'open') return <div className="sr-only" role="status" aria-live="polite" />;
  const text =
    state === 'connecting'
      ? 'Connecting…'
      : state === 'reconnecting'
        ? 'Connection lost. Reconnecting… nothing you send or receive will be lost.'
        : 'Disconnected.';
  return (
    <div className={`connection-banner connection-${state}`} role="status" aria-live="polite" data-testid="connection">
      <span className="spinner" aria-hidden="true" />
      {text}
    </div>
  );
}
