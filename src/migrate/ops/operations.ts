import { MigrateError } from '../errors.js';
import * as render from './render.js';

/**
 * What a revision's `upgrade` and `downgrade` receive. Everything a revision
 * does to the schema goes through `execute` (or a helper that renders SQL and
 * calls it), so the same revision runs online or is rendered as a script.
 */
export interface Operations {
  /** True when rendering SQL for review (`--sql`): nothing is sent, `query` is unavailable. */
  readonly offline: boolean;
  /** Runs one statement or a script of several (plpgsql bodies welcome). */
  execute(sql: string): Promise<void>;
  /** Reads data, e.g. to count what a step would discard. Online only. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Tells the operator something they must know (printed, never fatal). */
  warn(message: string): void;
  addColumn(table: string, column: string, spec: render.ColumnSpec): Promise<void>;
  dropColumn(table: string, column: string): Promise<void>;
  createIndex(name: string, table: string, columns: readonly string[], options?: render.IndexOptions): Promise<void>;
  dropIndex(name: string, options?: { concurrently?: boolean; ifExists?: boolean }): Promise<void>;
  setColumnComment(table: string, column: string, comment: string | null): Promise<void>;
}

/** Where operations go: a live session, or a list of statements. */
export interface OperationSink {
  readonly offline: boolean;
  execute(sql: string): Promise<void>;
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  warn(message: string): void;
}

export class OfflineQueryError extends MigrateError {
  override readonly name = 'OfflineQueryError';
}

export function createOperations(sink: OperationSink): Operations {
  const execute = (sql: string): Promise<void> => sink.execute(sql);
  return {
    offline: sink.offline,
    execute,
    query: (sql, params) => sink.query(sql, params),
    warn: (m) => sink.warn(m),
    addColumn: (t, c, spec) => execute(render.addColumn(t, c, spec)),
    dropColumn: (t, c) => execute(render.dropColumn(t, c)),
    createIndex: (n, t, cols, o) => execute(render.createIndex(n, t, cols, o)),
    dropIndex: (n, o) => execute(render.dropIndex(n, o)),
    setColumnComment: (t, c, comment) => execute(render.commentOnColumn(t, c, comment)),
  };
}
