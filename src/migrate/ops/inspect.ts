import type { Op, OpKind, OpOf } from './types.js';

/** A schema object an operation creates, changes or removes. */
export type ObjectRef =
  | { kind: 'table'; table: string }
  | { kind: 'column'; table: string; column: string }
  | { kind: 'index'; index: string; table?: string }
  | { kind: 'constraint'; table: string; constraint: string }
  | { kind: 'function'; function: string }
  | { kind: 'trigger'; table: string; trigger: string };

/** Stored values an operation can discard. */
export type DataLoss = { kind: 'table'; table: string } | { kind: 'column'; table: string; column: string };

export interface OpInfo {
  touches: ObjectRef[];
  dropsData: DataLoss[];
  /** Must run outside a transaction block (CREATE/DROP INDEX CONCURRENTLY, or raw SQL marked so). */
  autocommit: boolean;
  /** Raw SQL: what it touches and drops is unknown to the engine. */
  opaque: boolean;
}

const table = (t: string): ObjectRef => ({ kind: 'table', table: t });
const column = (t: string, c: string): ObjectRef => ({ kind: 'column', table: t, column: c });

type Inspectors = { [K in OpKind]: (o: OpOf<K>) => Partial<OpInfo> };

const INSPECT: Inspectors = {
  createTable: (o) => ({ touches: [table(o.table)] }),
  dropTable: (o) => ({ touches: [table(o.table)], dropsData: [{ kind: 'table', table: o.table }] }),
  renameTable: (o) => ({ touches: [table(o.table), table(o.to)] }),
  addColumn: (o) => ({ touches: [column(o.table, o.column.name)] }),
  dropColumn: (o) => ({ touches: [column(o.table, o.column)], dropsData: [{ kind: 'column', table: o.table, column: o.column }] }),
  alterColumn: (o) => ({ touches: [column(o.table, o.column)] }),
  renameColumn: (o) => ({ touches: [column(o.table, o.column), column(o.table, o.to)] }),
  createIndex: (o) => ({ touches: [{ kind: 'index', index: o.name, table: o.table }], autocommit: o.concurrently === true }),
  dropIndex: (o) => ({
    touches: [{ kind: 'index', index: o.name, ...(o.restore ? { table: o.restore.table } : {}) }],
    autocommit: o.concurrently === true,
  }),
  renameIndex: (o) => ({ touches: [{ kind: 'index', index: o.name }, { kind: 'index', index: o.to }] }),
  addConstraint: (o) => ({ touches: o.constraint.name ? [{ kind: 'constraint', table: o.table, constraint: o.constraint.name }] : [table(o.table)] }),
  dropConstraint: (o) => ({ touches: [{ kind: 'constraint', table: o.table, constraint: o.name }] }),
  renameConstraint: (o) => ({
    touches: [
      { kind: 'constraint', table: o.table, constraint: o.name },
      { kind: 'constraint', table: o.table, constraint: o.to },
    ],
  }),
  setComment: (o) => ({ touches: [o.on.column === undefined ? table(o.on.table) : column(o.on.table, o.on.column)] }),
  createFunction: (o) => ({ touches: [{ kind: 'function', function: o.name }] }),
  dropFunction: (o) => ({ touches: [{ kind: 'function', function: o.name }] }),
  createTrigger: (o) => ({ touches: [{ kind: 'trigger', table: o.table, trigger: o.name }, { kind: 'function', function: o.function }] }),
  dropTrigger: (o) => ({ touches: [{ kind: 'trigger', table: o.table, trigger: o.name }] }),
  execute: (o) => ({ opaque: true, autocommit: o.transactional === false }),
};

export function inspectOp(o: Op): OpInfo {
  const i = (INSPECT[o.op] as (x: Op) => Partial<OpInfo>)(o);
  return { touches: i.touches ?? [], dropsData: i.dropsData ?? [], autocommit: i.autocommit ?? false, opaque: i.opaque ?? false };
}

/** One line a reviewer reads: `column candidates.notes`. */
export function describeObject(r: ObjectRef): string {
  switch (r.kind) {
    case 'table':
      return `table ${r.table}`;
    case 'column':
      return `column ${r.table}.${r.column}`;
    case 'index':
      return `index ${r.index}`;
    case 'constraint':
      return `constraint ${r.constraint} on ${r.table}`;
    case 'function':
      return `function ${r.function}()`;
    case 'trigger':
      return `trigger ${r.trigger} on ${r.table}`;
  }
}
