import { describe, expect, it } from 'vitest';
import type { RouteModule } from '../src/app/route-module.ts';
import { startTestServer } from './helpers.ts';

describe('server shutdown', () => {
  it('lets every module finish with the store and the bus before they close', async () => {
    const outcome: { read?: unknown; published?: boolean; error?: unknown } = {};
    // A module whose own shutdown still needs both, as the AI runtime's last turns and the router's last
    // pass do: the adapters must outlive it.
    const lateWriter: RouteModule = {
      name: 'late-writer',
      register(app, deps) {
        app.addHook('onClose', async () => {
          try {
            await new Promise((resolve) => setTimeout(resolve, 20));
            outcome.read = await deps.store.listConversations({ limit: 1 });
            await deps.bus.publish('desk', { kind: 'desk', name: 'shutdown-probe', payload: {} });
            outcome.published = true;
          } catch (error) {
            outcome.error = error;
          }
        });
      },
    };
    const server = await startTestServer({ extraModules: [lateWriter] });
    await server.close();
    expect(outcome.error).toBeUndefined();
    expect(Array.isArray(outcome.read)).toBe(true);
    expect(outcome.published).toBe(true);
  });
});
