import type { PGlite } from '@electric-sql/pglite';
import type { Sql } from 'postgres';

/** What every piece of code that sends SQL needs: one statement with parameters, or a script. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (DDL, plpgsql bodies). */
  exec(text: string): Promise<void>;
}

/**
 * One database, server or embedded. `session` pins one backend connection for
 * work that needs session state (advisory locks, BEGIN ... COMMIT by hand);
 * `transaction` commits on return and rolls back on throw.
 */
export interface Database extends Queryable {
  readonly kind: 'server' | 'embedded';
  /** Safe to print: never holds a password. */
  readonly description: string;
  /** The driver itself, for hot paths and for building a Drizzle instance. */
  readonly driver: { kind: 'server'; sql: Sql } | { kind: 'embedded'; pg: PGlite };
  session<T>(fn: (s: Queryable) => Promise<T>): Promise<T>;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A database could not be opened or reached; the message is one line, without secrets. */
export class DatabaseConnectError extends Error {
  override readonly name = 'DatabaseConnectError';
}

/** The embedded data directory is held by another process. */
export class DataDirectoryLockedError extends DatabaseConnectError {}

/** A statement did not complete in time (the JS-side deadline, or the server's statement_timeout). */
export class QueryTimeoutError extends Error {
  override readonly name = 'QueryTimeoutError';
  constructor(ms: number) {
    super(`no answer from the database within ${ms} ms`);
  }
}

/**
 * Driver and server codes that mean "the database is not there right now"
 * (down, restarting, unreachable, out of connections, too slow) rather than
 * "this request is wrong": a retry later may succeed, so they are 503s.
 */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  '57P01', // terminated by an administrator (pg_terminate_backend)
  '57P02', // crash shutdown
  '57P03', // the server is starting up or shutting down
  '57014', // statement_timeout
  '53300', // too many connections
]);

export function isDatabaseUnavailable(e: unknown): boolean {
  if (e instanceof QueryTimeoutError || e instanceof DatabaseConnectError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (UNAVAILABLE.has(code) || code.startsWith('08'));
}
