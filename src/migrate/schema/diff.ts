import type { CatalogSnapshot, ColumnSnapshot, ConstraintSnapshot, FunctionSnapshot, IndexSnapshot, TableSnapshot, TriggerSnapshot } from './catalog.js';

/**
 * One way two schemas differ, from the point of view of bringing `actual`
 * (a database) to `wanted` (the model, or a revision's schema). Pure data:
 * `describeDifference` says it in words, autogenerate turns it into
 * operations, adopt into alignment steps.
 */
export type Difference =
  | { kind: 'table-missing'; table: TableSnapshot }
  | { kind: 'table-extra'; table: TableSnapshot }
  | { kind: 'column-missing'; table: string; column: ColumnSnapshot }
  | { kind: 'column-extra'; table: string; column: ColumnSnapshot }
  | { kind: 'column-changed'; table: string; column: string; fields: ColumnField[]; actual: ColumnSnapshot; wanted: ColumnSnapshot }
  | { kind: 'constraint-missing'; table: string; constraint: ConstraintSnapshot }
  | { kind: 'constraint-extra'; table: string; constraint: ConstraintSnapshot }
  | { kind: 'constraint-changed'; table: string; actual: ConstraintSnapshot; wanted: ConstraintSnapshot }
  /** The same definition under another name: a rename, not a drop and an add. */
  | { kind: 'constraint-renamed'; table: string; actual: ConstraintSnapshot; wanted: ConstraintSnapshot }
  | { kind: 'index-missing'; table: string; index: IndexSnapshot }
  | { kind: 'index-extra'; table: string; index: IndexSnapshot }
  | { kind: 'index-changed'; table: string; actual: IndexSnapshot; wanted: IndexSnapshot }
  | { kind: 'table-comment-changed'; table: string; actual: string | null; wanted: string | null }
  | { kind: 'function-missing'; fn: FunctionSnapshot }
  | { kind: 'function-extra'; fn: FunctionSnapshot }
  | { kind: 'function-changed'; actual: FunctionSnapshot; wanted: FunctionSnapshot }
  | { kind: 'trigger-missing'; trigger: TriggerSnapshot }
  | { kind: 'trigger-extra'; trigger: TriggerSnapshot }
  | { kind: 'trigger-changed'; actual: TriggerSnapshot; wanted: TriggerSnapshot };

export type ColumnField = 'type' | 'nullable' | 'default' | 'comment';

function byName<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((i) => [key(i), i]));
}

/** Walks two keyed lists: what only `wanted` has, what only `actual` has, and the pairs. */
function match<T>(actual: readonly T[], wanted: readonly T[], key: (t: T) => string) {
  const a = byName(actual, key);
  const w = byName(wanted, key);
  return {
    missing: wanted.filter((x) => !a.has(key(x))),
    extra: actual.filter((x) => !w.has(key(x))),
    both: wanted.filter((x) => a.has(key(x))).map((x) => [a.get(key(x))!, x] as const),
  };
}

const fnKey = (f: FunctionSnapshot): string => `${f.def.name}(${f.def.args ?? ''})`;

function columnFields(a: ColumnSnapshot, w: ColumnSnapshot): ColumnField[] {
  const fields: ColumnField[] = [];
  if (a.type !== w.type) fields.push('type');
  if (a.nullable !== w.nullable) fields.push('nullable');
  if ((a.default ?? null) !== (w.default ?? null)) fields.push('default');
  if (a.comment !== w.comment) fields.push('comment');
  return fields;
}

function diffTable(a: TableSnapshot, w: TableSnapshot): Difference[] {
  const out: Difference[] = [];
  const table = w.name;
  const cols = match(a.columns, w.columns, (c) => c.name);
  for (const column of cols.missing) out.push({ kind: 'column-missing', table, column });
  for (const column of cols.extra) out.push({ kind: 'column-extra', table, column });
  for (const [ac, wc] of cols.both) {
    const fields = columnFields(ac, wc);
    if (fields.length) out.push({ kind: 'column-changed', table, column: wc.name, fields, actual: ac, wanted: wc });
  }
  const cons = match(a.constraints, w.constraints, (c) => c.name);
  const renamed = new Set<ConstraintSnapshot>();
  for (const wc of cons.missing) {
    const ac = cons.extra.find((x) => !renamed.has(x) && x.definition === wc.definition);
    if (!ac) continue;
    renamed.add(ac).add(wc);
    out.push({ kind: 'constraint-renamed', table, actual: ac, wanted: wc });
  }
  for (const constraint of cons.missing) if (!renamed.has(constraint)) out.push({ kind: 'constraint-missing', table, constraint });
  for (const constraint of cons.extra) if (!renamed.has(constraint)) out.push({ kind: 'constraint-extra', table, constraint });
  for (const [ac, wc] of cons.both) if (ac.definition !== wc.definition) out.push({ kind: 'constraint-changed', table, actual: ac, wanted: wc });
  const idx = match(a.indexes, w.indexes, (i) => i.name);
  for (const index of idx.missing) out.push({ kind: 'index-missing', table, index });
  for (const index of idx.extra) out.push({ kind: 'index-extra', table, index });
  for (const [ai, wi] of idx.both) if (ai.definition !== wi.definition) out.push({ kind: 'index-changed', table, actual: ai, wanted: wi });
  if (a.comment !== w.comment) out.push({ kind: 'table-comment-changed', table, actual: a.comment, wanted: w.comment });
  return out;
}

