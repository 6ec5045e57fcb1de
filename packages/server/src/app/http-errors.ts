import { BatonError, type BatonErrorCode } from '@baton/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';

export const STATUS_BY_CODE: Record<BatonErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_owner: 409,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** The one error shape clients see (docs/protocol.md). */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export function errorBody(code: BatonErrorCode, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof (error as FastifyError).code === 'string';
}

/** Converts anything thrown in a request into a BatonError: the single place statuses are decided. */
export function toBatonError(error: unknown): BatonError {
  if (BatonError.is(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as FastifyError).validationContext ?? 'body';
    const problems = error.validation.map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return `${where}${path ? `.${path}` : ''}: ${issue.message}`;
    });
    return new BatonError('invalid_input', problems.join('; '), { details: { problems } });
  }
  if (isFastifyError(error)) {
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return new BatonError('invalid_input', `malformed JSON body: ${error.message}`);
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new BatonError('payload_too_large', 'request body is too large');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new BatonError('invalid_input', `unsupported content type: send application/json`);
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return new BatonError('invalid_input', 'content-length does not match the body');
      default:
        break;
    }
  }
  if (error instanceof SyntaxError) return new BatonError('invalid_input', `malformed JSON body: ${error.message}`);
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : 'bad request';
    if (status === 413) return new BatonError('payload_too_large', message);
    if (status === 404) return new BatonError('not_found', message);
    return new BatonError('invalid_input', message);
  }
  return new BatonError('internal', 'internal error', { cause: error });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const baton = toBatonError(error);
    const status = STATUS_BY_CODE[baton.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ code: baton.code, message: baton.message }, 'request refused');
    if (baton.code === 'unavailable' || baton.isRetryable) reply.header('retry-after', '1');
    return reply.status(status).send(errorBody(baton.code, baton.message, baton.details));
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    return reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
