/**
 * SQL text for the operations a revision asks for. Pure string work, shared
 * by the online executor and the offline (--sql) renderer so both say the
 * same thing.
 */

const SIMPLE = /^[a-z_][a-z0-9_$]*$/;
const RESERVED = new Set([
  'all', 'and', 'any', 'array', 'as', 'asc', 'both', 'case', 'cast', 'check', 'collate', 'column', 'constraint',
  'create', 'default', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'for', 'foreign', 'from',
  'grant', 'group', 'having', 'in', 'into', 'is', 'join', 'leading', 'limit', 'not', 'null', 'offset', 'on',
  'only', 'or', 'order', 'primary', 'references', 'select', 'table', 'then', 'to', 'true', 'union', 'unique',
  'user', 'using', 'when', 'where', 'with',
]);

export function ident(name: string): string {
  return SIMPLE.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` or `table`, each part quoted as needed. */
export function qualified(name: string): string {
  return name.split('.').map(ident).join('.');
}

export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export interface ColumnSpec {
  /** SQL type as written, e.g. `integer`, `varchar(255)`, `text`. */
  type: string;
  nullable?: boolean;
  /** SQL expression, e.g. `'1'`, `CURRENT_TIMESTAMP`. */
  default?: string;
}

export function addColumn(table: string, column: string, spec: ColumnSpec): string {
  const parts = [`ALTER TABLE ${qualified(table)} ADD COLUMN ${ident(column)} ${spec.type}`];
  if (spec.default !== undefined) parts.push(`DEFAULT ${spec.default}`);
  if (spec.nullable === false) parts.push('NOT NULL');
  return parts.join(' ');
}

export function dropColumn(table: string, column: string): string {
  return `ALTER TABLE ${qualified(table)} DROP COLUMN ${ident(column)}`;
}

export interface IndexOptions {
  unique?: boolean;
  using?: string;
  concurrently?: boolean;
  ifNotExists?: boolean;
}

export function createIndex(name: string, table: string, columns: readonly string[], o: IndexOptions = {}): string {
  return [
    'CREATE',
    o.unique && 'UNIQUE',
    'INDEX',
    o.concurrently && 'CONCURRENTLY',
    o.ifNotExists && 'IF NOT EXISTS',
    ident(name),
    'ON',
    qualified(table),
    o.using && `USING ${o.using}`,
    `(${columns.map(ident).join(', ')})`,
  ]
    .filter(Boolean)
    .join(' ');
}

export function dropIndex(name: string, o: { concurrently?: boolean; ifExists?: boolean } = {}): string {
  return `DROP INDEX ${o.concurrently ? 'CONCURRENTLY ' : ''}${o.ifExists ? 'IF EXISTS ' : ''}${qualified(name)}`;
}

export function commentOnColumn(table: string, column: string, comment: string | null): string {
  return `COMMENT ON COLUMN ${qualified(table)}.${ident(column)} IS ${comment === null ? 'NULL' : literal(comment)}`;
}
