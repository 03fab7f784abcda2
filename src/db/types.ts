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
