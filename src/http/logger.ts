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

/** Query parameters whose values are credentials, wherever they are sent. */
const SECRET_PARAMS = /pass|secret|token|key|auth|user|cred/i;

/**
 * The URL as it may be logged: credentials a client put in the query string
 * (a login form sent as GET-style parameters, a token) are replaced.
 */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // An undecodable name is judged as sent.
      }
      return eq >= 0 && SECRET_PARAMS.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}
