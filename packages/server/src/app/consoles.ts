import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Bus, BusMessage } from '../bus/bus.ts';

/**
 * Where the consoles' comings and goings travel between processes. Never relayed to a client: the stream
 * forwards only the desk topic and an agent's own topic.
 */
export const CONSOLES_TOPIC = 'desk:consoles';

type Listener = (agentId: string) => void;

/**
 * The agents' consoles (WebSockets subscribed to the desk) open on this server process, counted per agent,
 * and the signals the desk needs to make presence follow them: the last console of an agent closing here,
 * a console opening on any process, and whether an agent has a console open on any process (asked over
 * the bus; each process answers for its own). The stream reports; the desk decides.
 */
export class Consoles {
  readonly #bus: Bus;
  readonly #logger: Logger;
  readonly #open = new Map<string, number>();
  readonly #lastClosed = new Set<Listener>();
  readonly #opened = new Set<Listener>();
  readonly #openedHere = new Set<Listener>();
  readonly #checks = new Map<string, () => void>();
  #subscription: Promise<() => Promise<void>> | undefined;

  constructor(deps: { bus: Bus; logger: Logger }) {
    this.#bus = deps.bus;
    this.#logger = deps.logger;
  }

  /** Follows the other processes' consoles; resolves once subscribed. Called by whoever needs the signals. */
  start(): Promise<unknown> {
    this.#subscription ??= this.#bus.subscribe(CONSOLES_TOPIC, (message) => this.#receive(message));
    return this.#subscription;
  }

  async stop(): Promise<void> {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    for (const resolve of this.#checks.values()) resolve();
    this.#checks.clear();
    if (subscription) await (await subscription)();
  }

  /** A console of the agent opened here, its desk notices already flowing to it. */
  opened(agentId: string): void {
    this.#open.set(agentId, (this.#open.get(agentId) ?? 0) + 1);
    this.#publish('console.opened', { agentId });
    for (const listener of this.#openedHere) listener(agentId);
  }

  closed(agentId: string): void {
    const left = (this.#open.get(agentId) ?? 0) - 1;
    if (left > 0) {
      this.#open.set(agentId, left);
      return;
    }
    this.#open.delete(agentId);
    for (const listener of this.#lastClosed) listener(agentId);
  }

  /** The agent's last console on this process closed. */
  onLastClosed(listener: Listener): () => void {
    this.#lastClosed.add(listener);
    return () => this.#lastClosed.delete(listener);
  }

  /** A console of the agent opened on this process (once it receives the agent's notices). */
  onOpenedHere(listener: Listener): () => void {
    this.#openedHere.add(listener);
    return () => this.#openedHere.delete(listener);
  }

  /** A console of the agent opened, on this process or another. */
  onOpened(listener: Listener): () => void {
    this.#opened.add(listener);
    return () => this.#opened.delete(listener);
  }

  /**
   * Whether the agent has a console open on any process: this one knows its own at once; the others are
   * asked over the bus and have `waitMs` to say so. No answer in time means none (a process that cannot
   * answer cannot serve the console either).
   */
  async anyOpen(agentId: string, waitMs: number): Promise<boolean> {
    if (this.#open.has(agentId)) return true;
    await this.start();
    const check = randomUUID();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = new Promise<boolean>((resolve) => {
      this.#checks.set(check, () => resolve(true));
      timer = setTimeout(() => resolve(false), waitMs);
    });
    this.#publish('console.check', { agentId, check });
    try {
      return (await answered) || this.#open.has(agentId);
    } finally {
      clearTimeout(timer);
      this.#checks.delete(check);
    }
  }

  #receive(message: BusMessage): void {
    if (message.kind !== 'desk') return;
    const agentId = typeof message.payload.agentId === 'string' ? message.payload.agentId : undefined;
    const check = typeof message.payload.check === 'string' ? message.payload.check : undefined;
    if (message.name === 'console.opened' && agentId) {
      for (const listener of this.#opened) listener(agentId);
    } else if (message.name === 'console.check' && agentId && check && this.#open.has(agentId)) {
      this.#publish('console.present', { check });
    } else if (message.name === 'console.present' && check) {
      this.#checks.get(check)?.();
    }
  }

  #publish(name: string, payload: Record<string, unknown>): void {
    this.#bus
      .publish(CONSOLES_TOPIC, { kind: 'desk', name, payload })
      .catch((error: unknown) => this.#logger.warn({ err: error, name }, 'console signal not published'));
  }
}
