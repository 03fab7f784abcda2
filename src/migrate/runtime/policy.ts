import { createHash } from 'node:crypto';
import { qualifiedVersionTable, type VersionTableName } from './version-table.js';

/**
 * Everything that governs how a run sends its statements, in one object: the
 * advisory lock, the timeouts each DDL statement runs under, retries of a
 * statement that timed out waiting for a lock, and how steps are grouped in
 * transactions. The defaults are the engine's historical behaviour (wait for
 * the lock forever, no timeouts, no retries, one transaction per revision).
 */
export interface RunPolicy {
  /** Advisory lock key every migrator of this version table takes for the whole run. */
  lockKey: bigint;
  /** How long to wait for another run's lock before giving up; null waits for ever. */
  lockWaitMs: number | null;
  /** `lock_timeout` for each DDL statement; null leaves the session's. */
  lockTimeoutMs: number | null;
  /** `statement_timeout` for each DDL statement; null leaves the session's. */
  statementTimeoutMs: number | null;
  /** How many times a statement that hit `lock_timeout` is tried again. */
  retries: number;
  /** Wait before the first retry; doubled each time, up to `retryMaxBackoffMs`. */
  retryBackoffMs: number;
  retryMaxBackoffMs: number;
  /** One transaction per revision, or one for the whole run (Alembic's transaction_per_migration=False). */
  transactionMode: 'per-revision' | 'whole-run';
}

/**
 * What a run against a live database should use, and the migrate CLI and a
 * host migrating on start do: each DDL statement waits at most 2 s for its
 * lock, so a migration queued behind a long transaction never holds the
 * application's queries behind it for longer, and is retried with backoff
 * (10 times, 0.5 s doubling to 10 s). The engine's own defaults stay the
 * historical behaviour for programmatic use.
 */
export const DEPLOY_POLICY: Partial<RunPolicy> = { lockTimeoutMs: 2_000, retries: 10, retryBackoffMs: 500, retryMaxBackoffMs: 10_000 };

/**
 * A stable key per version table, so two applications keeping their own
 * version tables in one database do not wait for each other.
 */
export function lockKeyFor(table: VersionTableName): bigint {
  return createHash('sha256').update(`migrate-lock:${qualifiedVersionTable(table)}`).digest().readBigInt64BE(0);
}

export function resolvePolicy(table: VersionTableName, given: Partial<RunPolicy> = {}): RunPolicy {
  const p: RunPolicy = {
    lockKey: lockKeyFor(table),
    lockWaitMs: null,
    lockTimeoutMs: null,
    statementTimeoutMs: null,
    retries: 0,
    retryBackoffMs: 500,
    retryMaxBackoffMs: 10_000,
    transactionMode: 'per-revision',
    ...given,
  };
  for (const k of ['lockWaitMs', 'lockTimeoutMs', 'statementTimeoutMs'] as const) {
    const v = p[k];
    if (v !== null && !(Number.isInteger(v) && v >= 0)) throw new RangeError(`${k} must be a whole number of milliseconds or null`);
  }
  if (!Number.isInteger(p.retries) || p.retries < 0) throw new RangeError('retries must be a whole number, 0 or more');
  return p;
}

/** The wait before retry number `attempt` (1-based). */
export function backoff(p: RunPolicy, attempt: number): number {
  return Math.min(p.retryMaxBackoffMs, p.retryBackoffMs * 2 ** (attempt - 1));
}
