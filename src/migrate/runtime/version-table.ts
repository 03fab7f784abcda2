import { literal } from '../ops/render.js';
import type { Heads } from '../revisions/targets.js';
import type { SqlSession } from './client.js';

/**
 * Alembic's own version table, to the letter, so a database Alembic built is
 * adopted as it is and Alembic can continue one we built.
 */
export const VERSION_TABLE = 'alembic_version';
export const CREATE_VERSION_TABLE =
  `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, ` +
  `CONSTRAINT ${VERSION_TABLE}_pkc PRIMARY KEY (version_num))`;

export interface Statement {
  text: string;
  params: string[];
}

/**
 * The rows to change to move the table from `from` to `to`: an UPDATE where
 * one head replaces another (as Alembic does on a linear step), INSERT for a
 * new branch, DELETE for a merged or removed one. Pure.
 */
export function transition(from: Heads, to: Heads): Statement[] {
  const removed = from.filter((h) => !to.includes(h));
  const added = to.filter((h) => !from.includes(h));
  const out: Statement[] = [];
  const pairs = Math.min(removed.length, added.length);
  for (let i = 0; i < pairs; i++) {
    out.push({ text: `UPDATE ${VERSION_TABLE} SET version_num = $1 WHERE version_num = $2`, params: [added[i]!, removed[i]!] });
  }
  for (const r of removed.slice(pairs)) out.push({ text: `DELETE FROM ${VERSION_TABLE} WHERE version_num = $1`, params: [r] });
  for (const a of added.slice(pairs)) out.push({ text: `INSERT INTO ${VERSION_TABLE} (version_num) VALUES ($1)`, params: [a] });
  return out;
}

/** The same statements with their values inlined, for a reviewed script. */
export function inline(s: Statement): string {
  return s.text.replace(/\$(\d+)/g, (_, n: string) => literal(s.params[Number(n) - 1]!));
}

export async function readHeads(s: SqlSession): Promise<string[]> {
  const [row] = await s.query<{ present: boolean }>(
    `SELECT to_regclass('${VERSION_TABLE}') IS NOT NULL AS present`,
  );
  if (!row?.present) return [];
  const rows = await s.query<{ version_num: string }>(`SELECT version_num FROM ${VERSION_TABLE} ORDER BY version_num`);
  return rows.map((r) => r.version_num);
}

export async function writeTransition(s: SqlSession, from: Heads, to: Heads): Promise<void> {
  await s.exec(CREATE_VERSION_TABLE);
  for (const st of transition(from, to)) await s.query(st.text, st.params);
}
