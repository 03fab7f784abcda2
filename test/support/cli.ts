import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled migrate CLI as a user would, with only the environment given (plus PATH). */
export function migrate(args: string[], env: Record<string, string>): Run {
  const r = spawnSync(process.execPath, ['dist/src/cli/migrate.js', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A refusal is one line on stderr, starting `error:`, with no stack trace. */
export function oneLineError(r: Run): string {
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:') || /^\s+at /.test(l));
  if (lines.length !== 1 || !lines[0]!.startsWith('error:')) throw new Error(`expected one error line, got:\n${r.stderr}`);
  return lines[0]!;
}