/** Every difference between a database's schema and the one wanted, in a stable order. */
export function diffCatalogs(actual: CatalogSnapshot, wanted: CatalogSnapshot): Difference[] {
  const out: Difference[] = [];
  const tables = match(actual.tables, wanted.tables, (t) => t.name);
  for (const table of tables.missing) out.push({ kind: 'table-missing', table });
  for (const table of tables.extra) out.push({ kind: 'table-extra', table });
  for (const [a, w] of tables.both) out.push(...diffTable(a, w));
  const fns = match(actual.functions, wanted.functions, fnKey);
  for (const fn of fns.missing) out.push({ kind: 'function-missing', fn });
  for (const fn of fns.extra) out.push({ kind: 'function-extra', fn });
  for (const [a, w] of fns.both) {
    if (a.normalizedBody !== w.normalizedBody || a.def.returns !== w.def.returns || a.def.language !== w.def.language) {
      out.push({ kind: 'function-changed', actual: a, wanted: w });
    }
  }
  const trgKey = (t: TriggerSnapshot): string => `${t.trigger.table}.${t.trigger.name}`;
  const trg = match(actual.triggers, wanted.triggers, trgKey);
  for (const trigger of trg.missing) out.push({ kind: 'trigger-missing', trigger });
  for (const trigger of trg.extra) out.push({ kind: 'trigger-extra', trigger });
  for (const [a, w] of trg.both) if (a.definition !== w.definition) out.push({ kind: 'trigger-changed', actual: a, wanted: w });
  return out;
}

export interface Sides {
  /** What the database is called in the words (e.g. 'the database'). */
  actual: string;
  /** What the wanted schema is called (e.g. 'the model', 'revision 002'). */
  wanted: string;
}

const show = (v: string | boolean | null | undefined): string => (v === null || v === undefined ? 'none' : typeof v === 'boolean' ? (v ? 'nullable' : 'NOT NULL') : v);

function fieldText(f: ColumnField, a: ColumnSnapshot, w: ColumnSnapshot, s: Sides): string {
  const pick = (c: ColumnSnapshot): string | boolean | null | undefined => (f === 'nullable' ? c.nullable : f === 'default' ? c.default : f === 'comment' ? c.comment : c.type);
  const fmt = (c: ColumnSnapshot): string => (f === 'comment' && c.comment !== null ? JSON.stringify(c.comment) : show(pick(c)));
  return `${f} ${fmt(a)} in ${s.actual}, ${fmt(w)} in ${s.wanted}`;
}

/** A difference in words a reviewer reads: `column candidates.notes: in the model, not in the database`. */
export function describeDifference(d: Difference, s: Sides = { actual: 'the database', wanted: 'the model' }): string {
  const onlyWanted = `in ${s.wanted}, not in ${s.actual}`;
  const onlyActual = `in ${s.actual}, not in ${s.wanted}`;
  switch (d.kind) {
    case 'table-missing':
      return `table ${d.table.name}: ${onlyWanted}`;
    case 'table-extra':
      return `table ${d.table.name}: ${onlyActual}`;
    case 'column-missing':
      return `column ${d.table}.${d.column.name}: ${onlyWanted}`;
    case 'column-extra':
      return `column ${d.table}.${d.column.name}: ${onlyActual}`;
    case 'column-changed':
      return `column ${d.table}.${d.column}: ${d.fields.map((f) => fieldText(f, d.actual, d.wanted, s)).join('; ')}`;
    case 'constraint-missing':
      return `constraint ${d.constraint.name} on ${d.table} (${d.constraint.definition}): ${onlyWanted}`;
    case 'constraint-extra':
      return `constraint ${d.constraint.name} on ${d.table} (${d.constraint.definition}): ${onlyActual}`;
    case 'constraint-changed':
      return `constraint ${d.wanted.name} on ${d.table}: ${d.actual.definition} in ${s.actual}, ${d.wanted.definition} in ${s.wanted}`;
    case 'constraint-renamed':
      return `constraint on ${d.table} (${d.wanted.definition}): named ${d.actual.name} in ${s.actual}, ${d.wanted.name} in ${s.wanted}`;
    case 'index-missing':
      return `index ${d.index.name} on ${d.table}: ${onlyWanted}`;
    case 'index-extra':
      return `index ${d.index.name} on ${d.table}: ${onlyActual}`;
    case 'index-changed':
      return `index ${d.wanted.name} on ${d.table}: ${d.actual.definition} in ${s.actual}, ${d.wanted.definition} in ${s.wanted}`;
    case 'table-comment-changed':
      return `table ${d.table}: comment ${show(d.actual)} in ${s.actual}, ${show(d.wanted)} in ${s.wanted}`;
    case 'function-missing':
      return `function ${fnKey(d.fn)}: ${onlyWanted}`;
    case 'function-extra':
      return `function ${fnKey(d.fn)}: ${onlyActual}`;
    case 'function-changed':
      return `function ${fnKey(d.wanted)}: its definition differs between ${s.actual} and ${s.wanted}`;
    case 'trigger-missing':
      return `trigger ${d.trigger.trigger.name} on ${d.trigger.trigger.table}: ${onlyWanted}`;
    case 'trigger-extra':
      return `trigger ${d.trigger.trigger.name} on ${d.trigger.trigger.table}: ${onlyActual}`;
    case 'trigger-changed':
      return `trigger ${d.wanted.trigger.name} on ${d.wanted.trigger.table}: ${d.actual.definition} in ${s.actual}, ${d.wanted.definition} in ${s.wanted}`;
  }
}
