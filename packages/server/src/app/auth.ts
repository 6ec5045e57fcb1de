import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { BatonError } from '@baton/core';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { AgentRecord, AgentRole, ApiKeyRecord, Store } from '../store/store.ts';

/** Who is calling, as established from the request's credentials. */
export type Principal =
  | { kind: 'agent'; agent: AgentRecord; sessionTokenHash: string }
  | { kind: 'customer'; conversationId: string }
  | { kind: 'bot'; botId: string; apiKey: ApiKeyRecord };

/**
 * Who a route admits. `agent` admits every staff role; `supervisor` admits supervisors and admins;
 * `admin` only admins.
 */
export type Audience = 'agent' | 'supervisor' | 'admin' | 'customer' | 'bot';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const SESSION_COOKIE = 'baton_session';
export const CUSTOMER_TOKEN_HEADER = 'x-customer-token';
export const BOT_KEY_PREFIX = 'bk_';

/** Bounds the cache of verified customer tokens: about 10,000 × 110 bytes. */
const VERIFIED_CUSTOMERS_LIMIT = 10_000;

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, maxmem: 64 * 1024 * 1024 } as const;

function scrypt(password: string, salt: Buffer, params: { N: number; r: number; p: number; keyLength: number }) {
  return new Promise<Buffer>((resolve, reject) => {
    scryptCallback(
      password.normalize('NFKC'),
      salt,
      params.keyLength,
      { N: params.N, r: params.r, p: params.p, maxmem: SCRYPT.maxmem },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url): the parameters travel with the hash so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    keyLength: expected.length,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function randomToken(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** A human-friendly random password for seeded accounts: 4 groups of 5 letters and digits (~100 bits). */
export function randomPassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(20);
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0 && i % 5 === 0) out += '-';
    out += alphabet[bytes[i]! % alphabet.length];
  }
  return out;
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function queryString(request: FastifyRequest, name: string): string | undefined {
  const query = request.query;
  if (!query || typeof query !== 'object') return undefined;
  const value = (query as Record<string, unknown>)[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function routeConversationId(request: FastifyRequest): string | undefined {
  const params = request.params;
  if (params && typeof params === 'object') {
    const id = (params as Record<string, unknown>).id;
    if (typeof id === 'string') return id;
  }
  return queryString(request, 'conversationId');
}

const ROLE_RANK: Record<AgentRole, number> = { agent: 0, supervisor: 1, admin: 2 };

function admits(audience: readonly Audience[], principal: Principal): boolean {
  if (principal.kind === 'customer') return audience.includes('customer');
  if (principal.kind === 'bot') return audience.includes('bot');
  const rank = ROLE_RANK[principal.agent.role];
  return (
    audience.includes('agent') ||
    (audience.includes('supervisor') && rank >= ROLE_RANK.supervisor) ||
    (audience.includes('admin') && rank >= ROLE_RANK.admin)
  );
}

export interface AuthOptions {
  sessionTtlSeconds: number;
  /** Secure cookies when served over HTTPS. */
  secureCookies?: boolean;
}

/**
 * Credentials: agent sessions (cookie or Bearer), customer per-conversation tokens, bot API keys.
 * Only hashes of tokens and keys are stored, so a leaked database does not leak credentials.
 */
export class Auth {
  readonly #store: Store;
  readonly #options: AuthOptions;
  #dummyHash: Promise<string> | undefined;
  /**
   * (conversation, token hash) pairs the store has confirmed. A customer token is set when the
   * conversation starts and never changes, so a confirmed pair stays valid; the widget sends the token
   * with every message and the lookup was a store round trip each time. Only successes are kept, so
   * wrong guesses cannot fill it.
   */
  readonly #verifiedCustomers = new Set<string>();

  constructor(store: Store, options: AuthOptions) {
    this.#store = store;
    this.#options = options;
  }

  async login(email: string, password: string): Promise<{ token: string; agent: AgentRecord; expiresAt: string }> {
    const found = await this.#store.findAgentByEmail(email.trim().toLowerCase());
    if (!found) {
      // Same work as a real check, so response time does not reveal which emails exist.
      this.#dummyHash ??= hashPassword(randomToken());
      await verifyPassword(password, await this.#dummyHash);
      throw new BatonError('unauthorized', 'wrong email or password');
    }
    const { passwordHash, ...agent } = found;
    if (!(await verifyPassword(password, passwordHash))) {
      throw new BatonError('unauthorized', 'wrong email or password');
    }
    const token = randomToken();
    const expiresAt = new Date(Date.now() + this.#options.sessionTtlSeconds * 1000).toISOString();
    await this.#store.createSession({ tokenHash: sha256(token), agentId: agent.id, expiresAt });
    return { token, agent, expiresAt };
  }

  async logout(principal: Principal): Promise<void> {
    if (principal.kind === 'agent') await this.#store.deleteSession(principal.sessionTokenHash);
  }

  setSessionCookie(reply: FastifyReply, token: string, expiresAt: string): void {
    reply.setCookie(SESSION_COOKIE, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#options.secureCookies ?? false,
      expires: new Date(expiresAt),
    });
  }

  clearSessionCookie(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  async agentFromSessionToken(token: string): Promise<Principal | null> {
    const tokenHash = sha256(token);
    const agent = await this.#store.getSessionAgent(tokenHash);
    return agent ? { kind: 'agent', agent, sessionTokenHash: tokenHash } : null;
  }

  /** Whether the principal's credentials still hold: a long-lived WebSocket re-checks its agent's session. */
  async isStillValid(principal: Principal): Promise<boolean> {
    if (principal.kind !== 'agent') return true;
    return (await this.#store.getValidSession(principal.sessionTokenHash)) !== undefined;
  }

  async botFromKey(key: string): Promise<Principal | null> {
    const apiKey = await this.#store.findApiKey(sha256(key));
    if (!apiKey) return null;
    return { kind: 'bot', botId: apiKey.botId ?? `bot_${apiKey.keyHash.slice(0, 12)}`, apiKey };
  }

  async customerFromToken(conversationId: string, token: string): Promise<Principal | null> {
    const tokenHash = sha256(token);
    const key = `${conversationId}\n${tokenHash}`;
    if (this.#verifiedCustomers.has(key)) {
      // Most recently used last, so the oldest is evicted first.
      this.#verifiedCustomers.delete(key);
      this.#verifiedCustomers.add(key);
      return { kind: 'customer', conversationId };
    }
    if (!(await this.#store.verifyCustomerToken(conversationId, tokenHash))) return null;
    this.#rememberVerified(key);
    return { kind: 'customer', conversationId };
  }

  /**
   * The token this process has just issued for a new conversation: the customer's first message then
   * needs no store round trip to be let in.
   */
  rememberCustomer(conversationId: string, token: string): void {
    this.#rememberVerified(`${conversationId}\n${sha256(token)}`);
  }

  #rememberVerified(key: string): void {
    if (this.#verifiedCustomers.size >= VERIFIED_CUSTOMERS_LIMIT) {
      const oldest = this.#verifiedCustomers.values().next();
      if (!oldest.done) this.#verifiedCustomers.delete(oldest.value);
    }
    this.#verifiedCustomers.add(key);
  }

  /**
   * Establishes the principal from whatever credentials the request carries. Presented but invalid
   * credentials are an error (401), never silently ignored: a client with an expired session must learn it.
   */
  async authenticate(request: FastifyRequest): Promise<Principal | null> {
    const token = bearer(request) ?? queryString(request, 'token');
    if (token) {
      const principal = token.startsWith(BOT_KEY_PREFIX)
        ? await this.botFromKey(token)
        : await this.agentFromSessionToken(token);
      if (!principal) throw new BatonError('unauthorized', 'invalid or expired token');
      return principal;
    }
    const customerToken = firstHeader(request.headers[CUSTOMER_TOKEN_HEADER]) ?? queryString(request, 'customerToken');
    if (customerToken) {
      const conversationId = routeConversationId(request);
      if (!conversationId) throw new BatonError('unauthorized', 'a customer token needs a conversation id');
      const principal = await this.customerFromToken(conversationId, customerToken);
      if (!principal) throw new BatonError('unauthorized', 'invalid customer token for this conversation');
      return principal;
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (cookie) {
      const principal = await this.agentFromSessionToken(cookie);
      if (!principal) throw new BatonError('unauthorized', 'session expired: sign in again');
      return principal;
    }
    return null;
  }

  /** A preHandler admitting only the given audience. Every route declares one (or `public`). */
  require(...audience: Audience[]): preHandlerAsyncHookHandler {
    return async (request) => {
      const principal = await this.authenticate(request);
      if (!principal) throw new BatonError('unauthorized', 'credentials required: sign in or send a token');
      if (!admits(audience, principal)) {
        throw new BatonError('forbidden', `this route is for: ${audience.join(', ')}`);
      }
      request.principal = principal;
    };
  }

  /** A preHandler that records credentials when present but admits anyone. */
  optional(): preHandlerAsyncHookHandler {
    return async (request) => {
      request.principal = await this.authenticate(request);
    };
  }

  /**
   * For routes anyone may call that act differently for a bot (starting a conversation): only a bot key
   * counts. A session cookie is ignored, valid or stale, so an agent can try the chat page in the same
   * browser as the console.
   */
  optionalBot(): preHandlerAsyncHookHandler {
    return async (request) => {
      const token = bearer(request);
      if (!token?.startsWith(BOT_KEY_PREFIX)) {
        request.principal = null;
        return;
      }
      const principal = await this.botFromKey(token);
      if (!principal) throw new BatonError('unauthorized', 'invalid API key');
      request.principal = principal;
    };
  }
}
