import { BatonError, Brief, EvalResult, evaluateTranscript, Finding, prepareGuard, Transcript } from '@baton/core';
import { z } from 'zod';
import { briefFor, readWholeLog } from '../agent-brief.ts';
import { ErrorBody } from '../http-errors.ts';
import type { RouteModule } from '../route-module.ts';
import { authorizeRead, viewDetail, viewerOf } from './conversations.ts';
import { ConversationIdParams } from './schemas.ts';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** The context engine over HTTP: brief, continuity guard and transcript evaluation, all from @baton/core. */
export const contextRoutes: RouteModule = {
  name: 'context',
  register(app, deps) {
    const { auth, service, store } = deps;

    app.get(
      '/v1/conversations/:id/brief',
      {
        preHandler: auth.require('agent'),
        schema: {
          tags: ['context'],
          summary: 'The handoff brief; `source` fields are 0-based positions in the log (seq - 1)',
          params: ConversationIdParams,
          querystring: z.object({
            upTo: z.coerce
              .number()
              .int()
              .min(1)
              .optional()
              .describe('build from the first N events; default up to the first handoff request'),
          }),
          response: { 200: z.object({ brief: Brief }), ...errors },
        },
      },
      async (request) => {
        const { conversation } = await service.get(request.params.id);
        const principal = request.principal!;
        await authorizeRead(deps, principal, conversation, 'conversation.brief_viewed', viewDetail(principal));
        if (principal.kind !== 'agent') throw new BatonError('forbidden', 'agents only');
        const events = await readWholeLog(store, conversation.id);
        return { brief: briefFor(events, conversation, viewerOf(principal), request.query.upTo) };
      },
    );

    app.post(
      '/v1/conversations/:id/guard',
      {
        preHandler: auth.require('agent'),
        schema: {
          tags: ['context'],
          summary: 'Continuity guard findings for a draft (the console runs the same core code locally)',
          params: ConversationIdParams,
          body: z.object({ draft: z.string().max(8000, 'draft is longer than 8000 characters') }),
          response: { 200: z.object({ findings: z.array(Finding) }), ...errors },
        },
      },
      async (request) => {
        const { conversation } = await service.get(request.params.id);
        await authorizeRead(deps, request.principal!, conversation, 'conversation.guard_checked');
        const events = await readWholeLog(store, conversation.id);
        return { findings: prepareGuard(events)(request.body.draft) };
      },
    );

    app.post(
      '/v1/eval',
      {
        preHandler: auth.require('agent'),
        bodyLimit: 16 * 1024 * 1024,
        schema: {
          tags: ['context'],
          summary: 'Evaluate one transcript (DESIGN.md format): the `baton eval --json` object',
          body: z.object({ id: z.string(), industry: z.string().optional(), events: z.array(z.unknown()) }).loose(),
          response: { 200: EvalResult, ...errors },
        },
      },
      async (request) => {
        // Transcript has a preprocess step (the `handoff` short form), so it is parsed here, not in the schema.
        const parsed = Transcript.safeParse(request.body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new BatonError('invalid_input', `body.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
        }
        return evaluateTranscript(parsed.data);
      },
    );
  },
};
