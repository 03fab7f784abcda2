import type { Node, RangeVar, RawStmt } from 'libpg-query';
import { oneLine, ScriptError, errorText } from '../errors.js';
import type { DataLoss } from '../ops/inspect.js';

/**
 * Raw SQL (`op.execute`) read by PostgreSQL's own parser (libpg-query, the
 * server's grammar compiled to WebAssembly), so what a statement drops is
 * known from its syntax tree, never guessed from its text. The parser is
 * loaded on first use: commands that never look at raw SQL do not pay for it.
 */
let parser: Promise<typeof import('libpg-query')> | undefined;

async function loadParser(): Promise<typeof import('libpg-query')> {
  const m = await import('libpg-query');
  await m.loadModule();
  return m;
}

/** The statements of a script, as PostgreSQL parses them. */
export async function parseStatements(sql: string, where: string): Promise<RawStmt[]> {
  const { parseSync } = await (parser ??= loadParser());
  try {
    return parseSync(sql).stmts ?? [];
  } catch (e) {
    throw new ScriptError(`${where}: raw SQL does not parse: ${oneLine(errorText(e), 200)}`);
  }
}

/** `schema.table` as written (PostgreSQL's unquoted names arrive folded to lower case). */
export function relationName(r: RangeVar | undefined): string {
  return [r?.schemaname, r?.relname].filter(Boolean).join('.');
}

/** The name a DropStmt object list item spells: a List of String parts. */
function dottedName(n: Node): string {
  const items = 'List' in n ? (n.List.items ?? []) : [];
  return items.map((i) => ('String' in i ? (i.String.sval ?? '') : '')).join('.');
}

/** What one parsed statement discards: tables dropped or truncated, columns dropped. */
export function statementDataLoss(stmt: Node | undefined): DataLoss[] {
  if (!stmt) return [];
  if ('DropStmt' in stmt && stmt.DropStmt.removeType === 'OBJECT_TABLE') {
    return (stmt.DropStmt.objects ?? []).map((o) => ({ kind: 'table', table: dottedName(o) }));
  }
  if ('TruncateStmt' in stmt) {
    return (stmt.TruncateStmt.relations ?? []).flatMap((r) => ('RangeVar' in r ? [{ kind: 'table' as const, table: relationName(r.RangeVar) }] : []));
  }
  if ('AlterTableStmt' in stmt && stmt.AlterTableStmt.objtype === 'OBJECT_TABLE') {
    const table = relationName(stmt.AlterTableStmt.relation);
    return (stmt.AlterTableStmt.cmds ?? []).flatMap((c) =>
      'AlterTableCmd' in c && c.AlterTableCmd.subtype === 'AT_DropColumn' && c.AlterTableCmd.name
        ? [{ kind: 'column' as const, table, column: c.AlterTableCmd.name }]
        : [],
    );
  }
  return [];
}

/** Everything a raw SQL script discards, statement by statement. */
export async function sqlDataLoss(sql: string, where: string): Promise<DataLoss[]> {
  return (await parseStatements(sql, where)).flatMap((s) => statementDataLoss(s.stmt));
}
