/**
 * Operations as data. Every change a revision makes to the schema is one of
 * these plain descriptors: it can be rendered to SQL (render.ts), reversed
 * where that is defined (reverse.ts) and inspected for what it touches,
 * whether it can drop data and whether it must run outside a transaction
 * (inspect.ts), before anything is sent to a database.
 */

export interface ColumnSpec {
  /** SQL type as written, e.g. `integer`, `varchar(255)`, `text`. */
  type: string;
  nullable?: boolean;
  /** SQL expression, e.g. `'1'`, `CURRENT_TIMESTAMP`. */
  default?: string;
}

export interface ColumnDef extends ColumnSpec {
  name: string;
}

export type ForeignKeyAction = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';

/** A table constraint; unnamed ones get PostgreSQL's generated names. */
export type Constraint =
  | { kind: 'primaryKey'; name?: string; columns: readonly string[] }
  | { kind: 'unique'; name?: string; columns: readonly string[] }
  | { kind: 'check'; name?: string; expression: string; notValid?: boolean }
  | {
      kind: 'foreignKey';
      name?: string;
      columns: readonly string[];
      references: { table: string; columns: readonly string[] };
      onDelete?: ForeignKeyAction;
      onUpdate?: ForeignKeyAction;
      notValid?: boolean;
    }
  /** Any other constraint (an exclusion constraint, say), as PostgreSQL prints its definition. */
  | { kind: 'definition'; name?: string; definition: string };

/** A column name, or an expression / ordered column for an index key. */
export type IndexKey =
  | string
  | { column: string; order?: 'ASC' | 'DESC'; nulls?: 'FIRST' | 'LAST'; opclass?: string }
  | { expression: string };

export interface IndexDef {
  name: string;
  table: string;
  columns: readonly IndexKey[];
  unique?: boolean;
  /** Access method, e.g. `gin`; btree when absent. */
  using?: string;
  /** Partial index predicate. */
  where?: string;
  concurrently?: boolean;
  ifNotExists?: boolean;
}

export interface FunctionDef {
  name: string;
  /** Argument list as written inside the parentheses; '' for none. */
  args?: string;
  returns: string;
  language: string;
  body: string;
  /** CREATE OR REPLACE (the default) or plain CREATE. */
  replace?: boolean;
}

export type TriggerEvent = 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE';

export interface TriggerDef {
  name: string;
  table: string;
  timing: 'BEFORE' | 'AFTER' | 'INSTEAD OF';
  events: readonly TriggerEvent[];
  forEach: 'ROW' | 'STATEMENT';
  /** The function to call, without parentheses. */
  function: string;
  when?: string;
}

/** What a column looks like before or after an `alterColumn`; only the fields that change. */
export interface ColumnChange {
  type?: string;
  /** USING expression for a type change. */
  using?: string;
  nullable?: boolean;
  /** An expression, or null to drop the default. */
  default?: string | null;
}

export type CommentTarget = { table: string; column?: string };

export type Op =
  | { op: 'createTable'; table: string; columns: readonly ColumnDef[]; constraints?: readonly Constraint[]; ifNotExists?: boolean }
  | { op: 'dropTable'; table: string; ifExists?: boolean; cascade?: boolean; restore?: CreateTable }
  | { op: 'renameTable'; table: string; to: string }
  | { op: 'addColumn'; table: string; column: ColumnDef; ifNotExists?: boolean }
  | { op: 'dropColumn'; table: string; column: string; ifExists?: boolean; restore?: ColumnDef }
  | { op: 'alterColumn'; table: string; column: string; set: ColumnChange; previous?: ColumnChange }
  | { op: 'renameColumn'; table: string; column: string; to: string }
  | ({ op: 'createIndex' } & IndexDef)
  | { op: 'dropIndex'; name: string; concurrently?: boolean; ifExists?: boolean; restore?: IndexDef }
  | { op: 'renameIndex'; name: string; to: string }
  | { op: 'addConstraint'; table: string; constraint: Constraint }
  | { op: 'dropConstraint'; table: string; name: string; ifExists?: boolean; restore?: Constraint }
  | { op: 'renameConstraint'; table: string; name: string; to: string }
  | { op: 'setComment'; on: CommentTarget; comment: string | null; previous?: string | null }
  /** `previous`: the definition it replaces, when it replaces one (its reverse puts that back). */
  | ({ op: 'createFunction'; previous?: FunctionDef } & FunctionDef)
  | { op: 'dropFunction'; name: string; args?: string; ifExists?: boolean; restore?: FunctionDef }
  | ({ op: 'createTrigger' } & TriggerDef)
  | { op: 'dropTrigger'; name: string; table: string; ifExists?: boolean; restore?: TriggerDef }
  | {
      op: 'execute';
      /** SQL the engine cannot see into: opaque to inspection. */
      sql: string;
      /** SQL that undoes it, when the author knows it. */
      reverse?: string;
      /** False for SQL that must run outside a transaction. */
      transactional?: boolean;
    };

export type CreateTable = Extract<Op, { op: 'createTable' }>;
export type OpKind = Op['op'];
export type OpOf<K extends OpKind> = Extract<Op, { op: K }>;
