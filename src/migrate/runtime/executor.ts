import { backoff, type RunPolicy } from './policy.js';
import type { RevisionPolicy } from '../script/loader.js';
import type { Clock, SqlSession } from './client.js';

export type ExecutorEvent = { type: 'retry'; attempt: number; of: number; waitMs: number; statement: string; reason: string };

/** PostgreSQL's SQLSTATE for "canceling statement due to lock timeout". */
const LOCK_NOT_AVAILABLE = '55P03';

function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The one place every statement of a run passes through, on one pinned
 * session: bookkeeping (lock, version table), transaction control, and the
 * revisions' DDL, which runs under the policy's timeouts and is retried with
 * backoff when it times out waiting for a lock (inside a transaction, from a
 * savepoint, so the work before it stands).
 */
export class Executor {
  /** The statement that failed last, if any: what a failure report names. Transaction control is not counted. */
  failedStatement: string | undefined;
  inTransaction = false;
  /** The run's policy with the running revision's needs applied (`usePolicy`). */
  private policy: RunPolicy;

  constructor(
    private readonly session: SqlSession,
    private readonly runPolicy: RunPolicy,
    private readonly clock: Clock,
    private readonly emit: (e: ExecutorEvent) => void = () => {},
  ) {
    this.policy = runPolicy;
  }

  private timeouts(local: boolean): string[] {
    const set = local ? 'SET LOCAL' : 'SET';
    const out: string[] = [];
    if (this.policy.lockTimeoutMs !== null) out.push(`${set} lock_timeout = '${this.policy.lockTimeoutMs}ms'`);
    if (this.policy.statementTimeoutMs !== null) out.push(`${set} statement_timeout = '${this.policy.statementTimeoutMs}ms'`);
    return out;
  }

  /**
   * Applies a revision's needs (none: the run's policy again) to the
   * statements that follow: the shorter `lock_timeout` and the larger retry
   * count win, so a revision can make a run more careful, never less. In a
   * transaction the new timeout is set for the rest of it.
   */
  async usePolicy(rev: RevisionPolicy | undefined): Promise<void> {
    const run = this.runPolicy;
    const lockTimeoutMs =
      rev?.lockTimeoutMs === undefined ? run.lockTimeoutMs : run.lockTimeoutMs === null ? rev.lockTimeoutMs : Math.min(run.lockTimeoutMs, rev.lockTimeoutMs);
    const retries = Math.max(run.retries, rev?.retries ?? 0);
    const changed = lockTimeoutMs !== this.policy.lockTimeoutMs;
    this.policy = { ...run, lockTimeoutMs, retries };
    if (changed && this.inTransaction) {
      await this.session.exec(lockTimeoutMs === null ? 'SET LOCAL lock_timeout TO DEFAULT' : `SET LOCAL lock_timeout = '${lockTimeoutMs}ms'`);
    }
  }

  /** Engine bookkeeping with parameters (version table, lock). */
  query<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.blame(text, () => this.session.query<R>(text, params));
  }

  private async blame<T>(text: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      this.failedStatement = text;
      throw e;
    }
  }

  async begin(): Promise<void> {
    // Marked first: if a timeout in the same round trip fails, the transaction is open and must be rolled back.
    this.inTransaction = true;
    await this.session.exec(['BEGIN', ...this.timeouts(true)].join(';\n'));
  }

  async commit(): Promise<void> {
    await this.session.exec('COMMIT');
    this.inTransaction = false;
  }

  /** Never throws: it runs after a failure, whose report must not be masked. */
  async rollback(): Promise<void> {
    this.inTransaction = false;
    await this.session.exec('ROLLBACK').catch(() => {});
  }

  /**
   * One operation's SQL, under the policy. `prepare` runs before each
   * attempt: what a failed attempt left behind (an INVALID index of a
   * concurrent build) is cleared there.
   */
  async ddl(sql: string, prepare?: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await prepare?.();
        await this.attempt(sql);
        return;
      } catch (e) {
        if (sqlState(e) !== LOCK_NOT_AVAILABLE || attempt > this.policy.retries) throw e;
        const waitMs = backoff(this.policy, attempt);
        this.emit({ type: 'retry', attempt, of: this.policy.retries, waitMs, statement: sql, reason: e instanceof Error ? e.message : String(e) });
        await this.clock.sleep(waitMs);
      }
    }
  }

  private async attempt(sql: string): Promise<void> {
    if (this.inTransaction && this.policy.retries > 0) {
      // One round trip, not three: inside a transaction a multi-statement
      // string is safe, and on failure the savepoint it set is there to return to.
      try {
        await this.blame(sql, () => this.session.exec(savepointed(sql)));
      } catch (e) {
        await this.session.exec('ROLLBACK TO SAVEPOINT migrate_statement').catch(() => {});
        throw e;
      }
      return;
    }
    // Outside a transaction each statement goes alone: several in one string
    // would run as one implicit transaction, which CONCURRENTLY refuses.
    const scoped = this.inTransaction ? [] : this.timeouts(false);
    for (const s of scoped) await this.session.exec(s);
    try {
      await this.blame(sql, () => this.session.exec(sql));
    } finally {
      if (scoped.length) await this.session.exec('RESET lock_timeout; RESET statement_timeout').catch(() => {});
    }
  }

}

/**
 * A statement between a savepoint and its release, as one string. The
 * statement ends on a line of its own, so a trailing `--` comment in it
 * cannot swallow the release.
 */
function savepointed(sql: string): string {
  return `SAVEPOINT migrate_statement;\n${sql}\n;\nRELEASE SAVEPOINT migrate_statement`;
}
