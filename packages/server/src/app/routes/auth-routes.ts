import { BatonError } from '@baton/core';
import { z } from 'zod';
import { ErrorBody } from '../http-errors.ts';
import type { RouteModule } from '../route-module.ts';
import { AgentSchema } from './schemas.ts';

/** Failed logins per email within the window before further attempts are refused for a while. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 5 * 60 * 1000;
const MAX_TRACKED_EMAILS = 10_000;

export const authRoutes: RouteModule = {
  name: 'auth',
  register(app, { auth }) {
    const failures = new Map<string, { count: number; since: number }>();

    app.post(
      '/v1/auth/login',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign in an agent; sets the session cookie and returns the token for Bearer use',
          body: z.object({
            email: z.string().trim().min(3, 'email is required').max(254),
            password: z.string().min(1, 'password is required').max(1024),
          }),
          response: {
            200: z.object({ token: z.string(), agent: AgentSchema, expiresAt: z.string() }),
            400: ErrorBody,
            401: ErrorBody,
            429: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const key = request.body.email.toLowerCase();
        const now = Date.now();
        const record = failures.get(key);
        if (record && now - record.since > FAILURE_WINDOW_MS) failures.delete(key);
        // Bounded, so a flood of made-up emails cannot grow it without limit; the oldest go first.
        while (failures.size > MAX_TRACKED_EMAILS) {
          const oldest = failures.keys().next();
          if (oldest.done) break;
          failures.delete(oldest.value);
        }
        if ((failures.get(key)?.count ?? 0) >= MAX_FAILURES) {
          throw new BatonError('rate_limited', 'too many failed sign-ins for this email; try again in a few minutes');
        }
        try {
          const session = await auth.login(request.body.email, request.body.password);
          failures.delete(key);
          auth.setSessionCookie(reply, session.token, session.expiresAt);
          return session;
        } catch (error) {
          if (BatonError.is(error) && error.code === 'unauthorized') {
            const current = failures.get(key) ?? { count: 0, since: now };
            failures.set(key, { ...current, count: current.count + 1 });
          }
          throw error;
        }
      },
    );

    app.post(
      '/v1/auth/logout',
      {
        preHandler: auth.require('agent'),
        schema: { tags: ['auth'], summary: 'End the session', response: { 204: z.null(), 401: ErrorBody } },
      },
      async (request, reply) => {
        if (request.principal) await auth.logout(request.principal);
        auth.clearSessionCookie(reply);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/v1/me',
      {
        preHandler: auth.require('agent'),
        schema: { tags: ['auth'], summary: 'The signed-in agent', response: { 200: z.object({ agent: AgentSchema }) } },
      },
      async (request) => {
        const principal = request.principal;
        if (principal?.kind !== 'agent') throw new BatonError('unauthorized', 'sign in required');
        return { agent: principal.agent };
      },
    );
  },
};
