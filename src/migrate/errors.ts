/**
 * Every failure the engine reports on purpose. The message is one line meant
 * for the person at the terminal; `exitCode` is what the CLI returns (1 for a
 * failure or refusal, 2 for a usage error), decided here once.
 */
export class MigrateError extends Error {
  override readonly name: string = 'MigrateError';
  readonly exitCode: 1 | 2 = 1;
}

/** The command line itself is wrong. */
export class UsageError extends MigrateError {
  override readonly name = 'UsageError';
  override readonly exitCode = 2;
}

/** The versions folder does not form a valid revision graph, or a module does not load. */
export class ScriptError extends MigrateError {
  override readonly name = 'ScriptError';
}

/** A revision or target cannot be resolved (unknown, ambiguous, out of range). */
export class ResolutionError extends MigrateError {
  override readonly name = 'ResolutionError';
}

/** The database is not in a state the command can work from (e.g. unknown revision stamped). */
export class StateError extends MigrateError {
  override readonly name = 'StateError';
}

/** There is no schema of the application to work on (adopt on a database without it): exit 2, as the CLI promises. */
export class NoSchemaError extends MigrateError {
  override readonly name = 'NoSchemaError';
  override readonly exitCode = 2;
}

/** A version-table write did not change the row it had to: someone else moved the table. */
export class VersionTableError extends StateError {}

/** Another migration held the advisory lock for longer than the run was allowed to wait. */
export class LockWaitError extends MigrateError {
  override readonly name = 'LockWaitError';
}

export interface StepFailure {
  revision: string;
  direction: 'upgrade' | 'downgrade';
  /** The statement that failed, when one did (rather than the revision's own code). */
  statement: string | undefined;
  cause: unknown;
  /** False for a revision that runs outside a transaction: what it did before failing stays. */
  rolledBack: boolean;
  /**
   * For a revision interrupted between its transactions: how many of its
   * operations stay committed, recorded so that a rerun resumes after them.
   */
  standing?: number | undefined;
  /** Steps that had committed before the failure (Alembic's `<from> -> <to>` wording). */
  committed: readonly string[];
  /** Steps done in the same transaction as the failing one, undone with it. */
  undone: readonly string[];
}

/** A revision's upgrade or downgrade failed; the message says what committed and what was undone. */
export class StepError extends MigrateError implements StepFailure {
  override readonly name = 'StepError';
  readonly revision: string;
  readonly direction: 'upgrade' | 'downgrade';
  readonly statement: string | undefined;
  override readonly cause: unknown;
  readonly rolledBack: boolean;
  readonly standing: number | undefined;
  readonly committed: readonly string[];
  readonly undone: readonly string[];

  constructor(f: StepFailure) {
    const at = f.statement ? ` at: ${oneLine(f.statement, 160)}` : '';
    const outcome =
      f.standing !== undefined
        ? `failed after ${f.standing} of its operations had committed (the rest was rolled back; a rerun resumes after them)`
        : f.rolledBack
          ? 'failed and was rolled back'
          : 'failed (outside a transaction: what it did before the failure stays)';
    const undone = f.undone.length ? `; rolled back with it: ${f.undone.join(', ')}` : '';
    const committed = f.committed.length
      ? `; committed before it: ${f.committed.join(', ')}`
      : f.standing !== undefined
        ? '; no revision before it committed in this run'
        : '; nothing had committed';
    super(`${f.direction} of ${f.revision} ${outcome}${at}: ${oneLine(errorText(f.cause), 300)}${undone}${committed}`);
    this.revision = f.revision;
    this.direction = f.direction;
    this.statement = f.statement;
    this.cause = f.cause;
    this.rolledBack = f.rolledBack;
    this.standing = f.standing;
    this.committed = f.committed;
    this.undone = f.undone;
  }
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** A step would discard stored data and the run did not allow it; nothing was changed. */
export class DataLossError extends MigrateError {
  override readonly name = 'DataLossError';
}

/** An applied revision's code no longer matches the checksum recorded when it ran. */
export class ChecksumError extends MigrateError {
  override readonly name = 'ChecksumError';
}

/**
 * The session advisory lock is not held by the server session a statement
 * runs on: a transaction-mode pooler (PgBouncer) moves statements between
 * server sessions, so the lock protects nothing.
 */
export class PoolerError extends MigrateError {
  override readonly name = 'PoolerError';
}

/** A revision runs a lock-unsafe statement it does not accept with a reason. */
export class LintError extends MigrateError {
  override readonly name = 'LintError';
}
