import type { Logger } from 'pino';
import type { Consoles } from '../app/consoles.ts';
import type { Store } from '../store/store.ts';
import type { Router } from './router.ts';

export interface ConsolePresenceOptions {
  /** How long an agent may be without a console (a reload, a dropped network) before they go offline. */
  graceMs: number;
  /** How long other processes have to say they hold a console of the agent. */
  checkMs: number;
}

/**
 * Presence follows the console: an agent online whose last console closed, and who opened none on any
 * process within the grace period, goes offline, so routing stops offering them customers and their open
 * offers go to someone else at once (instead of each waiting out its time-to-live on a screen nobody
 * sees). When a console of theirs opens again they are online again; only a change this made is undone,
 * never one the agent chose. The process where the console closed decides; any process restores (the
 * reopening is announced to all, and the one that took the agent offline remembers it).
 */
export class ConsolePresence {
  readonly #consoles: Consoles;
  readonly #router: Router;
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #options: ConsolePresenceOptions;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Agents this process took offline because their consoles closed. */
  readonly #wentOffline = new Set<string>();
  /** Counts each agent's console openings, so a check can tell whether one opened while it ran. */
  readonly #openings = new Map<string, number>();
  readonly #unsubscribe: (() => void)[] = [];

  constructor(
    deps: { consoles: Consoles; router: Router; store: Store; logger: Logger },
    options: ConsolePresenceOptions,
  ) {
    this.#consoles = deps.consoles;
    this.#router = deps.router;
    this.#store = deps.store;
    this.#logger = deps.logger.child({ module: 'console-presence' });
    this.#options = options;
  }

  start(): void {
    this.#unsubscribe.push(
      this.#consoles.onLastClosed((agentId) => this.#closed(agentId)),
      this.#consoles.onOpened((agentId) => this.#opened(agentId)),
    );
    this.#consoles.start().catch((error: unknown) => this.#logger.warn({ err: error }, 'console signals not followed'));
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #closed(agentId: string): void {
    clearTimeout(this.#timers.get(agentId));
    const timer = setTimeout(() => {
      this.#timers.delete(agentId);
      this.#expire(agentId).catch((error: unknown) =>
        this.#logger.warn({ err: error, agentId }, 'presence after the console closed not updated'),
      );
    }, this.#options.graceMs);
    timer.unref();
    this.#timers.set(agentId, timer);
  }

  #opened(agentId: string): void {
    this.#openings.set(agentId, (this.#openings.get(agentId) ?? 0) + 1);
    clearTimeout(this.#timers.get(agentId));
    this.#timers.delete(agentId);
    if (this.#wentOffline.has(agentId)) {
      this.#restore(agentId).catch((error: unknown) =>
        this.#logger.warn({ err: error, agentId }, 'presence after the console reopened not updated'),
      );
    }
  }

  async #expire(agentId: string): Promise<void> {
    const openingsBefore = this.#openings.get(agentId) ?? 0;
    if (await this.#consoles.anyOpen(agentId, this.#options.checkMs)) return;
    const agent = await this.#store.getAgent(agentId);
    if (agent?.presence !== 'online' || (this.#openings.get(agentId) ?? 0) !== openingsBefore) return;
    this.#openings.delete(agentId);
    await this.#router.setPresence({ id: agent.id, name: agent.name }, 'offline', 'console_closed');
    this.#wentOffline.add(agentId);
    this.#logger.info({ agentId }, 'agent offline: no console open');
    // A console that opened while presence was being written: undo at once.
    if ((this.#openings.get(agentId) ?? 0) > 0) await this.#restore(agentId);
  }

  async #restore(agentId: string): Promise<void> {
    this.#wentOffline.delete(agentId);
    this.#openings.delete(agentId);
    const agent = await this.#store.getAgent(agentId);
    // Only the offline this made is undone: an agent who chose away or offline since stays so.
    if (agent?.presence !== 'offline') return;
    await this.#router.setPresence({ id: agent.id, name: agent.name }, 'online', 'console_opened');
    this.#logger.info({ agentId }, 'agent online again: a console opened');
  }
}
