import { UsageError } from '../errors.js';
import { describeObject, inspectOp } from '../ops/inspect.js';
import type { ColumnDef, Op } from '../ops/types.js';
import type { ColumnSnapshot, TableSnapshot } from '../schema/catalog.js';
import type { Difference } from '../schema/diff.js';

/** An operation with the remarks a reviewer must see beside it in the generated file. */
export interface PlannedOp {
  op: Op;
  notes: string[];
}

/** `--rename old=new` (a table) or `--rename table.old=new` (a column). */
export interface Rename {
  table?: string;
  from: string;
  to: string;
}

export function parseRename(spec: string): Rename {
  const m = /^(?:([A-Za-z_][\w$]*)\.)?([A-Za-z_][\w$]*)=([A-Za-z_][\w$]*)$/.exec(spec.trim());
  if (!m) throw new UsageError(`--rename '${spec}' must be old=new (a table) or table.old=new (a column)`);
  return { ...(m[1] ? { table: m[1] } : {}), from: m[2]!, to: m[3]! };
}

const SERIAL: Record<string, string> = { integer: 'serial', bigint: 'bigserial', smallint: 'smallserial' };

/**
 * A column as an operation declares it. A serial column is read back as an
 * integer defaulting to its own sequence; it is written as `serial` again,
 * so the sequence is created (and dropped) with it.
 */
function columnDef(c: ColumnSnapshot, table: string): ColumnDef {
  const serial = SERIAL[c.type] && c.default === `nextval('${table}_${c.name}_seq'::regclass)` ? SERIAL[c.type] : undefined;
  return {
    name: c.name,
    type: serial ?? c.type,
    ...(c.nullable ? {} : { nullable: false }),
    ...(c.default !== undefined && !serial ? { default: c.default } : {}),
  };
}

const sameShape = (a: ColumnSnapshot, b: ColumnSnapshot): boolean => a.type === b.type && a.nullable === b.nullable;

/** Order in which kinds of operations run, so each finds what it needs (drops before adds, functions before triggers). */
const PHASE: Record<Op['op'], number> = {
  dropTrigger: 0,
  dropConstraint: 1,
  dropIndex: 2,
  renameTable: 3,
  renameColumn: 4,
  renameConstraint: 4,
  renameIndex: 4,
  createTable: 5,
  addColumn: 6,
  alterColumn: 7,
  dropColumn: 8,
  addConstraint: 9,
  createIndex: 10,
  createFunction: 11,
  createTrigger: 12,
  setComment: 13,
  dropFunction: 14,
  dropTable: 15,
  execute: 16,
};

function createTableOps(t: TableSnapshot): Op[] {
  const ops: Op[] = [
    { op: 'createTable', table: t.name, columns: t.columns.map((c) => columnDef(c, t.name)), constraints: t.constraints.filter((c) => c.constraint.kind !== 'foreignKey').map((c) => c.constraint) },
    ...t.constraints.filter((c) => c.constraint.kind === 'foreignKey').map((c): Op => ({ op: 'addConstraint', table: t.name, constraint: c.constraint })),
    ...t.indexes.map((i): Op => ({ op: 'createIndex', ...i.index })),
  ];
  if (t.comment !== null) ops.push({ op: 'setComment', on: { table: t.name }, comment: t.comment, previous: null });
  for (const c of t.columns) if (c.comment !== null) ops.push({ op: 'setComment', on: { table: t.name, column: c.name }, comment: c.comment, previous: null });
  return ops;
}

/**
 * A table's drop, spelled out (its foreign keys, indexes and comments first)
 * so that the reversed list recreates all of it, not just the bare table.
 */
function dropTableOps(t: TableSnapshot): Op[] {
  const create = createTableOps(t)[0] as Extract<Op, { op: 'createTable' }>;
  return [
    ...t.constraints.filter((c) => c.constraint.kind === 'foreignKey').map((c): Op => ({ op: 'dropConstraint', table: t.name, name: c.name, restore: c.constraint })),
    ...t.indexes.map((i): Op => ({ op: 'dropIndex', name: i.name, restore: i.index })),
    ...(t.comment !== null ? [{ op: 'setComment', on: { table: t.name }, comment: null, previous: t.comment } as Op] : []),
    ...t.columns.filter((c) => c.comment !== null).map((c): Op => ({ op: 'setComment', on: { table: t.name, column: c.name }, comment: null, previous: c.comment })),
    { op: 'dropTable', table: t.name, restore: create },
  ];
}

