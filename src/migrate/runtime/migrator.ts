import { hostname, userInfo } from 'node:os';
import { DataLossError, errorText, LockWaitError, oneLine, PoolerError, StateError, StepError } from '../errors.js';
import { qualified } from '../ops/ident.js';
import { inspectOp } from '../ops/inspect.js';
import { createOperations, type OperationSink } from '../ops/operations.js';
import { renderOp } from '../ops/render.js';
import { downgradePlan, upgradePlan, type Step } from '../revisions/plan.js';
import { resolveTarget, type Heads } from '../revisions/targets.js';
import { checksumError, revisionChecksum, verifyChecksums } from '../safety/checksum.js';
import { countLoss, describeLoss, opDataLoss, type CountedLoss } from '../safety/data-loss.js';
import type { IndexDef, Op } from '../ops/types.js';
import type { Script, ScriptDirectory } from '../script/loader.js';
import { realClock, type Clock, type SqlClient } from './client.js';
import { Executor, type ExecutorEvent } from './executor.js';
import { HistoryTable, historyTableFor, type HistoryRow } from './history.js';
import { ProgressTable, progressTableFor, type Progress } from './progress.js';
import { recordStep } from './offline.js';
import { resolvePolicy, type RunPolicy } from './policy.js';
import { DEFAULT_VERSION_TABLE, VersionTable, type VersionTableName } from './version-table.js';

export type MigrationEvent =
  | { type: 'run-start'; direction: 'upgrade' | 'downgrade'; target: string; database: string }
  | { type: 'waiting-for-lock'; waitedMs: number; limitMs: number | null }
  | { type: 'step-start'; step: Step; script: Script }
  | { type: 'step-done'; step: Step; script: Script; ms: number }
  | { type: 'warning'; revision: string; message: string }
  /** An interrupted revision taken up again after the operations that stand. */
  | { type: 'resume'; step: Step; done: number; since: Date }
  /** Work between a revision's transactions: committed so far, or an index left by an interrupted build. */
  | { type: 'progress'; revision: string; message: string }
  | (ExecutorEvent & { revision: string });

export interface StepResult {
  step: Step;
  ms: number;
  warnings: string[];
}

export interface MigratorOptions {
  client: SqlClient;
  scripts: ScriptDirectory;
  onEvent?: (e: MigrationEvent) => void;
  policy?: Partial<RunPolicy>;
  versionTable?: VersionTableName;
  clock?: Clock;
  /** Who runs the migrations, for the history table; default `<os user>@<host>`. */
  runBy?: string;
}

/** What one upgrade or downgrade may do beyond the policy. */
export interface RunOptions {
  /** Run steps that discard stored data (dropped columns and tables holding values); refused otherwise. */
  allowDataLoss?: boolean;
}

/**
 * Takes the lock unless this server session holds it already (advisory
 * locks are re-entrant, so only a pooler handing one session to two clients
 * gets `held`), and names the server process that holds it.
 */
const LOCK_SQL =
  'SELECT s.held, CASE WHEN s.held THEN false ELSE pg_try_advisory_lock($1::bigint) END AS ok, pg_backend_pid() AS pid ' +
  "FROM (SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1 " +
  'AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid) AS held) s';

/** How often a waiter says it is still waiting for the lock. */
const WAIT_REPORT_MS = 5_000;
const LOCK_POLL_MS = 200;

/**
 * The one class that touches a database on the engine's behalf: it takes the
 * advisory lock, reads and writes the version table and runs each step's
 * operations through one Executor under the run's policy. All decisions
 * (what to run, in which order) come from the pure revision layer, planned
 * under the lock.
 */
export class Migrator {
  private readonly client: SqlClient;
  readonly scripts: ScriptDirectory;
  readonly policy: RunPolicy;
  readonly versions: VersionTable;
  readonly history: HistoryTable;
  readonly progress: ProgressTable;
  private readonly runBy: string;
  private readonly emit: (e: MigrationEvent) => void;
  private readonly clock: Clock;
  /** The server process that took the advisory lock: every statement of the run must reach it. */
  private lockHolder: number | undefined;
  /** The revision whose code is running, for events raised below it. */
  private running: string | undefined;

