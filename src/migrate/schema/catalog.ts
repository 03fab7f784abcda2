import type { ColumnDef, Constraint, FunctionDef, IndexDef, TriggerDef } from '../ops/types.js';

/**
 * A schema as the catalog states it, in the engine's own descriptor shapes so
 * a difference can be turned straight into operations. Every text field is
 * PostgreSQL's own rendering (format_type, pg_get_expr, pg_get_constraintdef,
 * pg_get_indexdef), so two snapshots compare equal exactly when PostgreSQL
 * considers the objects the same, however their SQL was written.
 */
export interface CatalogSnapshot {
  tables: TableSnapshot[];
  functions: FunctionSnapshot[];
  triggers: TriggerSnapshot[];
}

export interface ColumnSnapshot extends ColumnDef {
  nullable: boolean;
  comment: string | null;
}

export interface ConstraintSnapshot {
  name: string;
  /** pg_get_constraintdef: what identity is judged on. */
  definition: string;
  constraint: Constraint & { name: string };
}

export interface IndexSnapshot {
  name: string;
  /** pg_get_indexdef without the schema: what identity is judged on. */
  definition: string;
  index: IndexDef;
}

export interface TableSnapshot {
  name: string;
  comment: string | null;
  columns: ColumnSnapshot[];
  constraints: ConstraintSnapshot[];
  /** Indexes that do not back a constraint (those come and go with it). */
  indexes: IndexSnapshot[];
}

export interface FunctionSnapshot {
  def: FunctionDef;
  /** The body with runs of white space folded, for comparison. */
  normalizedBody: string;
}

export interface TriggerSnapshot {
  /** pg_get_triggerdef without the schema. */
  definition: string;
  trigger: TriggerDef;
}

export const emptyCatalog = (): CatalogSnapshot => ({ tables: [], functions: [], triggers: [] });
