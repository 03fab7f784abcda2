import { MigrateError } from '../errors.js';
import type {
  ColumnChange,
  ColumnDef,
  ColumnSpec,
  Constraint,
  CreateTable,
  FunctionDef,
  IndexDef,
  IndexKey,
  Op,
  TriggerDef,
} from './types.js';

type IndexOptions = Omit<IndexDef, 'name' | 'table' | 'columns'>;

/**
 * What a revision's `upgrade` and `downgrade` receive. Each method builds one
 * operation descriptor and hands it to the sink: online, the runtime renders
 * and runs it under the run's policy; offline (`--sql`), it is rendered into
 * the script; when inspecting, it is only recorded.
 */
export interface Operations {
  /** True when nothing is sent (rendering `--sql`, or inspecting): `query` is unavailable. */
  readonly offline: boolean;
  /** Any operation, as data. */
  run(op: Op): Promise<void>;
  /**
   * Raw SQL for what has no descriptor (one statement or a script of several,
   * plpgsql bodies welcome). Opaque to inspection: prefer a descriptor.
   */
  execute(sql: string, options?: { reverse?: string; transactional?: boolean }): Promise<void>;
  /** Reads data, e.g. to count what a step would discard. Online only. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Tells the operator something they must know (printed, never fatal). */
  warn(message: string): void;

  createTable(table: string, columns: readonly ColumnDef[], constraints?: readonly Constraint[]): Promise<void>;
  dropTable(table: string, options?: { ifExists?: boolean; cascade?: boolean; restore?: CreateTable }): Promise<void>;
  renameTable(table: string, to: string): Promise<void>;
  addColumn(table: string, column: string, spec: ColumnSpec): Promise<void>;
  dropColumn(table: string, column: string, options?: { ifExists?: boolean; restore?: ColumnSpec }): Promise<void>;
  alterColumn(table: string, column: string, set: ColumnChange, options?: { previous?: ColumnChange }): Promise<void>;
  renameColumn(table: string, column: string, to: string): Promise<void>;
  createIndex(name: string, table: string, columns: readonly IndexKey[], options?: IndexOptions): Promise<void>;
  dropIndex(name: string, options?: { concurrently?: boolean; ifExists?: boolean; restore?: IndexDef }): Promise<void>;
  renameIndex(name: string, to: string): Promise<void>;
  addConstraint(table: string, constraint: Constraint): Promise<void>;
  dropConstraint(table: string, name: string, options?: { ifExists?: boolean; restore?: Constraint }): Promise<void>;
  renameConstraint(table: string, name: string, to: string): Promise<void>;
  setColumnComment(table: string, column: string, comment: string | null, options?: { previous?: string | null }): Promise<void>;
  setTableComment(table: string, comment: string | null, options?: { previous?: string | null }): Promise<void>;
  createFunction(def: FunctionDef): Promise<void>;
  dropFunction(name: string, options?: { args?: string; ifExists?: boolean; restore?: FunctionDef }): Promise<void>;
  createTrigger(def: TriggerDef): Promise<void>;
  dropTrigger(name: string, table: string, options?: { ifExists?: boolean; restore?: TriggerDef }): Promise<void>;
}

/** Where operations go: a live session, an offline script, or a recording. */
export interface OperationSink {
  readonly offline: boolean;
  run(op: Op): Promise<void>;
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  warn(message: string): void;
}

export class OfflineQueryError extends MigrateError {
  override readonly name = 'OfflineQueryError';
}

export function createOperations(sink: OperationSink): Operations {
  const run = (op: Op): Promise<void> => sink.run(op);
  return {
    offline: sink.offline,
    run,
    execute: (sql, o = {}) => run({ op: 'execute', sql, ...o }),
    query: (sql, params) => sink.query(sql, params),
    warn: (m) => sink.warn(m),
    createTable: (table, columns, constraints) => run({ op: 'createTable', table, columns, ...(constraints ? { constraints } : {}) }),
    dropTable: (table, o = {}) => run({ op: 'dropTable', table, ...o }),
    renameTable: (table, to) => run({ op: 'renameTable', table, to }),
    addColumn: (table, name, spec) => run({ op: 'addColumn', table, column: { name, ...spec } }),
    dropColumn: (table, column, { restore, ...o } = {}) =>
      run({ op: 'dropColumn', table, column, ...o, ...(restore ? { restore: { name: column, ...restore } } : {}) }),
    alterColumn: (table, column, set, o = {}) => run({ op: 'alterColumn', table, column, set, ...o }),
    renameColumn: (table, column, to) => run({ op: 'renameColumn', table, column, to }),
    createIndex: (name, table, columns, o = {}) => run({ op: 'createIndex', name, table, columns, ...o }),
    dropIndex: (name, o = {}) => run({ op: 'dropIndex', name, ...o }),
    renameIndex: (name, to) => run({ op: 'renameIndex', name, to }),
    addConstraint: (table, constraint) => run({ op: 'addConstraint', table, constraint }),
    dropConstraint: (table, name, o = {}) => run({ op: 'dropConstraint', table, name, ...o }),
    renameConstraint: (table, name, to) => run({ op: 'renameConstraint', table, name, to }),
    setColumnComment: (table, column, comment, o = {}) => run({ op: 'setComment', on: { table, column }, comment, ...o }),
    setTableComment: (table, comment, o = {}) => run({ op: 'setComment', on: { table }, comment, ...o }),
    createFunction: (def) => run({ op: 'createFunction', ...def }),
    dropFunction: (name, o = {}) => run({ op: 'dropFunction', name, ...o }),
    createTrigger: (def) => run({ op: 'createTrigger', ...def }),
    dropTrigger: (name, table, o = {}) => run({ op: 'dropTrigger', name, table, ...o }),
  };
}

/** A sink that only records: what a revision would do, as data, without a database. */
export function recordingSink(): OperationSink & { readonly ops: Op[]; readonly warnings: string[] } {
  const ops: Op[] = [];
  const warnings: string[] = [];
  return {
    offline: true,
    ops,
    warnings,
    run: async (op) => {
      ops.push(op);
    },
    query: async () => {
      throw new OfflineQueryError('this revision reads data, which cannot be done without a database');
    },
    warn: (m) => warnings.push(m),
  };
}
