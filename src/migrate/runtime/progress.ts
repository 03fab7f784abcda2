import { ident } from '../ops/ident.js';
import type { SqlSession } from './client.js';
import { qualifiedVersionTable, type VersionTableName } from './version-table.js';

/**
 * How far a revision got that was interrupted between its transactions: a
 * transactional revision holding an operation that must run alone (CREATE
 * INDEX CONCURRENTLY) commits the work before it, so a crash there leaves
 * the database between the revision's parent and the revision itself. The
 * row says which of its operations stand, written in the transaction that
 * made them stand; the transaction that finishes the revision drops the table.
 */
export interface Progress {
  revision: string;
  direction: 'upgrade' | 'downgrade';
  /** The checksum of the revision when it started: resuming other code would skip other operations. */
  checksum: string;
  /** Operations of the revision, in the order it issues them, that are done. */
  done: number;
  updatedAt: Date;
}

/** `alembic_version` -> `alembic_version_progress`, in the same schema. */
export function progressTableFor(t: VersionTableName): VersionTableName {
  return { schema: t.schema, name: `${t.name}_progress` };
}

type Run = (text: string, params?: readonly unknown[]) => Promise<unknown[]>;

export class ProgressTable {
  readonly qualified: string;

  constructor(readonly table: VersionTableName) {
    this.qualified = qualifiedVersionTable(table);
  }

  get createSql(): string {
    return (
      `CREATE TABLE IF NOT EXISTS ${this.qualified} (revision VARCHAR(32) NOT NULL, direction VARCHAR(16) NOT NULL, ` +
      `checksum VARCHAR(64) NOT NULL, done INTEGER NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), ` +
      `CONSTRAINT ${ident(`${this.table.name}_pkey`)} PRIMARY KEY (revision))`
    );
  }

  /** Interrupted revisions ([] when none, or before the engine first needed the table). */
  async read(s: Pick<SqlSession, 'query'>): Promise<Progress[]> {
    const [present] = await s.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [this.qualified]);
    if (!present?.present) return [];
    const rows = await s.query<{ revision: string; direction: Progress['direction']; checksum: string; done: number; updated_at: Date | string }>(
      `SELECT revision, direction, checksum, done, updated_at FROM ${this.qualified} ORDER BY revision`,
    );
    return rows.map((r) => ({ revision: r.revision, direction: r.direction, checksum: r.checksum, done: r.done, updatedAt: new Date(r.updated_at) }));
  }

  async save(run: Run, p: Omit<Progress, 'updatedAt'>): Promise<void> {
    await run(
      `INSERT INTO ${this.qualified} (revision, direction, checksum, done) VALUES ($1, $2, $3, $4) ` +
        'ON CONFLICT (revision) DO UPDATE SET direction = EXCLUDED.direction, checksum = EXCLUDED.checksum, done = EXCLUDED.done, updated_at = now()',
      [p.revision, p.direction, p.checksum, p.done],
    );
  }

  /**
   * Gone with the revision it records (runs are serialised by the lock, so
   * there is never another): the table exists only while a revision is
   * interrupted, and a database at rest holds no trace of it.
   */
  async clear(run: Run): Promise<void> {
    await run(`DROP TABLE IF EXISTS ${this.qualified}`);
  }
}
