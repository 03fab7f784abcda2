import { VersionTableError } from '../errors.js';
import { ident, literal } from '../ops/ident.js';
import type { Heads } from '../revisions/targets.js';
import type { SqlSession } from './client.js';

/**
 * Alembic's own version table, to the letter, so a database Alembic built is
 * adopted as it is and Alembic can continue one we built. Always named with
 * its schema, so nothing depends on the session's search_path.
 */
export interface VersionTableName {
  schema: string;
  name: string;
}

export const DEFAULT_VERSION_TABLE: VersionTableName = { schema: 'public', name: 'alembic_version' };

export function qualifiedVersionTable(t: VersionTableName): string {
  return `${ident(t.schema)}.${ident(t.name)}`;
}

export interface Statement {
  text: string;
  params: string[];
}

export class VersionTable {
  readonly qualified: string;

  constructor(readonly table: VersionTableName = DEFAULT_VERSION_TABLE) {
    this.qualified = qualifiedVersionTable(table);
  }

  get createSql(): string {
    return (
      `CREATE TABLE IF NOT EXISTS ${this.qualified} (version_num VARCHAR(32) NOT NULL, ` +
      `CONSTRAINT ${ident(`${this.table.name}_pkc`)} PRIMARY KEY (version_num))`
    );
  }

  /**
   * The rows to change to move the table from `from` to `to`: an UPDATE where
   * one head replaces another (as Alembic does on a linear step), INSERT for a
   * new branch, DELETE for a merged or removed one. Pure.
   */
  transition(from: Heads, to: Heads): Statement[] {
    const removed = from.filter((h) => !to.includes(h));
    const added = to.filter((h) => !from.includes(h));
    const out: Statement[] = [];
    const pairs = Math.min(removed.length, added.length);
    const t = this.qualified;
    for (let i = 0; i < pairs; i++) {
      out.push({ text: `UPDATE ${t} SET version_num = $1 WHERE version_num = $2`, params: [added[i]!, removed[i]!] });
    }
    for (const r of removed.slice(pairs)) out.push({ text: `DELETE FROM ${t} WHERE version_num = $1`, params: [r] });
    for (const a of added.slice(pairs)) out.push({ text: `INSERT INTO ${t} (version_num) VALUES ($1)`, params: [a] });
    return out;
  }

  async read(s: Pick<SqlSession, 'query'>): Promise<string[]> {
    const [row] = await s.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [this.qualified]);
    if (!row?.present) return [];
    const rows = await s.query<{ version_num: string }>(`SELECT version_num FROM ${this.qualified} ORDER BY version_num`);
    return rows.map((r) => r.version_num);
  }

  /**
   * Writes a transition, checking that each statement changed exactly one
   * row (as Alembic does): a miss means another tool moved the table since
   * the plan was made, and the step's transaction must not commit.
   */
  async write(run: (text: string, params: readonly string[]) => Promise<unknown[]>, from: Heads, to: Heads): Promise<void> {
    for (const st of this.transition(from, to)) {
      const rows = await run(`${st.text} RETURNING version_num`, st.params);
      if (rows.length !== 1) {
        throw new VersionTableError(
          `${this.qualified} changed ${rows.length} rows for '${inline(st)}', expected 1: ` +
            `it no longer holds ${from.length ? from.join(', ') : 'nothing'}; another tool moved it (check 'current')`,
        );
      }
    }
  }
}

/** A statement with its values inlined, for a reviewed script. */
export function inline(s: Statement): string {
  return s.text.replace(/\$(\d+)/g, (_, n: string) => literal(s.params[Number(n) - 1]!));
}
