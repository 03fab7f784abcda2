import { ident } from '../ops/ident.js';
import type { SqlSession } from './client.js';
import { qualifiedVersionTable, type VersionTableName } from './version-table.js';

/**
 * The engine's own record of every step applied, beside Alembic's version
 * table (which stays exactly Alembic's, so Alembic can still read and
 * continue the database): which revision ran, which way, the checksum of
 * what it ran, when, for how long and by whom. A revision applied by other
 * means (Alembic, `stamp`) gets a `baseline` row the first time the engine
 * runs there; `accept` rows record a reviewed change of an applied revision.
 */
export type HistoryDirection = 'upgrade' | 'downgrade' | 'baseline' | 'accept';

export interface HistoryEntry {
  revision: string;
  direction: HistoryDirection;
  checksum: string;
  startedAt: Date;
  durationMs: number;
  /** Who ran it, as the host names them (e.g. os user@host). */
  runBy: string;
}

export interface HistoryRow extends HistoryEntry {
  id: number;
  /** The database role the step ran as. */
  dbUser: string;
}

/** `alembic_version` -> `alembic_version_history`, in the same schema. */
export function historyTableFor(t: VersionTableName): VersionTableName {
  return { schema: t.schema, name: `${t.name}_history` };
}

export class HistoryTable {
  readonly qualified: string;

  constructor(readonly table: VersionTableName) {
    this.qualified = qualifiedVersionTable(table);
  }

  get createSql(): string {
    return (
      `CREATE TABLE IF NOT EXISTS ${this.qualified} (id BIGSERIAL NOT NULL, revision VARCHAR(32) NOT NULL, ` +
      `direction VARCHAR(16) NOT NULL, checksum VARCHAR(64) NOT NULL, started_at TIMESTAMPTZ NOT NULL, ` +
      `duration_ms INTEGER NOT NULL, db_user TEXT NOT NULL DEFAULT current_user, run_by TEXT NOT NULL, ` +
      `CONSTRAINT ${ident(`${this.table.name}_pkey`)} PRIMARY KEY (id))`
    );
  }

  async record(run: (text: string, params: readonly unknown[]) => Promise<unknown[]>, e: HistoryEntry): Promise<void> {
    await run(
      `INSERT INTO ${this.qualified} (revision, direction, checksum, started_at, duration_ms, run_by) VALUES ($1, $2, $3, $4, $5, $6)`,
      [e.revision, e.direction, e.checksum, e.startedAt.toISOString(), Math.round(e.durationMs), e.runBy],
    );
  }

  private async present(s: Pick<SqlSession, 'query'>): Promise<boolean> {
    const [row] = await s.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [this.qualified]);
    return row?.present === true;
  }

  /** Every row, oldest first ([] before the engine first ran here). */
  async list(s: Pick<SqlSession, 'query'>): Promise<HistoryRow[]> {
    if (!(await this.present(s))) return [];
    const rows = await s.query<{ id: string | number; revision: string; direction: HistoryDirection; checksum: string; started_at: Date | string; duration_ms: number; db_user: string; run_by: string }>(
      `SELECT id, revision, direction, checksum, started_at, duration_ms, db_user, run_by FROM ${this.qualified} ORDER BY id`,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      revision: r.revision,
      direction: r.direction,
      checksum: r.checksum,
      startedAt: new Date(r.started_at),
      durationMs: r.duration_ms,
      dbUser: r.db_user,
      runBy: r.run_by,
    }));
  }

  /** For each revision, the checksum it was last applied, baselined or accepted with. */
  async checksums(s: Pick<SqlSession, 'query'>): Promise<Map<string, string>> {
    if (!(await this.present(s))) return new Map();
    const rows = await s.query<{ revision: string; checksum: string }>(
      `SELECT DISTINCT ON (revision) revision, checksum FROM ${this.qualified} ` +
        `WHERE direction <> 'downgrade' ORDER BY revision, id DESC`,
    );
    return new Map(rows.map((r) => [r.revision, r.checksum]));
  }
}
