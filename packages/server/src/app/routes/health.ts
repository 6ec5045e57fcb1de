import { z } from 'zod';
import type { RouteModule } from '../route-module.ts';

export const healthRoutes: RouteModule = {
  name: 'health',
  register(app) {
    app.get(
      '/health',
      {
        schema: {
          tags: ['meta'],
          summary: 'Ready once migrations ran and every module is registered',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
};
