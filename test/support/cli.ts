import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A copy of migrations/versions holding only the three revisions the Python
 * service wrote: tests that quote their output are left alone when the
 * service adds a revision of its own. The caller removes it.
 */
export function pythonEraVersions(): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrate-cli-versions-'));
  cpSync(join(ROOT, 'migrations', 'versions'), dir, { recursive: true, filter: (source) => !/\/0(0[3-9]|[1-9]\d)_[^/]*$/.test(source) });
  return dir;
}

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
