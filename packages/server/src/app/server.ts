import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import { createBus } from '../bus/create-bus.ts';
import type { Config } from '../config.ts';
import { createStore, type SqlStore } from '../store/sql-store.ts';
import { Auth } from './auth.ts';
import { Consoles } from './consoles.ts';
import { ConversationService } from './conversation-service.ts';
import { installErrorHandlers } from './http-errors.ts';
import { createLogger } from './logger.ts';
import { modules as defaultModules } from './modules.ts';
import type { BatonApp, RouteDeps, RouteModule } from './route-module.ts';

export interface CreateServerOptions {
  logger?: Logger;
  /** Replaces the default module list (modules.ts); tests use it to leave a runtime out. */
  modules?: RouteModule[];
  /** Registered after the default modules. */
  extraModules?: RouteModule[];
  /** Use this bus instead of the one config chooses; the server closes it on close. */
  bus?: Bus;
  /** Skip `listen`: for `app.inject` tests. */
  listen?: boolean;
}

export interface BatonServer {
  app: BatonApp;
  /** `http://host:port` once listening. */
  url: string;
  deps: RouteDeps;
  close(): Promise<void>;
}

/**
 * Builds the whole server: store (migrated), bus, services, every module, the web apps. `GET /health`
 * answers only once all of that is done, because the server listens last.
 */
export async function createServer(config: Config, options: CreateServerOptions = {}): Promise<BatonServer> {
  const logger = options.logger ?? createLogger(config);
  const store: SqlStore = createStore({
    ...(config.databaseUrl ? { url: config.databaseUrl } : { file: config.sqliteFile }),
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    poolSize: config.databasePoolSize,
    preparedStatements: config.databasePreparedStatements,
    logger,
  });
  let bus: Bus | undefined;
  try {
    await store.migrate();
    bus = options.bus ?? (await createBus({ ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}), logger }));
  } catch (error) {
    await bus?.close();
    await store.close();
    throw error;
  }

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // One line per request is noise at info level on a chat server; debug turns it on.
    logController: new LogController({
      disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace',
    }),
    trustProxy: true,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);
  // JSON only: a text/plain body would otherwise reach validation as a string and get a vaguer message.
  app.removeContentTypeParser('text/plain');
  installErrorHandlers(app);
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    // The chat page is framed by widget.js on customers' sites; nothing else should be framed (clickjacking).
    if (!request.url.startsWith('/chat/')) reply.header('x-frame-options', 'DENY');
    return payload;
  });

  const service = new ConversationService({ store, bus, logger });
  const auth = new Auth(store, { sessionTtlSeconds: config.sessionTtlSeconds });
  const consoles = new Consoles({ bus, logger });
  const deps: RouteDeps = { config, store, database: store.handle, bus, service, auth, consoles, logger };

  let closing: Promise<void> | undefined;
  let adaptersClosed: Promise<void> | undefined;
  const closeAdapters = () => {
    adaptersClosed ??= (async () => {
      await consoles.stop();
      await bus?.close();
      await store.close();
    })();
    return adaptersClosed;
  };
  // Fastify runs onClose hooks last-added first: added before any module, this runs after every module's
  // own (the AI runtime's turns in flight, the router's pass, the streams) has finished with the store and
  // the bus. Added after them, it closed both under their feet: each shutdown under load logged hundreds of
  // "driver has already been destroyed" failures of turns that never got written.
  app.addHook('onClose', closeAdapters);

  try {
    // Unsubscribed when the bus closes, after every module.
    await service.followOtherProcesses();
    await app.register(fastifyCookie);
    await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Baton API',
          version: '1',
          description: 'The AI-to-human handoff platform. Contract: docs/protocol.md.',
        },
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: 'baton_session' },
            bearer: { type: 'http', scheme: 'bearer' },
            customerToken: { type: 'apiKey', in: 'header', name: 'X-Customer-Token' },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    for (const module of [...(options.modules ?? defaultModules), ...(options.extraModules ?? [])]) {
      await module.register(app, deps);
    }
    registerWebApps(app, config, logger);
    await app.ready();
    if (options.listen !== false) await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close().catch(() => undefined);
    await closeAdapters().catch(() => undefined);
    throw error;
  }

  return {
    app,
    url: listeningUrl(app, config),
    deps,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}

function listeningUrl(app: BatonApp, config: Config): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') return `http://${config.host}:${config.port}`;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
}

function registerWebApps(app: BatonApp, config: Config, logger: Logger): void {
  if (!existsSync(join(config.webDir, 'console', 'index.html'))) {
    logger.warn({ webDir: config.webDir }, 'web apps not built: run `npm run build:web` (npm start does it)');
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/plain')
        .send('Baton API is running. The web apps are not built: run `npm run build:web`, or `npm start`.\n'),
    );
    return;
  }
  app.register(fastifyStatic, {
    root: config.webDir,
    prefix: '/',
    wildcard: true,
    index: ['index.html'],
    redirect: true,
    setHeaders(reply, path) {
      // Vite fingerprints everything under assets/; pages and widget.js must update on deploy.
      reply.header(
        'cache-control',
        path.includes(`${join('/', 'assets', '/')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));
}
