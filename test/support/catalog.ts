import type { Queryable } from '../../src/db/index.js';

/**
 * The schema as the catalog states it, normalised for comparison: what
 * schema.md says identity is judged on (columns with types, defaults,
 * nullability and comments; constraint, index and trigger definitions; the
 * names, language and return type of functions in public).
 */
export interface Catalog {
  tables: string[];
  columns: { table: string; name: string; type: string; nullable: boolean; default: string | null; comment: string | null }[];
  constraints: { table: string; name: string; definition: string }[];
  indexes: { name: string; definition: string }[];
  triggers: { name: string; definition: string }[];
  functions: { name: string; language: string; returns: string }[];
}

/** The engine's own bookkeeping beside Alembic's version table: not part of the schema compared. */
const ENGINE_TABLES = ['alembic_version_history'];

export async function catalog(db: Queryable, opts: { tables?: string[] } = {}): Promise<Catalog> {
  const only = opts.tables;
  const keep = <T extends { table: string }>(rows: T[]): T[] =>
    rows.filter((r) => (only ? only.includes(r.table) : !ENGINE_TABLES.includes(r.table)));
  const tables = (
    await db.query<{ t: string }>(`SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`)
  ).map((r) => r.t).filter((t) => (only ? only.includes(t) : !ENGINE_TABLES.includes(t)));
  const columns = keep(
    await db.query<Catalog['columns'][number]>(`
      SELECT c.relname AS "table", a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
             NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS "default",
             col_description(c.oid, a.attnum) AS comment
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`),
  );
  const constraints = keep(
    await db.query<Catalog['constraints'][number]>(`
      SELECT c.relname AS "table", k.conname AS name, pg_get_constraintdef(k.oid) AS definition
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND k.contype <> 'n' ORDER BY 1, 2`),
  );
  const indexes = (
    await db.query<Catalog['indexes'][number] & { table: string }>(`
      SELECT tablename AS "table", indexname AS name, indexdef AS definition FROM pg_indexes
      WHERE schemaname = 'public' ORDER BY indexname`)
  )
    .filter((r) => (only ? only.includes(r.table) : !ENGINE_TABLES.includes(r.table)))
    .map(({ name, definition }) => ({ name, definition }));
  const triggers = await db.query<Catalog['triggers'][number]>(`
    SELECT t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1`);
  const functions = await db.query<Catalog['functions'][number]>(`
    SELECT p.proname AS name, l.lanname AS language, format_type(p.prorettype, NULL) AS returns
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
    WHERE n.nspname = 'public' ORDER BY 1`);
  return { tables, columns, constraints, indexes, triggers, functions };
}
