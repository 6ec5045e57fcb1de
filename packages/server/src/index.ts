export { type Audience, Auth, hashPassword, type Principal, verifyPassword } from './app/auth.ts';
export {
  type Actor,
  type AppendedListener,
  ConversationService,
  conversationTopic,
  DESK_TOPIC,
  deskAgentTopic,
} from './app/conversation-service.ts';
export type { BatonApp, RouteDeps, RouteModule } from './app/route-module.ts';
export { type BatonServer, type CreateServerOptions, createServer } from './app/server.ts';
export type { Bus, BusMessage } from './bus/bus.ts';
export { BusEnvelope, BusMessageSchema } from './bus/bus-envelope.ts';
export { type BusConfig, createBus } from './bus/create-bus.ts';
export { type BusHandler, FanOutBus, type FanOutBusOptions } from './bus/fan-out-bus.ts';
export { InProcessBus } from './bus/in-process-bus.ts';
export { RedisBus, type RedisBusOptions } from './bus/redis-bus.ts';
export { type Config, loadConfig } from './config.ts';
export { DEMO_AGENT_EMAILS, type DemoSeed, resetDemoPasswords, type SeededAgent, seedDemo } from './demo/seed.ts';
export * from './store/database.ts';
export { migrateToLatest } from './store/migrate.ts';
export { type BatonMigration, migrations, registerMigration } from './store/migrations/index.ts';
export { createStore, SqlStore, type SqlStoreOptions } from './store/sql-store.ts';
export type * from './store/store.ts';
