import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../store/database.ts';
import type { Store } from '../store/store.ts';
import type { Auth } from './auth.ts';
import type { Consoles } from './consoles.ts';
import type { ConversationService } from './conversation-service.ts';

/** The Fastify instance every route module receives: zod schemas type the handlers and feed /openapi.json. */
export type BatonApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** What a module may use. Modules get their collaborators here instead of importing singletons. */
export interface RouteDeps {
  config: Config;
  store: Store;
  /** The store's Kysely handle, for modules with their own tables (see store/migrations/index.ts). */
  database: DatabaseHandle;
  bus: Bus;
  service: ConversationService;
  auth: Auth;
  /** Agents' consoles open on this process, and the signals about them across processes (see consoles.ts). */
  consoles: Consoles;
  logger: Logger;
}

/**
 * A unit plugged into the server: HTTP routes, a WebSocket route, or a background runtime (router,
 * AI agent) subscribing to `deps.service.onAppended`. `register` runs once before the server listens;
 * release resources with `app.addHook('onClose', …)`. Add a module to `modules.ts`.
 */
export interface RouteModule {
  name: string;
  register(app: BatonApp, deps: RouteDeps): void | Promise<void>;
}
