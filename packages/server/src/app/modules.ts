import { agentModule } from '../agent/agent-module.ts';
import type { RouteModule } from './route-module.ts';
import { authRoutes } from './routes/auth-routes.ts';
import { contextRoutes } from './routes/context.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { deskRoutes } from './routes/desk.ts';
import { healthRoutes } from './routes/health.ts';
import { streamRoutes } from './routes/stream.ts';

/**
 * Every module the server registers, in order. To plug in routes or a background runtime (desk routes,
 * router, AI agent), export a `RouteModule` from your file and add one line here.
 */
export const modules: RouteModule[] = [
  healthRoutes,
  authRoutes,
  conversationRoutes,
  contextRoutes,
  deskRoutes,
  streamRoutes,
  agentModule,
];
