import { type Logger, pino } from 'pino';
import type { Config } from '../config.ts';

const SECRET_QUERY = /([?&](?:token|customerToken)=)[^&]*/g;

/** WebSocket clients pass credentials in the query string; they must not reach the logs. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  id?: string;
  ip?: string;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'baton' },
    serializers: {
      req: (request: LoggedRequest) => ({
        id: request.id,
        method: request.method,
        url: request.url ? redactUrl(request.url) : undefined,
        ip: request.ip,
      }),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-customer-token"]',
        'password',
        'token',
      ],
      censor: '[redacted]',
    },
  });
}