/**
 * Turns differences (database → wanted) into the operations that bring the
 * database to the wanted schema, each carrying what its reverse needs, so
 * `reverseOps` of the result is the exact downgrade. A column or table that
 * disappears while one of the same shape appears is a rename only when the
 * user says so; otherwise the drop carries a note naming the possibility.
 * Pure.
 */
export function planOperations(diffs: readonly Difference[], renames: readonly Rename[] = []): PlannedOp[] {
  const out: PlannedOp[] = [];
  const add = (op: Op, ...notes: string[]): void => {
    out.push({ op, notes });
  };
  const used = new Set<Rename>();
  const tableRename = (from: string, to: string): Rename | undefined => renames.find((r) => !r.table && r.from === from && r.to === to);
  const columnRename = (table: string, from: string, to: string): Rename | undefined =>
    renames.find((r) => r.table === table && r.from === from && r.to === to);

  const missingTables = diffs.flatMap((d) => (d.kind === 'table-missing' ? [d.table] : []));
  const extraTables = diffs.flatMap((d) => (d.kind === 'table-extra' ? [d.table] : []));
  const renamedTables = new Set<TableSnapshot>();
  for (const w of missingTables) {
    for (const a of extraTables) {
      const r = tableRename(a.name, w.name);
      if (!r) continue;
      used.add(r);
      renamedTables.add(a).add(w);
      add({ op: 'renameTable', table: a.name, to: w.name });
    }
  }
  const columnsMissing = diffs.flatMap((d) => (d.kind === 'column-missing' ? [d] : []));
  const columnsExtra = diffs.flatMap((d) => (d.kind === 'column-extra' ? [d] : []));
  const renamedColumns = new Set<ColumnSnapshot>();
  for (const w of columnsMissing) {
    for (const a of columnsExtra.filter((x) => x.table === w.table)) {
      const r = columnRename(w.table, a.column.name, w.column.name);
      if (!r) continue;
      used.add(r);
      renamedColumns.add(a.column).add(w.column);
      add({ op: 'renameColumn', table: w.table, column: a.column.name, to: w.column.name });
    }
  }
  const unknown = renames.filter((r) => !used.has(r));
  if (unknown.length) {
    const what = unknown.map((r) => `${r.table ? `${r.table}.` : ''}${r.from}=${r.to}`).join(', ');
    throw new UsageError(`--rename ${what}: no such ${unknown[0]!.table ? 'column' : 'table'} disappears while that one appears`);
  }

  for (const d of diffs) {
    switch (d.kind) {
      case 'table-missing':
        if (!renamedTables.has(d.table)) for (const op of createTableOps(d.table)) add(op);
        break;
      case 'table-extra': {
        if (renamedTables.has(d.table)) break;
        const twin = missingTables.find((w) => !renamedTables.has(w) && w.columns.length === d.table.columns.length && w.columns.every((c, i) => sameShape(c, d.table.columns[i]!)));
        const hint = twin ? `Possible rename: ${twin.name} has the same columns; if so, run again with --rename ${d.table.name}=${twin.name}` : undefined;
        for (const op of dropTableOps(d.table)) add(op, ...(op.op === 'dropTable' && hint ? [hint] : []));
        break;
      }
      case 'column-missing': {
        if (renamedColumns.has(d.column)) break;
        add({ op: 'addColumn', table: d.table, column: columnDef(d.column, d.table) });
        if (d.column.comment !== null) add({ op: 'setComment', on: { table: d.table, column: d.column.name }, comment: d.column.comment, previous: null });
        break;
      }
      case 'column-extra': {
        if (renamedColumns.has(d.column)) break;
        const twin = columnsMissing.find((w) => w.table === d.table && !renamedColumns.has(w.column) && sameShape(w.column, d.column));
        const hint = twin ? `Possible rename: ${d.table}.${twin.column.name} has the same type; if so, run again with --rename ${d.table}.${d.column.name}=${twin.column.name}` : undefined;
        if (d.column.comment !== null) add({ op: 'setComment', on: { table: d.table, column: d.column.name }, comment: null, previous: d.column.comment });
        add({ op: 'dropColumn', table: d.table, column: d.column.name, restore: columnDef(d.column, d.table) }, ...(hint ? [hint] : []));
        break;
      }
      case 'column-changed': {
        const set: Extract<Op, { op: 'alterColumn' }>['set'] = {};
        const previous: typeof set = {};
        if (d.fields.includes('type')) {
          set.type = d.wanted.type;
          set.using = `${d.column}::${d.wanted.type}`;
          previous.type = d.actual.type;
          previous.using = `${d.column}::${d.actual.type}`;
        }
        if (d.fields.includes('nullable')) {
          set.nullable = d.wanted.nullable;
          previous.nullable = d.actual.nullable;
        }
        if (d.fields.includes('default')) {
          set.default = d.wanted.default ?? null;
          previous.default = d.actual.default ?? null;
        }
        if (Object.keys(set).length) add({ op: 'alterColumn', table: d.table, column: d.column, set, previous });
        if (d.fields.includes('comment')) add({ op: 'setComment', on: { table: d.table, column: d.column }, comment: d.wanted.comment, previous: d.actual.comment });
        break;
      }
      case 'constraint-missing':
        add({ op: 'addConstraint', table: d.table, constraint: d.constraint.constraint });
        break;
      case 'constraint-extra':
        add({ op: 'dropConstraint', table: d.table, name: d.constraint.name, restore: d.constraint.constraint });
        break;
      case 'constraint-changed':
        add({ op: 'dropConstraint', table: d.table, name: d.actual.name, restore: d.actual.constraint });
        add({ op: 'addConstraint', table: d.table, constraint: d.wanted.constraint });
        break;
      case 'constraint-renamed':
        add({ op: 'renameConstraint', table: d.table, name: d.actual.name, to: d.wanted.name });
        break;
      case 'index-missing':
        add({ op: 'createIndex', ...d.index.index });
        break;
      case 'index-extra':
        add({ op: 'dropIndex', name: d.index.name, restore: d.index.index });
        break;
      case 'index-changed':
        add({ op: 'dropIndex', name: d.actual.name, restore: d.actual.index });
        add({ op: 'createIndex', ...d.wanted.index });
        break;
      case 'table-comment-changed':
        add({ op: 'setComment', on: { table: d.table }, comment: d.wanted, previous: d.actual });
        break;
      case 'function-missing':
        add({ op: 'createFunction', ...d.fn.def });
        break;
      case 'function-extra':
        add({ op: 'dropFunction', name: d.fn.def.name, ...(d.fn.def.args ? { args: d.fn.def.args } : {}), restore: d.fn.def });
        break;
      case 'function-changed':
        // Replaced in place: a trigger may depend on it, so it is never dropped.
        add({ op: 'createFunction', ...d.wanted.def, previous: d.actual.def });
        break;
      case 'trigger-missing':
        add({ op: 'createTrigger', ...d.trigger.trigger });
        break;
      case 'trigger-extra':
        add({ op: 'dropTrigger', name: d.trigger.trigger.name, table: d.trigger.trigger.table, restore: d.trigger.trigger });
        break;
      case 'trigger-changed':
        add({ op: 'dropTrigger', name: d.actual.trigger.name, table: d.actual.trigger.table, restore: d.actual.trigger });
        add({ op: 'createTrigger', ...d.wanted.trigger });
        break;
    }
  }
  for (const p of out) {
    for (const loss of inspectOp(p.op).dropsData) p.notes.unshift(`DATA LOSS: drops ${describeObject(loss)} and every value in it`);
  }
  return out
    .map((p, i) => ({ p, i }))
    .sort((a, b) => PHASE[a.p.op.op] - PHASE[b.p.op.op] || a.i - b.i)
    .map(({ p }) => p);
}
