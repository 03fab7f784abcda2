import type { Clock, SqlClient, SqlSession } from '../../src/migrate/runtime/client.js';
import { RevisionMap } from '../../src/migrate/revisions/map.js';
import type { Operations } from '../../src/migrate/ops/operations.js';
import type { RevisionPolicy, Script, ScriptDirectory } from '../../src/migrate/script/loader.js';

/**
 * A database stand-in for unit tests of the runtime, with no database: it
 * records every statement in order and answers the engine's own bookkeeping
 * (advisory lock, version table) from memory, with BEGIN / COMMIT / ROLLBACK
 * semantics for the version rows, so a test can see both what was sent and
 * what would have been kept.
 */
export class RecordingClient implements SqlClient {
  readonly log: string[] = [];
  /** Committed version rows. */
  versions: string[] = [];
  tablePresent = false;
  /** Other holders of the advisory lock: how many more polls it stays taken (Infinity: never released). */
  lockBusyFor = 0;
  unlocks = 0;
  /** The progress table's rows (undefined: no table), committed; with the version rows' transaction semantics. */
  progress: ProgressRow[] | undefined;
  /** Indexes by name, valid or not (an INVALID one is what a failed concurrent build leaves), as pg_index would say. */
  indexes = new Map<string, boolean>();
  /** Tables with no rows, for the engine's emptiness check; every other table has rows. */
  emptyTables = new Set<string>();
  /** Rows written to the history table (revision, direction, checksum), kept as sent. */
  history: { revision: string; direction: string; checksum: string }[] = [];
  /** Return an error to make that statement fail. */
  failOn: (text: string) => Error | undefined = () => undefined;
  /** Runs before a statement is answered (to simulate another tool changing things). */
  before: (text: string) => void = () => {};
  private tx: string[] | undefined;
  private txProgress: { rows: ProgressRow[] | undefined } | undefined;

  private get rows(): string[] {
    return this.tx ?? this.versions;
  }

  private get progressRows(): ProgressRow[] | undefined {
    return this.txProgress ? this.txProgress.rows : this.progress;
  }

  private set progressRows(rows: ProgressRow[] | undefined) {
    if (this.txProgress) this.txProgress.rows = rows;
    else this.progress = rows;
  }

