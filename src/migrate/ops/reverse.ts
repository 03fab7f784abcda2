import { MigrateError } from '../errors.js';
import type { ColumnChange, Op, OpKind, OpOf } from './types.js';

/** The operation has no defined inverse (a drop without the definition to restore, raw SQL without `reverse`). */
export class IrreversibleError extends MigrateError {
  override readonly name = 'IrreversibleError';
}

const none = (o: Op, why: string): never => {
  throw new IrreversibleError(`${o.op} cannot be reversed: ${why}`);
};

function undoChange(o: OpOf<'alterColumn'>): ColumnChange {
  const p = o.previous ?? {};
  const back: ColumnChange = {};
  for (const k of ['type', 'nullable', 'default'] as const) {
    if (o.set[k] === undefined) continue;
    if (p[k] === undefined) none(o, `the previous ${k} of ${o.table}.${o.column} is not given (set 'previous')`);
  }
  if (o.set.type !== undefined) back.type = p.type!;
  if (o.set.type !== undefined && p.using !== undefined) back.using = p.using;
  if (o.set.nullable !== undefined) back.nullable = p.nullable!;
  if (o.set.default !== undefined) back.default = p.default!;
  return back;
}

type Reversers = { [K in OpKind]: (o: OpOf<K>) => Op };

const REVERSE: Reversers = {
  createTable: (o) => ({ op: 'dropTable', table: o.table, ...(o.ifNotExists ? { ifExists: true } : {}), restore: o }),
  dropTable: (o) => o.restore ?? none(o, `the definition of ${o.table} is not given (set 'restore')`),
  renameTable: (o) => ({
    op: 'renameTable',
    table: o.table.includes('.') ? `${o.table.slice(0, o.table.lastIndexOf('.'))}.${o.to}` : o.to,
    to: o.table.slice(o.table.lastIndexOf('.') + 1),
  }),
  addColumn: (o) => ({ op: 'dropColumn', table: o.table, column: o.column.name, ...(o.ifNotExists ? { ifExists: true } : {}), restore: o.column }),
  dropColumn: (o) =>
    o.restore
      ? { op: 'addColumn', table: o.table, column: o.restore, ...(o.ifExists ? { ifNotExists: true } : {}) }
      : none(o, `the definition of ${o.table}.${o.column} is not given (set 'restore')`),
  alterColumn: (o) => ({ op: 'alterColumn', table: o.table, column: o.column, set: undoChange(o), previous: o.set }),
  renameColumn: (o) => ({ op: 'renameColumn', table: o.table, column: o.to, to: o.column }),
  createIndex: ({ op: _, ...def }) => ({
    op: 'dropIndex',
    name: def.name,
    ...(def.concurrently ? { concurrently: true } : {}),
    ...(def.ifNotExists ? { ifExists: true } : {}),
    restore: def,
  }),
  dropIndex: (o) => (o.restore ? { op: 'createIndex', ...o.restore } : none(o, `the definition of index ${o.name} is not given (set 'restore')`)),
  renameIndex: (o) => ({ op: 'renameIndex', name: o.to, to: o.name }),
  addConstraint: (o) =>
    o.constraint.name
      ? { op: 'dropConstraint', table: o.table, name: o.constraint.name, restore: o.constraint }
      : none(o, `the constraint on ${o.table} has no name to drop it by`),
  dropConstraint: (o) =>
    o.restore
      ? { op: 'addConstraint', table: o.table, constraint: { ...o.restore, name: o.name } }
      : none(o, `the definition of constraint ${o.name} is not given (set 'restore')`),
  renameConstraint: (o) => ({ op: 'renameConstraint', table: o.table, name: o.to, to: o.name }),
  setComment: (o) =>
    o.previous === undefined ? none(o, 'the previous comment is not given (set \'previous\')') : { op: 'setComment', on: o.on, comment: o.previous, previous: o.comment },
  createFunction: ({ op: _, previous, ...def }) =>
    previous
      ? { op: 'createFunction', ...previous, previous: def }
      : { op: 'dropFunction', name: def.name, ...(def.args ? { args: def.args } : {}), restore: def },
  dropFunction: (o) => (o.restore ? { op: 'createFunction', ...o.restore } : none(o, `the definition of function ${o.name} is not given (set 'restore')`)),
  createTrigger: ({ op: _, ...def }) => ({ op: 'dropTrigger', name: def.name, table: def.table, restore: def }),
  dropTrigger: (o) => (o.restore ? { op: 'createTrigger', ...o.restore } : none(o, `the definition of trigger ${o.name} is not given (set 'restore')`)),
  execute: (o) =>
    o.reverse === undefined
      ? none(o, 'raw SQL has no known inverse (give `reverse`)')
      : { op: 'execute', sql: o.reverse, reverse: o.sql, ...(o.transactional === false ? { transactional: false } : {}) },
};

/** The operation that undoes `o`; throws IrreversibleError where none is defined. */
export function reverseOp(o: Op): Op {
  return (REVERSE[o.op] as (x: Op) => Op)(o);
}

/** The operations that undo a list of them, in the order to run them. */
export function reverseOps(ops: readonly Op[]): Op[] {
  return [...ops].reverse().map(reverseOp);
}
