import type { SqlSession } from '../runtime/client.js';
import type { ForeignKeyAction, IndexKey, TriggerEvent } from '../ops/types.js';
import type { CatalogSnapshot, ColumnSnapshot, ConstraintSnapshot, IndexSnapshot, TableSnapshot, TriggerSnapshot } from './catalog.js';

export interface IntrospectOptions {
  schema?: string;
  /** Tables to leave out (the engine's own bookkeeping, such as the version table). */
  exclude?: readonly string[];
}

const FK_ACTIONS: Record<string, ForeignKeyAction> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** `public.candidates` in a definition becomes `candidates`: snapshots of one schema compare by name. */
function local(text: string, schema: string): string {
  return text.split(`${schema}.`).join('');
}

/**
 * Lists come back as json_agg, not arrays: a driver that skips its type
 * catalog fetch (postgres.js with fetch_types off) returns arrays as text.
 *
 * Reads one schema's tables, columns, constraints, indexes, comments,
 * functions and triggers from pg_catalog. Works the same on PGlite and on a
 * server; the only part of schema handling that touches a database.
 */
export async function introspect(q: Pick<SqlSession, 'query'>, o: IntrospectOptions = {}): Promise<CatalogSnapshot> {
  const schema = o.schema ?? 'public';
  const exclude = new Set(o.exclude ?? []);
  const tables = (
    await q.query<{ name: string; comment: string | null }>(
      `SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS comment
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`,
      [schema],
    )
  ).filter((t) => !exclude.has(t.name));
  const byName = new Map<string, TableSnapshot>(tables.map((t) => [t.name, { ...t, columns: [], constraints: [], indexes: [] }]));

  const columns = await q.query<{ table: string; name: string; type: string; nullable: boolean; default: string | null; comment: string | null }>(
    `SELECT c.relname AS "table", a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS "default", col_description(c.oid, a.attnum) AS comment
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY c.relname, a.attnum`,
    [schema],
  );
  for (const c of columns) {
    const col: ColumnSnapshot = { name: c.name, type: c.type, nullable: c.nullable, comment: c.comment };
    if (c.default !== null) col.default = c.default;
    byName.get(c.table)?.columns.push(col);
  }

  const constraints = await q.query<{
    table: string; name: string; type: string; definition: string; columns: string[] | null; check: string | null;
    ref_table: string | null; ref_columns: string[] | null; on_update: string; on_delete: string; validated: boolean;
  }>(
    `SELECT c.relname AS "table", k.conname AS name, k.contype AS type, pg_get_constraintdef(k.oid) AS definition,
            (SELECT json_agg(a.attname ORDER BY u.o) FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n) AS columns,
            CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END AS "check",
            f.relname AS ref_table,
            (SELECT json_agg(a.attname ORDER BY u.o) FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n) AS ref_columns,
            k.confupdtype AS on_update, k.confdeltype AS on_delete, k.convalidated AS validated
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_class f ON f.oid = k.confrelid
     WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'c', 'f', 'x') ORDER BY 1, 2`,
    [schema],
  );
  for (const k of constraints) {
    const t = byName.get(k.table);
    if (!t) continue;
    const cols = k.columns ?? [];
    let constraint: ConstraintSnapshot['constraint'];
    switch (k.type) {
      case 'p':
        constraint = { kind: 'primaryKey', name: k.name, columns: cols };
        break;
      case 'u':
        constraint = { kind: 'unique', name: k.name, columns: cols };
        break;
      case 'c':
        constraint = { kind: 'check', name: k.name, expression: k.check ?? '', ...(k.validated ? {} : { notValid: true }) };
        break;
      case 'f': {
        const onUpdate = FK_ACTIONS[k.on_update];
        const onDelete = FK_ACTIONS[k.on_delete];
        constraint = {
          kind: 'foreignKey',
          name: k.name,
          columns: cols,
          references: { table: k.ref_table ?? '', columns: k.ref_columns ?? [] },
          ...(onUpdate && onUpdate !== 'NO ACTION' ? { onUpdate } : {}),
          ...(onDelete && onDelete !== 'NO ACTION' ? { onDelete } : {}),
          ...(k.validated ? {} : { notValid: true }),
        };
        break;
      }
      default:
        constraint = { kind: 'definition', name: k.name, definition: k.definition };
    }
    t.constraints.push({ name: k.name, definition: local(k.definition, schema), constraint });
  }

  const indexes = await q.query<{
    table: string; name: string; definition: string; unique: boolean; method: string; predicate: string | null;
    keys: string[]; options: number[]; columns: (string | null)[];
  }>(
    `SELECT t.relname AS "table", i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition, x.indisunique AS unique,
            am.amname AS method, pg_get_expr(x.indpred, x.indrelid) AS predicate,
            (SELECT json_agg(pg_get_indexdef(x.indexrelid, k, true) ORDER BY k) FROM generate_series(1, x.indnkeyatts) k) AS keys,
            (SELECT json_agg(x.indoption[k - 1]::int ORDER BY k) FROM generate_series(1, x.indnkeyatts) k) AS options,
            (SELECT json_agg(a.attname ORDER BY k) FROM generate_series(1, x.indnkeyatts) k
               LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]) AS columns
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam
     WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
     ORDER BY 2`,
    [schema],
  );
  for (const i of indexes) {
    const t = byName.get(i.table);
    if (!t) continue;
    const keys: IndexKey[] = i.keys.map((text, k) => {
      const column = i.columns[k];
      const desc = ((i.options[k] ?? 0) & 1) === 1;
      const nullsFirst = ((i.options[k] ?? 0) & 2) === 2;
      if (!column) return { expression: text };
      // Only ordering that differs from the default is written (ASC NULLS LAST, DESC NULLS FIRST).
      const nulls = desc !== nullsFirst ? { nulls: nullsFirst ? ('FIRST' as const) : ('LAST' as const) } : {};
      return desc || Object.keys(nulls).length ? { column, ...(desc ? { order: 'DESC' as const } : {}), ...nulls } : column;
    });
    const snap: IndexSnapshot = {
      name: i.name,
      definition: local(i.definition, schema),
      index: {
        name: i.name,
        table: i.table,
        columns: keys,
        ...(i.unique ? { unique: true } : {}),
        ...(i.method !== 'btree' ? { using: i.method } : {}),
        ...(i.predicate ? { where: i.predicate } : {}),
      },
    };
    t.indexes.push(snap);
  }

  const functions = await q.query<{ name: string; args: string; returns: string; language: string; body: string }>(
    `SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS returns,
            l.lanname AS language, p.prosrc AS body
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
     WHERE n.nspname = $1 AND p.prokind = 'f' ORDER BY 1, 2`,
    [schema],
  );

  const triggers = await q.query<{ table: string; name: string; definition: string; type: number; function: string }>(
    `SELECT c.relname AS "table", t.tgname AS name, pg_get_triggerdef(t.oid) AS definition, t.tgtype::int AS type, p.proname AS function
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY 2, 1`,
    [schema],
  );

  return {
    tables: [...byName.values()],
    functions: functions.map((f) => ({
      def: { name: f.name, ...(f.args ? { args: f.args } : {}), returns: f.returns, language: f.language, body: f.body },
      normalizedBody: f.body.replace(/\s+/g, ' ').trim(),
    })),
    triggers: triggers.filter((t) => !exclude.has(t.table)).map((t): TriggerSnapshot => {
      const events: TriggerEvent[] = [];
      if (t.type & 4) events.push('INSERT');
      if (t.type & 8) events.push('DELETE');
      if (t.type & 16) events.push('UPDATE');
      if (t.type & 32) events.push('TRUNCATE');
      const when = /\bWHEN \((.*)\) EXECUTE FUNCTION/.exec(t.definition)?.[1];
      return {
        definition: local(t.definition, schema),
        trigger: {
          name: t.name,
          table: t.table,
          timing: t.type & 2 ? 'BEFORE' : t.type & 64 ? 'INSTEAD OF' : 'AFTER',
          events,
          forEach: t.type & 1 ? 'ROW' : 'STATEMENT',
          function: t.function,
          ...(when ? { when } : {}),
        },
      };
    }),
  };
}
