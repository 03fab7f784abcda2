import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/index.js';
import { SERVICE } from './health.js';

/**
 * JSON logs on stdout, or the same records as short lines for a person
 * (logDestination). Fastify logs no headers and no bodies; the redaction is
 * the second line of defence for tokens and passwords logged by mistake.
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

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Shown in the line's fixed parts, or not at all. */
const CONSUMED = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg', 'request_id', 'req', 'res', 'responseTime', 'err']);

interface LogRecord {
  level: number;
  time: number;
  msg?: string;
  request_id?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  err?: { type?: string; message?: string; stack?: string };
  [key: string]: unknown;
}

function clock(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * One pino record as one short line: time, level, request id, then for a
 * finished request `METHOD /url status time`, otherwise the message and its
 * fields as key=value. Only an error (an unexpected failure) adds its stack.
 */
export function prettyLine(r: LogRecord): string {
  const parts = [clock(r.time), (LEVELS[r.level] ?? String(r.level)).padEnd(5)];
  if (r.request_id) parts.push(r.request_id);
  if (r.req && r.res) {
    parts.push(`${r.req.method ?? '?'} ${r.req.url ?? '?'} ${r.res.statusCode ?? '?'} ${(r.responseTime ?? 0).toFixed(1)} ms`);
  } else if (r.msg) {
    parts.push(r.msg);
  }
  for (const [k, v] of Object.entries(r)) {
    if (!CONSUMED.has(k)) parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  if (r.err) parts.push(`${r.err.type ?? 'Error'}: ${r.err.message ?? ''}`);
  const line = parts.join(' ');
  return r.err?.stack && r.level >= 50 ? `${line}\n${r.err.stack}\n` : `${line}\n`;
}

/**
 * Where the service's log goes for LOG_FORMAT: JSON (pino's own stdout
 * destination) for machines, short lines when a person reads it, which
 * `auto` takes to be when stdout is a terminal.
 */
export function logDestination(format: Config['logFormat'], out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): DestinationStream | undefined {
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY === true);
  if (!pretty) return undefined;
  return { write: (json: string) => void out.write(prettyLine(JSON.parse(json) as LogRecord)) };
}