  async query<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    this.log.push(params.length ? `${text} -- ${JSON.stringify(params)}` : text);
    this.before(text);
    const failure = this.failOn(text);
    if (failure) throw failure;
    const p = params.map(String);
    const rows = this.rows;
    if (/pg_try_advisory_lock/.test(text)) {
      const busy = this.lockBusyFor > 0;
      this.lockBusyFor--;
      return [{ ok: !busy }] as R[];
    }
    if (/pg_advisory_unlock/.test(text)) {
      this.unlocks++;
      return [{ ok: true }] as R[];
    }
    if (/FROM pg_index/.test(text)) return this.indexes.has(p[1]!) ? ([{ valid: this.indexes.get(p[1]!) }] as R[]) : [];
    if (/to_regclass/.test(text) && p[0]?.endsWith('_progress')) return [{ present: this.progressRows !== undefined }] as R[];
    // The engine's own tables are named with their schema; an index a revision names is not.
    if (/to_regclass/.test(text) && !p[0]?.includes('.')) return [{ present: this.indexes.has(p[0]!) }] as R[];
    const empty = /^SELECT NOT EXISTS \(SELECT 1 FROM (\S+)\) AS empty$/.exec(text);
    if (empty) return [{ empty: this.emptyTables.has(empty[1]!) }] as R[];
    if (/to_regclass/.test(text)) return [{ present: this.tablePresent }] as R[];
    if (/^CREATE TABLE IF NOT EXISTS \S+_progress /.test(text)) {
      this.progressRows ??= [];
      return [];
    }
    if (/^INSERT INTO \S+_progress /.test(text)) {
      const row: ProgressRow = { revision: p[0]!, direction: p[1] as ProgressRow['direction'], checksum: p[2]!, done: Number(p[3]), updated_at: new Date(0) };
      this.progressRows = [...(this.progressRows ?? []).filter((r) => r.revision !== row.revision), row];
      return [];
    }
    if (/^SELECT .* FROM \S+_progress/.test(text)) return [...(this.progressRows ?? [])] as R[];
    if (/^DROP TABLE IF EXISTS \S+_progress$/.test(text)) {
      this.progressRows = undefined;
      return [];
    }
    if (/^CREATE TABLE IF NOT EXISTS/.test(text)) {
      this.tablePresent = true;
      return [];
    }
    if (/^INSERT INTO \S+_history /.test(text)) {
      this.history.push({ revision: p[0]!, direction: p[1]!, checksum: p[2]! });
      return [];
    }
    if (/^SELECT DISTINCT ON \(revision\) revision, checksum FROM/.test(text)) {
      const latest = new Map(this.history.filter((h) => h.direction !== 'downgrade').map((h) => [h.revision, h.checksum]));
      return [...latest].map(([revision, checksum]) => ({ revision, checksum })) as R[];
    }
    if (/^SELECT version_num FROM/.test(text)) return [...rows].sort().map((version_num) => ({ version_num })) as R[];
    if (/^DELETE FROM \S+$/.test(text)) {
      rows.splice(0);
      return [];
    }
    if (/^UPDATE .* SET version_num/.test(text)) {
      const i = rows.indexOf(p[1]!);
      if (i < 0) return [];
      rows[i] = p[0]!;
      return [{ version_num: p[0] }] as R[];
    }
    if (/^DELETE FROM .* WHERE version_num/.test(text)) {
      const i = rows.indexOf(p[0]!);
      if (i < 0) return [];
      rows.splice(i, 1);
      return [{ version_num: p[0] }] as R[];
    }
    if (/^INSERT INTO .*version_num/.test(text)) {
      rows.push(p[0]!);
      return [{ version_num: p[0] }] as R[];
    }
    return [];
  }

  /** What the Executor sends in one round trip (a savepointed statement, BEGIN with its timeouts) is recorded statement by statement. */
  async exec(text: string): Promise<void> {
    const batch = /^SAVEPOINT migrate_statement;\n([\s\S]*)\n;\nRELEASE SAVEPOINT migrate_statement$/.exec(text);
    if (batch) {
      for (const part of ['SAVEPOINT migrate_statement', batch[1]!, 'RELEASE SAVEPOINT migrate_statement']) await this.exec(part);
      return;
    }
    if (text.startsWith('BEGIN;\n')) {
      for (const part of text.split(';\n')) await this.exec(part);
      return;
    }
    this.log.push(text);
    this.before(text);
    const failure = this.failOn(text);
    if (failure) throw failure;
    const index = /^(CREATE (?:UNIQUE )?INDEX|DROP INDEX) (?:CONCURRENTLY )?(?:IF EXISTS )?(\S+)/.exec(text);
    if (index) {
      const name = index[2]!.split('.').at(-1)!;
      if (index[1] === 'DROP INDEX') this.indexes.delete(name);
      else this.indexes.set(name, true);
    }
    if (text === 'BEGIN') {
      this.tx = [...this.versions];
      this.txProgress = { rows: this.progress && [...this.progress] };
    }
    if (text === 'COMMIT') {
      this.versions = this.tx ?? this.versions;
      if (this.txProgress) this.progress = this.txProgress.rows;
      this.tx = undefined;
      this.txProgress = undefined;
    }
    if (text === 'ROLLBACK') {
      this.tx = undefined;
      this.txProgress = undefined;
    }
  }

  session<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
    return fn(this);
  }

  /** The statements sent, without the lock, version-table reads and history bookkeeping around every run. */
  get sent(): string[] {
    return this.log.filter((l) => !/pg_try_advisory_lock|pg_advisory_unlock|pg_backend_pid|to_regclass|^SELECT version_num|_history\b|_progress\b/.test(l));
  }
}

interface ProgressRow {
  revision: string;
  direction: 'upgrade' | 'downgrade';
  checksum: string;
  done: number;
  updated_at: Date;
}

/** Time that passes only when the code under test sleeps. */
export class FakeClock implements Clock {
  t = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

export interface MemoryRevision {
  id: string;
  down?: string | null;
  transactional?: boolean;
  policy?: RevisionPolicy;
  upgrade?: (op: Operations) => Promise<void>;
  downgrade?: (op: Operations) => Promise<void>;
}

/** A versions folder that exists only in memory. */
export function memoryScripts(revs: readonly MemoryRevision[]): ScriptDirectory {
  const scripts: Script[] = revs.map((r) => ({
    id: r.id,
    downRevisions: r.down ? [r.down] : [],
    message: `revision ${r.id}`,
    branchLabels: [],
    transactional: r.transactional !== false,
    module: {
      revision: r.id,
      downRevision: r.down ?? null,
      message: `revision ${r.id}`,
      ...(r.policy ? { policy: r.policy } : {}),
      upgrade: r.upgrade ?? (async () => {}),
      downgrade: r.downgrade ?? (async () => {}),
    },
  }));
  return { dir: '(memory)', map: new RevisionMap(scripts), scripts: new Map(scripts.map((s) => [s.id, s])) };
}

export function sqlError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}
