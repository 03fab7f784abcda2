import { dollarQuoted, ident, literal, qualified } from './ident.js';
import type { ColumnDef, ColumnSpec, CommentTarget, Constraint, FunctionDef, IndexDef, IndexKey, Op, OpKind, OpOf, TriggerDef } from './types.js';

/**
 * SQL text for each operation: pure string work, the one renderer behind
 * online execution and offline `--sql`, so both say the same thing.
 */

const list = (names: readonly string[]): string => names.map(ident).join(', ');

export function columnDefinition(c: ColumnDef): string {
  return [ident(c.name), columnTail(c)].join(' ');
}

function columnTail(c: ColumnSpec): string {
  return [c.type, c.default !== undefined && `DEFAULT ${c.default}`, c.nullable === false && 'NOT NULL'].filter(Boolean).join(' ');
}

export function constraintDefinition(c: Constraint): string {
  const named = c.name ? `CONSTRAINT ${ident(c.name)} ` : '';
  switch (c.kind) {
    case 'primaryKey':
      return `${named}PRIMARY KEY (${list(c.columns)})`;
    case 'unique':
      return `${named}UNIQUE (${list(c.columns)})`;
    case 'check':
      return `${named}CHECK (${c.expression})${c.notValid ? ' NOT VALID' : ''}`;
    case 'definition':
      return `${named}${c.definition}`;
    case 'foreignKey':
      return [
        `${named}FOREIGN KEY (${list(c.columns)}) REFERENCES ${qualified(c.references.table)} (${list(c.references.columns)})`,
        c.onUpdate && `ON UPDATE ${c.onUpdate}`,
        c.onDelete && `ON DELETE ${c.onDelete}`,
        c.notValid && 'NOT VALID',
      ]
        .filter(Boolean)
        .join(' ');
  }
}

function indexKey(k: IndexKey): string {
  if (typeof k === 'string') return ident(k);
  if ('expression' in k) return `(${k.expression})`;
  return [ident(k.column), k.opclass, k.order, k.nulls && `NULLS ${k.nulls}`].filter(Boolean).join(' ');
}

function createIndex(o: IndexDef): string {
  return [
    'CREATE',
    o.unique && 'UNIQUE',
    'INDEX',
    o.concurrently && 'CONCURRENTLY',
    o.ifNotExists && 'IF NOT EXISTS',
    ident(o.name),
    'ON',
    qualified(o.table),
    o.using && `USING ${o.using}`,
    `(${o.columns.map(indexKey).join(', ')})`,
    o.where && `WHERE ${o.where}`,
  ]
    .filter(Boolean)
    .join(' ');
}

function commentTarget(on: CommentTarget): string {
  return on.column === undefined ? `TABLE ${qualified(on.table)}` : `COLUMN ${qualified(on.table)}.${ident(on.column)}`;
}

function createFunction(f: FunctionDef): string {
  return (
    `CREATE ${f.replace === false ? '' : 'OR REPLACE '}FUNCTION ${qualified(f.name)}(${f.args ?? ''})\n` +
    `RETURNS ${f.returns} AS ${dollarQuoted(f.body)} LANGUAGE ${f.language}`
  );
}

function createTrigger(t: TriggerDef): string {
  return [
    `CREATE TRIGGER ${ident(t.name)}`,
    `${t.timing} ${t.events.join(' OR ')} ON ${qualified(t.table)}`,
    `FOR EACH ${t.forEach}`,
    t.when && `WHEN (${t.when})`,
    `EXECUTE FUNCTION ${qualified(t.function)}()`,
  ]
    .filter(Boolean)
    .join('\n');
}

const alter = (table: string): string => `ALTER TABLE ${qualified(table)}`;
const ifExists = (yes: boolean | undefined): string => (yes ? 'IF EXISTS ' : '');

type Renderers = { [K in OpKind]: (o: OpOf<K>) => string };

const RENDER: Renderers = {
  createTable: (o) =>
    `CREATE TABLE ${o.ifNotExists ? 'IF NOT EXISTS ' : ''}${qualified(o.table)} (\n` +
    [...o.columns.map(columnDefinition), ...(o.constraints ?? []).map(constraintDefinition)].map((l) => `  ${l}`).join(',\n') +
    '\n)',
  dropTable: (o) => `DROP TABLE ${ifExists(o.ifExists)}${qualified(o.table)}${o.cascade ? ' CASCADE' : ''}`,
  renameTable: (o) => `${alter(o.table)} RENAME TO ${ident(o.to)}`,
  addColumn: (o) => `${alter(o.table)} ADD COLUMN ${o.ifNotExists ? 'IF NOT EXISTS ' : ''}${columnDefinition(o.column)}`,
  dropColumn: (o) => `${alter(o.table)} DROP COLUMN ${ifExists(o.ifExists)}${ident(o.column)}`,
  alterColumn: (o) => {
    const col = `ALTER COLUMN ${ident(o.column)}`;
    const parts: string[] = [];
    if (o.set.type !== undefined) parts.push(`${col} TYPE ${o.set.type}${o.set.using ? ` USING ${o.set.using}` : ''}`);
    if (o.set.nullable !== undefined) parts.push(`${col} ${o.set.nullable ? 'DROP' : 'SET'} NOT NULL`);
    if (o.set.default !== undefined) parts.push(o.set.default === null ? `${col} DROP DEFAULT` : `${col} SET DEFAULT ${o.set.default}`);
    return `${alter(o.table)} ${parts.join(', ')}`;
  },
  renameColumn: (o) => `${alter(o.table)} RENAME COLUMN ${ident(o.column)} TO ${ident(o.to)}`,
  createIndex,
  dropIndex: (o) => `DROP INDEX ${o.concurrently ? 'CONCURRENTLY ' : ''}${ifExists(o.ifExists)}${qualified(o.name)}`,
  renameIndex: (o) => `ALTER INDEX ${qualified(o.name)} RENAME TO ${ident(o.to)}`,
  addConstraint: (o) => `${alter(o.table)} ADD ${constraintDefinition(o.constraint)}`,
  dropConstraint: (o) => `${alter(o.table)} DROP CONSTRAINT ${ifExists(o.ifExists)}${ident(o.name)}`,
  renameConstraint: (o) => `${alter(o.table)} RENAME CONSTRAINT ${ident(o.name)} TO ${ident(o.to)}`,
  setComment: (o) => `COMMENT ON ${commentTarget(o.on)} IS ${o.comment === null ? 'NULL' : literal(o.comment)}`,
  createFunction,
  dropFunction: (o) => `DROP FUNCTION ${ifExists(o.ifExists)}${qualified(o.name)}(${o.args ?? ''})`,
  createTrigger,
  dropTrigger: (o) => `DROP TRIGGER ${ifExists(o.ifExists)}${ident(o.name)} ON ${qualified(o.table)}`,
  execute: (o) => o.sql,
};

/** The one SQL statement (or, for `execute`, the script) an operation sends. */
export function renderOp(o: Op): string {
  return (RENDER[o.op] as (x: Op) => string)(o);
}
