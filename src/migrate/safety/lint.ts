import type { Node } from 'libpg-query';
import { errorText, oneLine } from '../errors.js';
import { createOperations, recordingSink } from '../ops/operations.js';
import { renderOp } from '../ops/render.js';
import type { Script } from '../script/loader.js';
import type { LintRule } from './lint-rules.js';
import { parseStatements, relationName } from './sql.js';

/**
 * Lock-unsafe operations, found in the SQL a revision's operations render to
 * (descriptors and raw `op.execute` alike), as PostgreSQL's parser reads it.
 * Nothing on a table the same step creates is flagged: a new table is
 * empty, and no one uses it yet.
 */
export interface LintFinding {
  revision: string;
  direction: 'upgrade' | 'downgrade';
  rule: LintRule;
  /** What was found, naming the object. */
  message: string;
  /** The statement, on one line (empty for `not-recordable`). */
  statement: string;
  /** The revision's reason for accepting this rule, or null when it does not. */
  accepted: string | null;
}

type Found = { rule: LintRule; message: string };

function alterTableFindings(stmt: Extract<Node, { AlterTableStmt: unknown }>['AlterTableStmt'], table: string): Found[] {
  const found: Found[] = [];
  for (const c of stmt.cmds ?? []) {
    if (!('AlterTableCmd' in c)) continue;
    const cmd = c.AlterTableCmd;
    const def = cmd.def;
    if (cmd.subtype === 'AT_AddColumn' && def && 'ColumnDef' in def) {
      const kinds = (def.ColumnDef.constraints ?? []).flatMap((k) => ('Constraint' in k ? [k.Constraint.contype] : []));
      if (kinds.includes('CONSTR_NOTNULL') && !kinds.includes('CONSTR_DEFAULT')) {
        found.push({ rule: 'not-null-without-default', message: `column ${table}.${def.ColumnDef.colname} is added NOT NULL without a default` });
      }
    } else if (cmd.subtype === 'AT_SetNotNull') {
      found.push({ rule: 'set-not-null', message: `column ${table}.${cmd.name} is set NOT NULL` });
    } else if (cmd.subtype === 'AT_AlterColumnType') {
      found.push({ rule: 'column-type-change', message: `column ${table}.${cmd.name} changes type` });
    } else if (cmd.subtype === 'AT_AddConstraint' && def && 'Constraint' in def) {
      const k = def.Constraint;
      const name = k.conname ? `constraint ${k.conname}` : 'a constraint';
      if ((k.contype === 'CONSTR_CHECK' || k.contype === 'CONSTR_FOREIGN') && !k.skip_validation) {
        found.push({ rule: 'constraint-not-valid', message: `${name} on ${table} is added without NOT VALID` });
      } else if ((k.contype === 'CONSTR_UNIQUE' || k.contype === 'CONSTR_PRIMARY') && !k.indexname) {
        found.push({ rule: 'constraint-builds-index', message: `${name} on ${table} builds its index under lock` });
      }
    }
  }
  return found;
}

/** One statement's findings; `created` holds the tables created earlier in the same step. */
export function statementFindings(stmt: Node | undefined, created: Set<string>): Found[] {
  if (!stmt) return [];
  if ('CreateStmt' in stmt) {
    created.add(relationName(stmt.CreateStmt.relation));
    return [];
  }
  if ('IndexStmt' in stmt) {
    const table = relationName(stmt.IndexStmt.relation);
    if (stmt.IndexStmt.concurrent || created.has(table)) return [];
    return [{ rule: 'index-not-concurrent', message: `index ${stmt.IndexStmt.idxname ?? '(unnamed)'} on ${table} is built without CONCURRENTLY` }];
  }
  if ('AlterTableStmt' in stmt && stmt.AlterTableStmt.objtype === 'OBJECT_TABLE') {
    const table = relationName(stmt.AlterTableStmt.relation);
    return created.has(table) ? [] : alterTableFindings(stmt.AlterTableStmt, table);
  }
  return [];
}

/** Lints raw SQL as one step: a table created earlier in it is new. */
export async function lintSql(sql: string, where: string): Promise<(Found & { statement: string })[]> {
  const created = new Set<string>();
  const out: (Found & { statement: string })[] = [];
  for (const s of await parseStatements(sql, where)) {
    const text = oneLine(sql.slice(s.stmt_location ?? 0, (s.stmt_location ?? 0) + (s.stmt_len || sql.length)).trim(), 200);
    for (const f of statementFindings(s.stmt, created)) out.push({ ...f, statement: text });
  }
  return out;
}

/** Every finding of a revision, both directions, each marked with the revision's reason when it accepts the rule. */
export async function lintScript(script: Script): Promise<LintFinding[]> {
  const accept = script.module.lint?.accept ?? {};
  const where = script.path ?? script.id;
  const findings: LintFinding[] = [];
  for (const direction of ['upgrade', 'downgrade'] as const) {
    const base = { revision: script.id, direction };
    const sink = recordingSink();
    try {
      await script.module[direction](createOperations(sink));
    } catch (e) {
      const rule = 'not-recordable';
      findings.push({ ...base, rule, message: `${direction} does not run offline: ${oneLine(errorText(e), 200)}`, statement: '', accepted: accept[rule] ?? null });
      continue;
    }
    // An empty step has nothing to check (and the parser refuses an empty script).
    if (sink.ops.length === 0) continue;
    const sql = sink.ops.map((op) => `${renderOp(op).trim().replace(/;\s*$/, '')};`).join('\n');
    for (const f of await lintSql(sql, `${where} (${direction})`)) findings.push({ ...base, ...f, accepted: accept[f.rule] ?? null });
  }
  return findings;
}
