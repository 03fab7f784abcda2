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

/** A revision's upgrade or downgrade failed; its transaction was rolled back. */
export class StepError extends MigrateError {
  override readonly name = 'StepError';
  constructor(
    readonly revision: string,
    readonly direction: 'upgrade' | 'downgrade',
    readonly statement: string | undefined,
    override readonly cause: unknown,
  ) {
    const what = statement ? ` at: ${oneLine(statement, 160)}` : '';
    super(`${direction} of ${revision} failed and was rolled back${what}: ${oneLine(errorText(cause), 300)}`);
  }
}

/** The database is not in a state the command can work from (e.g. unknown revision stamped). */
export class StateError extends MigrateError {
  override readonly name = 'StateError';
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
