import { errorText, StateError, StepError } from '../errors.js';
import { createOperations, type OperationSink } from '../ops/operations.js';
import { downgradePlan, upgradePlan, type Step } from '../revisions/plan.js';
import { resolveTarget, type Heads } from '../revisions/targets.js';
import type { Script, ScriptDirectory } from '../script/loader.js';
import type { SqlClient, SqlSession } from './client.js';
import { CREATE_VERSION_TABLE, readHeads, writeTransition } from './version-table.js';

export type MigrationEvent =
  | { type: 'waiting-for-lock' }
  | { type: 'step-start'; step: Step; script: Script }
  | { type: 'step-done'; step: Step; script: Script; ms: number }
  | { type: 'warning'; revision: string; message: string };

export interface StepResult {
  step: Step;
  ms: number;
  warnings: string[];
}

export interface MigratorOptions {
  client: SqlClient;
  scripts: ScriptDirectory;
  onEvent?: (e: MigrationEvent) => void;
}

/**
 * Key of the advisory lock every migrator takes for the whole run, so two
 * deploys (or replicas with MIGRATE_ON_START) never interleave steps.
 */
const LOCK_KEY = 7_461_532_019;

/**
 * The one class that touches a database on the engine's behalf: it reads and
 * writes the version table and runs each step in its own transaction. All
 * decisions (what to run, in which order) come from the pure revision layer.
 */
export class Migrator {
  private readonly client: SqlClient;
  readonly scripts: ScriptDirectory;
  private readonly emit: (e: MigrationEvent) => void;

  constructor(o: MigratorOptions) {
    this.client = o.client;
    this.scripts = o.scripts;
    this.emit = o.onEvent ?? (() => {});
  }

  /** Head revisions of the scripts. */
  heads(): string[] {
    return [...this.scripts.map.heads];
  }

  /** Revisions recorded in the database's version table ([] = base). */
  current(): Promise<string[]> {
    return readHeads(this.client);
  }

  private checkKnown(current: Heads): void {
    const unknown = current.filter((id) => !this.scripts.map.has(id));
    if (unknown.length) {
      throw new StateError(
        `the database is at revision ${unknown.join(', ')}, which no script in ${this.scripts.dir} defines; ` +
          `restore the missing revision file, or 'stamp --purge <rev>' if you know the schema's real state`,
      );
    }
  }

  /** The steps `upgrade`/`downgrade` would run from `current`, computed without touching anything. */
  plan(direction: 'upgrade' | 'downgrade', target: string, current: Heads): Step[] {
    this.checkKnown(current);
    const map = this.scripts.map;
    const heads = resolveTarget(map, target, current);
    return direction === 'upgrade' ? upgradePlan(map, current, heads) : downgradePlan(map, current, heads);
  }

  upgrade(target = 'heads'): Promise<StepResult[]> {
    return this.run('upgrade', target);
  }

  downgrade(target: string): Promise<StepResult[]> {
    return this.run('downgrade', target);
  }

  /** Records `target` as the current revision without running anything. */
  stamp(target: string, o: { purge?: boolean } = {}): Promise<{ from: string[]; to: string[] }> {
    return this.locked(async (s) => {
      const from = await readHeads(s);
      if (!o.purge) this.checkKnown(from);
      const to = [...resolveTarget(this.scripts.map, target, o.purge ? [] : from)];
      await s.exec('BEGIN');
      try {
        await s.exec(CREATE_VERSION_TABLE);
        if (o.purge) {
          await s.exec('DELETE FROM alembic_version');
          await writeTransition(s, [], to);
        } else {
          await writeTransition(s, from, to);
        }
        await s.exec('COMMIT');
      } catch (e) {
        await s.exec('ROLLBACK').catch(() => {});
        throw e;
      }
      return { from, to };
    });
  }

  private async run(direction: 'upgrade' | 'downgrade', target: string): Promise<StepResult[]> {
    return this.locked(async (s) => {
      // Planned under the lock, from what is recorded now, so a concurrent
      // migrator that finished first is seen and its steps are not re-run.
      const steps = this.plan(direction, target, await readHeads(s));
      const results: StepResult[] = [];
      for (const step of steps) results.push(await this.runStep(s, step));
      return results;
    });
  }

  private async locked<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
    return this.client.session(async (s) => {
      const [got] = await s.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCK_KEY]);
      if (!got?.ok) {
        this.emit({ type: 'waiting-for-lock' });
        await s.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      }
      try {
        return await fn(s);
      } finally {
        await s.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
      }
    });
  }

  private async runStep(s: SqlSession, step: Step): Promise<StepResult> {
    const script = this.scripts.scripts.get(step.revision)!;
    const started = performance.now();
    const warnings: string[] = [];
    let statement: string | undefined;
    const sink: OperationSink = {
      offline: false,
      execute: async (sql) => {
        statement = sql;
        await s.exec(sql);
      },
      query: async <R>(sql: string, params?: readonly unknown[]) => {
        statement = sql;
        return s.query<R>(sql, params);
      },
      warn: (message) => {
        warnings.push(message);
        this.emit({ type: 'warning', revision: step.revision, message });
      },
    };
    this.emit({ type: 'step-start', step, script });
    const tx = script.transactional;
    try {
      if (tx) await s.exec('BEGIN');
      await script.module[step.direction](createOperations(sink));
      statement = undefined;
      await writeTransition(s, step.from, step.to);
      if (tx) await s.exec('COMMIT');
    } catch (e) {
      if (tx) await s.exec('ROLLBACK').catch(() => {});
      throw new StepError(step.revision, step.direction, statement, e instanceof Error ? e : new Error(errorText(e)));
    }
    const ms = performance.now() - started;
    this.emit({ type: 'step-done', step, script, ms });
    return { step, ms, warnings };
  }
}

/** Alembic's wording: `000 -> 001` up, `001 -> 000` down, `<base>` for none. */
export function describeStep(step: Step, downRevisions: readonly string[]): string {
  const below = downRevisions.length ? downRevisions.join(', ') : '<base>';
  return step.direction === 'upgrade' ? `${below} -> ${step.revision}` : `${step.revision} -> ${below}`;
}
