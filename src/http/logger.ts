import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/index.js';
import { SERVICE } from './health.js';

/**
 * JSON logs on stdout. Fastify logs no headers and no bodies; the redaction
 * is the second line of defence for tokens and passwords logged by mistake.
 */
export function createLogger(level: Config['logLevel'], destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: SERVICE.name, pid: process.pid },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'password', '*.password', 'access_token', '*.access_token'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