  constructor(o: MigratorOptions) {
    this.client = o.client;
    this.scripts = o.scripts;
    this.versions = new VersionTable(o.versionTable ?? DEFAULT_VERSION_TABLE);
    this.history = new HistoryTable(historyTableFor(this.versions.table));
    this.progress = new ProgressTable(progressTableFor(this.versions.table));
    this.policy = resolvePolicy(this.versions.table, o.policy);
    this.runBy = o.runBy ?? `${userInfo().username}@${hostname()}`;
    this.emit = o.onEvent ?? (() => {});
    this.clock = o.clock ?? realClock;
  }

  /** Head revisions of the scripts. */
  heads(): string[] {
    return [...this.scripts.map.heads];
  }

  /** Revisions recorded in the database's version table ([] = base). */
  current(): Promise<string[]> {
    return this.versions.read(this.client);
  }

  /** The steps recorded in the history table, oldest first. */
  applied(): Promise<HistoryRow[]> {
    return this.history.list(this.client);
  }

  /** Revisions interrupted between their transactions, to be resumed by the next run ([] when none). */
  interrupted(): Promise<Progress[]> {
    return this.progress.read(this.client);
  }

  /** Ids recorded in the database that no script defines. */
  unknown(current: Heads): string[] {
    return current.filter((id) => !this.scripts.map.has(id));
  }

  private checkKnown(current: Heads): void {
    const unknown = this.unknown(current);
    if (unknown.length) throw unknownRevisionError(unknown, this.scripts.dir);
  }

  /** The steps `upgrade`/`downgrade` would run from `current`, computed without touching anything. */
  plan(direction: 'upgrade' | 'downgrade', target: string, current: Heads): Step[] {
    this.checkKnown(current);
    const map = this.scripts.map;
    const heads = resolveTarget(map, target, current);
    return direction === 'upgrade' ? upgradePlan(map, current, heads) : downgradePlan(map, current, heads);
  }

  upgrade(target = 'heads', o: RunOptions = {}): Promise<StepResult[]> {
    return this.run('upgrade', target, o);
  }

  downgrade(target: string, o: RunOptions = {}): Promise<StepResult[]> {
    return this.run('downgrade', target, o);
  }

  /** Records `target` as the current revision without running anything. */
  stamp(target: string, o: { purge?: boolean } = {}): Promise<{ from: string[]; to: string[] }> {
    return this.locked((x) => this.stampWith(x, target, o));
  }

  /**
   * Work that is not a revision (adopt's alignment of a schema to one), run
   * on the one Executor under the run's lock and policy, then `target`
   * stamped in the same locked session: no other migrator can run between
   * the alignment and the stamp.
   */
  align<T>(work: (x: Executor) => Promise<T>, target: string): Promise<{ result: T; from: string[]; to: string[] }> {
    return this.locked(async (x) => {
      // Refused before the work, not after it: the stamp would refuse an unknown revision anyway.
      this.checkKnown(await this.versions.read(x));
      const result = await work(x);
      return { result, ...(await this.stampWith(x, target, {})) };
    });
  }

  private async stampWith(x: Executor, target: string, o: { purge?: boolean }): Promise<{ from: string[]; to: string[] }> {
    const from = await this.versions.read(x);
    if (!o.purge) this.checkKnown(from);
    const to = [...resolveTarget(this.scripts.map, target, o.purge ? [] : from)];
    await x.begin();
    try {
      await x.query(this.versions.createSql);
      if (o.purge) await x.query(`DELETE FROM ${this.versions.qualified}`);
      await this.versions.write((t, p) => x.query(t, p), o.purge ? [] : from, to);
      // A stamp states what the schema is: an interrupted revision's record no longer applies.
      if ((await this.progress.read(x)).length) await this.progress.clear((t, p) => x.query(t, p));
      await x.commit();
    } catch (e) {
      await x.rollback();
      throw e;
    }
    return { from, to };
  }

