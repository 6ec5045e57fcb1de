import { type Logger, pino } from 'pino';
import type { Config } from '../config.ts';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'baton' },
    // Credentials must never reach the logs.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-customer-token"]',
        'res.headers["set-cookie"]',
        'password',
        'token',
        'customerToken',
      ],
      censor: '[redacted]',
    },
  });
}
