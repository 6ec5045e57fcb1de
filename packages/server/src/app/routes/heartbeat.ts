/** What the heartbeat needs of a connection: a flag its pong (or any frame) sets, and the socket. */
export interface Beating {
  alive: boolean;
  readonly socket: { ping(): void; terminate(): void };
}

/**
 * Pings every connection once a period and drops those that did not answer the previous ping (a client
 * gone without a close: a laptop lid, a dead NAT mapping). The work is spread over the period: each
 * connection joins one of `slices` buckets, and a timer visits one bucket every `periodMs / slices`.
 * Pinging all sockets in one go is one write each: at a thousand connections that held the event loop
 * for ~20 ms every period, and every message and handoff in flight waited behind it.
 */
export class Heartbeat<T extends Beating> {
  readonly #buckets: Set<T>[];
  readonly #bucketOf = new Map<T, Set<T>>();
  readonly #timer: NodeJS.Timeout;
  /** The bucket the next connection joins (round robin, so buckets stay even). */
  #fill = 0;
  /** The bucket the timer visits next. */
  #visit = 0;

  constructor(periodMs: number, slices = 30) {
    const count = Math.max(1, Math.floor(slices));
    this.#buckets = Array.from({ length: count }, () => new Set<T>());
    this.#timer = setInterval(() => this.#beat(), Math.max(1, Math.round(periodMs / count)));
    this.#timer.unref();
  }

  get size(): number {
    return this.#bucketOf.size;
  }

  add(connection: T): void {
    if (this.#bucketOf.has(connection)) return;
    const bucket = this.#buckets[this.#fill] as Set<T>;
    this.#fill = (this.#fill + 1) % this.#buckets.length;
    bucket.add(connection);
    this.#bucketOf.set(connection, bucket);
  }

  delete(connection: T): void {
    this.#bucketOf.get(connection)?.delete(connection);
    this.#bucketOf.delete(connection);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    const bucket = this.#buckets[this.#visit] as Set<T>;
    this.#visit = (this.#visit + 1) % this.#buckets.length;
    for (const connection of bucket) {
      if (!connection.alive) {
        this.delete(connection);
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }
}