  /**
   * Records, after review, the current checksum of an applied revision whose
   * code changed, so runs are no longer refused for it. Returns the checksum
   * it replaced (null when it was already up to date).
   */
  acceptChecksum(rev: string): Promise<{ revision: string; replaced: string | null; checksum: string }> {
    return this.locked(async (x) => {
      const current = await this.versions.read(x);
      this.checkKnown(current);
      const revision = this.scripts.map.resolveId(rev);
      if (!this.scripts.map.closure(current).has(revision)) {
        throw new StateError(`${revision} is not applied to this database: only an applied revision has a checksum to accept`);
      }
      const sums = await verifyChecksums(x, this.scripts, { versionTable: this.versions.table, current });
      const changed = sums.changed.find((c) => c.revision === revision);
      if (!changed) return { revision, replaced: null, checksum: await revisionChecksum(this.scripts.scripts.get(revision)!) };
      await x.query(this.history.createSql);
      await x.begin();
      await this.history.record((t, p) => x.query(t, p), { revision, direction: 'accept', checksum: changed.actual, startedAt: new Date(), durationMs: 0, runBy: this.runBy });
      await x.commit();
      return { revision, replaced: changed.recorded, checksum: changed.actual };
    });
  }

  private run(direction: 'upgrade' | 'downgrade', target: string, o: RunOptions): Promise<StepResult[]> {
    return this.locked(async (x) => {
      // Planned under the lock, from what is recorded now, so a concurrent
      // migrator that finished first is seen and its steps are not re-run.
      const now = await this.versions.read(x);
      const steps = this.plan(direction, target, now);
      // The guards only read: a refusal leaves the database as it was.
      const resume = await this.resumePoint(x, steps);
      const sums = await verifyChecksums(x, this.scripts, { versionTable: this.versions.table, current: now });
      if (sums.changed.length) throw checksumError(sums.changed);
      if (!o.allowDataLoss) await this.refuseDataLoss(x, steps, resume);
      if (steps.length === 0 && sums.unrecorded.length === 0 && sums.superseded.length === 0) return [];
      await x.query(this.versions.createSql);
      await x.query(this.history.createSql);
      if (sums.unrecorded.length || sums.superseded.length) {
        // Applied by Alembic or stamped: recorded as found, without complaint;
        // applied by an earlier version of a revision that accepts it: recorded as accepted.
        await x.begin();
        for (const u of sums.unrecorded) {
          await this.history.record((t, p) => x.query(t, p), { revision: u.revision, direction: 'baseline', checksum: u.checksum, startedAt: new Date(), durationMs: 0, runBy: this.runBy });
        }
        for (const u of sums.superseded) {
          await this.history.record((t, p) => x.query(t, p), { revision: u.revision, direction: 'accept', checksum: u.checksum, startedAt: new Date(), durationMs: 0, runBy: this.runBy });
        }
        await x.commit();
      }
      const whole = this.policy.transactionMode === 'whole-run';
      const committed: StepResult[] = [];
      let pending: StepResult[] = [];
      const commit = async (): Promise<void> => {
        if (x.inTransaction) await x.commit();
        committed.push(...pending);
        pending = [];
      };
      for (const step of steps) {
        const script = this.scripts.scripts.get(step.revision)!;
        const resumed = resume?.step === step;
        const at = { done: resumed ? resume.done : 0, saved: false, resumed };
        try {
          if (!script.transactional) await commit();
          else if (!x.inTransaction) await x.begin();
          // Awaited first: runStep may commit, which replaces `pending`.
          const result = await this.runStep(x, step, script, o, at, commit);
          pending.push(result);
          if (!whole || !script.transactional) await commit();
        } catch (e) {
          const undone = pending.map((r) => this.label(r.step));
          if (x.inTransaction) await x.rollback();
          throw new StepError({
            revision: step.revision,
            direction: step.direction,
            statement: x.failedStatement,
            cause: e,
            rolledBack: script.transactional,
            standing: at.saved || at.resumed ? at.done : undefined,
            committed: committed.map((r) => this.label(r.step)),
            undone,
          });
        }
      }
      await commit();
      return committed;
    });
  }

