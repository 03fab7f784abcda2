import { planOperations } from '../autogen/plan.js';
import { ident, qualified } from '../ops/ident.js';
import { renderOp } from '../ops/render.js';
import type { Op } from '../ops/types.js';
import type { Difference } from './diff.js';

/**
 * Aligning a database that drifted from a revision with that revision, in
 * steps that are safe on a live table: a rename where only a name differs,
 * NOT NULL only once no row holds a null, an index rebuilt CONCURRENTLY
 * beside the old one. What would discard or overwrite something a person
 * made (an extra column, a changed type, another function body) is never
 * "repaired": it is refused and left to that person. Pure.
 */

/** A column that becomes NOT NULL: its nulls are counted first, and a null blocks the alignment unless filled. */
export interface NullGuard {
  table: string;
  column: string;
  /**
   * What `--fill-nulls` sets a null to: the other columns of the same type
   * that this alignment also makes NOT NULL (so created_at and updated_at
   * fill each other), then the column's default; null when there is neither.
   */
  fill: string | null;
}

export interface AlignStatement {
  sql: string;
  /** False for a statement that must run outside a transaction (CONCURRENTLY). */
  transactional: boolean;
  /**
   * What to run when it fails: a failed CREATE INDEX CONCURRENTLY leaves an
   * invalid index behind, which the next adopt would see as a hand edit.
   */
  cleanup?: string;
}

export interface Alignment {
  /** Differences adopt leaves to a person: anything more than the revision, or a change that needs a decision. */
  refused: Difference[];
  guards: NullGuard[];
  /** Run in one transaction, after the null checks. */
  transactional: Op[];
  /** Run one at a time outside a transaction, after it: index builds. */
  concurrent: Op[];
}

/** What adopt repairs by itself: additions, renames, nullability, defaults, comments, and indexes rebuilt in place. */
function repairable(d: Difference): boolean {
  switch (d.kind) {
    case 'table-missing':
    case 'column-missing':
    case 'constraint-missing':
    case 'constraint-renamed':
    case 'index-missing':
    case 'index-changed':
    case 'table-comment-changed':
    case 'function-missing':
    case 'trigger-missing':
      return true;
    case 'column-changed':
      // A type change rewrites every value: a person decides the USING, not adopt.
      return !d.fields.includes('type');
    default:
      return false;
  }
}

const becomesNotNull = (d: Difference): d is Extract<Difference, { kind: 'column-changed' }> =>
  d.kind === 'column-changed' && d.fields.includes('nullable') && !d.wanted.nullable;

/** PostgreSQL's limit on a name; the temporary index keeps its target's name recognisable within it. */
const MAX_NAME = 63;
const rebuildName = (index: string): string => `${index.slice(0, MAX_NAME - '_adopt'.length)}_adopt`;

/** An index rebuilt without blocking writes: the new one built CONCURRENTLY under a temporary name, the old one dropped, the new one renamed. */
function concurrentOps(d: Extract<Difference, { kind: 'index-missing' | 'index-changed' }>): Op[] {
  if (d.kind === 'index-missing') return [{ op: 'createIndex', ...d.index.index, concurrently: true }];
  const temp = rebuildName(d.wanted.name);
  return [
    { op: 'createIndex', ...d.wanted.index, name: temp, concurrently: true },
    { op: 'dropIndex', name: d.actual.name, concurrently: true, restore: d.actual.index },
    { op: 'renameIndex', name: temp, to: d.wanted.name },
  ];
}

export function planAlignment(diffs: readonly Difference[]): Alignment {
  const refused = diffs.filter((d) => !repairable(d));
  const fixable = diffs.filter(repairable);
  const notNull = fixable.filter(becomesNotNull);
  const guards = notNull.map((d): NullGuard => {
    const siblings = notNull.filter((o) => o !== d && o.table === d.table && o.wanted.type === d.wanted.type).map((o) => ident(o.column));
    const sources = [...siblings, ...(d.wanted.default !== undefined ? [d.wanted.default] : [])];
    return { table: d.table, column: d.column, fill: sources.length ? `COALESCE(${[ident(d.column), ...sources].join(', ')})` : null };
  });
  const concurrent = fixable.flatMap((d) => (d.kind === 'index-missing' || d.kind === 'index-changed' ? concurrentOps(d) : []));
  const transactional = planOperations(fixable.filter((d) => d.kind !== 'index-missing' && d.kind !== 'index-changed')).map((p) => p.op);
  return { refused, guards, transactional, concurrent };
}

/** `SELECT count(*)` of the rows whose null would make SET NOT NULL fail. */
export function nullCountSql(g: NullGuard): string {
  return `SELECT count(*)::int AS n FROM ${qualified(g.table)} WHERE ${ident(g.column)} IS NULL`;
}

/**
 * Nulls set from their fill, one UPDATE per table, with the table's
 * triggers off for it: a trigger that stamps updated_at or counts a version
 * on every update would otherwise rewrite values of every filled row.
 */
function fillStatements(guards: readonly NullGuard[], triggersOf: (table: string) => readonly string[]): string[] {
  const out: string[] = [];
  for (const table of [...new Set(guards.map((g) => g.table))]) {
    const mine = guards.filter((g) => g.table === table && g.fill !== null);
    if (!mine.length) continue;
    const t = qualified(table);
    const triggers = triggersOf(table);
    out.push(...triggers.map((name) => `ALTER TABLE ${t} DISABLE TRIGGER ${ident(name)}`));
    out.push(`UPDATE ${t} SET ${mine.map((g) => `${ident(g.column)} = ${g.fill}`).join(', ')} WHERE ${mine.map((g) => `${ident(g.column)} IS NULL`).join(' OR ')}`);
    out.push(...triggers.map((name) => `ALTER TABLE ${t} ENABLE TRIGGER ${ident(name)}`));
  }
  return out;
}

/**
 * Every statement of an alignment in the order it runs: the fills asked for,
 * then the transactional operations, then the concurrent ones. The one list
 * that `--apply` shows and runs and `--sql` prints.
 */
export function alignmentStatements(a: Alignment, o: { fill: readonly NullGuard[]; triggersOf: (table: string) => readonly string[] }): AlignStatement[] {
  return [
    ...fillStatements(o.fill, o.triggersOf).map((sql) => ({ sql, transactional: true })),
    ...a.transactional.map((op) => ({ sql: renderOp(op), transactional: true })),
    ...a.concurrent.map((op): AlignStatement => ({
      sql: renderOp(op),
      transactional: false,
      ...(op.op === 'createIndex' ? { cleanup: renderOp({ op: 'dropIndex', name: op.name, concurrently: true, ifExists: true }) } : {}),
    })),
  ];
}