  /**
   * Before anything runs: every step's operations, recorded offline, checked
   * for what they would discard from the database as it is now. A step that
   * cannot be recorded (it reads the database to decide, or its code fails)
   * has its drops checked as they come (runStep), inside its own transaction.
   */
  private async refuseDataLoss(x: Executor, steps: readonly Step[], resume: Resume | undefined): Promise<void> {
    const found: string[] = [];
    for (const step of steps) {
      const script = this.scripts.scripts.get(step.revision)!;
      let ops: Op[];
      try {
        ({ ops } = await recordStep(script, step.direction));
      } catch {
        continue;
      }
      // What an interrupted run already did is no longer to come.
      if (resume?.step === step) ops = ops.slice(resume.done);
      const counted = await this.countLosses(x, step, ops);
      if (counted.length) found.push(this.lossLine(step, counted));
    }
    if (found.length) throw dataLossError(found);
  }

  /** The losses of these operations that would discard at least one stored value. */
  private async countLosses(x: Executor, step: Step, ops: readonly Op[]): Promise<CountedLoss[]> {
    const out: CountedLoss[] = [];
    for (const op of ops) {
      for (const loss of await opDataLoss(op, `${this.scripts.scripts.get(step.revision)!.path ?? step.revision}`)) {
        const c = await countLoss(x, loss);
        if (c.values > 0) out.push(c);
      }
    }
    return out;
  }

  /**
   * Where an interrupted revision stands, if one is recorded: it must be the
   * first step of this run, in the same direction and from the same code,
   * since the schema is between its parent and itself and no other step
   * fits there.
   */
  private async resumePoint(x: Executor, steps: readonly Step[]): Promise<Resume | undefined> {
    const [p, ...more] = await this.progress.read(x);
    if (!p) return undefined;
    const first = steps[0];
    const left = `${p.direction} of ${p.revision} was interrupted on ${p.updatedAt.toISOString()} with ${p.done} of its operations done`;
    const script = this.scripts.scripts.get(p.revision);
    if (more.length || !script) {
      throw new StateError(`${left}, and the record of it does not fit the scripts in ${this.scripts.dir}; repair the schema by hand, then 'stamp' the revision it is at`);
    }
    if (!first || first.revision !== p.revision || first.direction !== p.direction) {
      const way = p.direction === 'upgrade' ? `upgrade ${p.revision}` : `downgrade ${script.downRevisions[0] ?? 'base'}`;
      throw new StateError(`${left}; finish it first ('${way}'), since the schema is between revisions until then`);
    }
    const now = await revisionChecksum(script);
    if (now !== p.checksum) {
      throw new StateError(`${left}, and its code changed since; restore the file as it was to resume, or repair the schema by hand and 'stamp' the revision it is at`);
    }
    this.emit({ type: 'resume', step: first, done: p.done, since: p.updatedAt });
    return { step: first, done: p.done };
  }

  private lossLine(step: Step, counted: readonly CountedLoss[]): string {
    return `${step.direction} ${this.label(step)} would drop ${counted.map(describeLoss).join(', ')}`;
  }

  private label(step: Step): string {
    return describeStep(step, this.scripts.scripts.get(step.revision)!.downRevisions);
  }

  private async locked<T>(fn: (x: Executor) => Promise<T>): Promise<T> {
    return this.client.session(async (s) => {
      const x = new Executor(s, this.policy, this.clock, (e) => this.emit({ ...e, revision: this.running ?? '' }));
      const key = this.policy.lockKey.toString();
      const started = this.clock.now();
      let reported = -Infinity;
      for (;;) {
        const [got] = await x.query<{ ok: boolean; pid: number; held: boolean }>(LOCK_SQL, [key]);
        if (got?.held) {
          // Advisory locks are re-entrant per server session: this one already
          // holds it for another client, so a pooler is sharing sessions.
          throw new PoolerError(
            `server process ${got.pid} already holds the migration lock for another client: a transaction-mode pooler (PgBouncer) is between; ` +
              'migrate over a direct connection (DIRECT_DATABASE_URL) or a session-mode pool',
          );
        }
        if (got?.ok) {
          this.lockHolder = got.pid;
          break;
        }
        const waited = this.clock.now() - started;
        const limit = this.policy.lockWaitMs;
        if (limit !== null && waited >= limit) {
          throw new LockWaitError(
            `gave up after waiting ${(waited / 1000).toFixed(1)} s for the migration lock (advisory lock ${key}): ` +
              'another migration is still running; try again when it has finished, or allow a longer wait',
          );
        }
        if (waited - reported >= WAIT_REPORT_MS) {
          reported = waited;
          this.emit({ type: 'waiting-for-lock', waitedMs: waited, limitMs: limit });
        }
        await this.clock.sleep(limit === null ? LOCK_POLL_MS : Math.max(1, Math.min(LOCK_POLL_MS, limit - waited)));
      }
      try {
        await this.checkSession(x);
        return await fn(x);
      } finally {
        await x.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => {});
      }
    });
  }

  /**
   * A session advisory lock belongs to one server process. Behind a
   * transaction-mode pooler (PgBouncer) the next statement may reach another
   * one, where the lock is not held and another migrator may run: checked
   * once the lock is taken and again at each step (inside its transaction,
   * so the whole step runs where it was checked), and refused before any change.
   */
  private async checkSession(x: Executor): Promise<void> {
    const [row] = await x.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    if (row?.pid === this.lockHolder) return;
    throw new PoolerError(
      `the migration lock was taken by server process ${this.lockHolder} but this statement ran on ${row?.pid}: ` +
        'a transaction-mode pooler (PgBouncer) is between; migrate over a direct connection (DIRECT_DATABASE_URL) or a session-mode pool',
    );
  }

  /**
   * One revision's code, its operations run as they come. In a transactional
   * revision an operation that cannot run in a transaction ends the one
   * open: the operations before it are committed together with the count of
   * them (the progress record), it runs alone, and a new transaction takes
   * the rest and, at the end, the version-table change. A rerun after a
   * crash skips the operations the record counts, and finds what the
   * operation running alone left: an index it built (kept) or an INVALID
   * one (rebuilt).
   */
  private async runStep(
    x: Executor,
    step: Step,
    script: Script,
    o: RunOptions,
    at: { done: number; saved: boolean; readonly resumed: boolean },
    commit: () => Promise<void>,
  ): Promise<StepResult> {
    await this.checkSession(x);
    const started = this.clock.now();
    const startedAt = new Date();
    const warnings: string[] = [];
    const checksum = await revisionChecksum(script);
    const resumeAt = at.done;
    const save = async (done: number): Promise<void> => {
      if (!at.saved) await x.query(this.progress.createSql);
      await this.progress.save((t, p) => x.query(t, p), { revision: step.revision, direction: step.direction, checksum, done });
      at.saved = true;
      at.done = done;
    };
    let index = 0;
    const sink: OperationSink = {
      offline: false,
      run: async (op) => {
        const n = index++;
        if (n < resumeAt) return;
        const alone = inspectOp(op).autocommit;
        if (!o.allowDataLoss) {
          const counted = await this.countLosses(x, step, [op]);
          if (counted.length) throw dataLossError([this.lossLine(step, counted)]);
        }
        if (!alone) {
          await x.ddl(renderOp(op));
          return;
        }
        // A concurrent build scans the table twice and waits out every open
        // transaction; on an empty table (a new database) the plain build is
        // instant, so it stays in the transaction and the revision atomic.
        if (script.transactional && op.op === 'createIndex' && (await tableIsEmpty(x, op.table))) {
          await x.ddl(renderOp({ ...op, concurrently: false }));
          return;
        }
        if (script.transactional) {
          await save(n);
          await commit();
          this.emit({ type: 'progress', revision: step.revision, message: `outside a transaction, after ${n} operation${n === 1 ? '' : 's'} committed: ${oneLine(renderOp(op), 100)}` });
        }
        await this.runAlone(x, step, op, at.resumed && n === resumeAt);
        if (script.transactional) {
          await save(n + 1);
          await x.begin();
        }
      },
      query: <R>(sql: string, params?: readonly unknown[]) => x.query<R>(sql, params),
      warn: (message) => {
        warnings.push(message);
        this.emit({ type: 'warning', revision: step.revision, message });
      },
    };
    this.emit({ type: 'step-start', step, script });
    this.running = step.revision;
    x.failedStatement = undefined;
    try {
      await x.usePolicy(script.module.policy);
      await script.module[step.direction](createOperations(sink));
    } catch (e) {
      throw e instanceof Error ? e : new Error(errorText(e));
    } finally {
      this.running = undefined;
    }
    await this.versions.write((t, p) => x.query(t, p), step.from, step.to);
    if (at.saved || at.resumed) await this.progress.clear((t, p) => x.query(t, p));
    await this.history.record((t, p) => x.query(t, p), { revision: step.revision, direction: step.direction, checksum, startedAt, durationMs: this.clock.now() - started, runBy: this.runBy });
    const ms = this.clock.now() - started;
    await x.usePolicy(undefined);
    this.emit({ type: 'step-done', step, script, ms });
    return { step, ms, warnings };
  }

  /**
   * An operation that must run outside a transaction. An index build that
   * failed (or was killed) leaves an INVALID index of its name, which is
   * dropped before each attempt; resuming at this operation, an index it
   * built, or dropped, before the interruption is taken as done.
   */
  private async runAlone(x: Executor, step: Step, op: Op, resuming: boolean): Promise<void> {
    const say = (message: string): void => this.emit({ type: 'progress', revision: step.revision, message });
    if (op.op === 'createIndex') {
      if (resuming && (await indexState(x, op)) === 'valid') return say(`index ${op.name} was built before the interruption: kept`);
      await x.ddl(renderOp(op), async () => {
        if ((await indexState(x, op)) !== 'invalid') return;
        say(`found INVALID index ${op.name} left by an interrupted build: dropping it to build again`);
        await x.ddl(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(indexName(op))}`);
      });
      return;
    }
    if (op.op === 'dropIndex' && resuming) {
      const [row] = await x.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [qualified(op.name)]);
      if (!row?.present) return say(`index ${op.name} was dropped before the interruption`);
    }
    await x.ddl(renderOp(op));
  }
}

/** An index lives in its table's schema. */
function indexName(o: IndexDef): string {
  const dot = o.table.lastIndexOf('.');
  return dot < 0 ? o.name : `${o.table.slice(0, dot)}.${o.name}`;
}

async function tableIsEmpty(x: Executor, table: string): Promise<boolean> {
  const [row] = await x.query<{ empty: boolean }>(`SELECT NOT EXISTS (SELECT 1 FROM ${qualified(table)}) AS empty`);
  return row?.empty === true;
}

async function indexState(x: Executor, o: IndexDef): Promise<'absent' | 'valid' | 'invalid'> {
  const [row] = await x.query<{ valid: boolean }>(
    'SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass($1) AND c.relname = $2',
    [qualified(o.table), o.name],
  );
  return row === undefined ? 'absent' : row.valid ? 'valid' : 'invalid';
}

interface Resume {
  step: Step;
  done: number;
}

function dataLossError(found: readonly string[]): DataLossError {
  return new DataLossError(`${found.join('; ')}; nothing was changed: back the data up or move it, then rerun with --allow-data-loss`);
}

/** The refusal, with its way out, for a database at a revision no script defines. */
export function unknownRevisionError(unknown: readonly string[], dir: string): StateError {
  return new StateError(
    `the database is at revision ${unknown.join(', ')}, which no script in ${dir} defines; ` +
      `restore the missing revision file, or 'stamp --purge <rev>' if you know the schema's real state`,
  );
}

/** Alembic's wording: `000 -> 001` up, `001 -> 000` down, `<base>` for none. */
export function describeStep(step: Step, downRevisions: readonly string[]): string {
  const below = downRevisions.length ? downRevisions.join(', ') : '<base>';
  return step.direction === 'upgrade' ? `${below} -> ${step.revision}` : `${step.revision} -> ${below}`;
}
