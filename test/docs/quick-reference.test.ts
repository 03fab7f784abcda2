import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { testEngines, type TestDatabase } from '../support/databases.js';

/**
 * MIGRATION_QUICK_REFERENCE.md promises that its commands run as written.
 * Every line of its ```bash blocks runs here, in order, from the repository
 * root, on a throwaway database; `# exits N` at the end of a line is the exit
 * code that command must give, 0 otherwise.
 */
interface DocCommand {
  line: string;
  exits: number;
}

function bashCommands(markdown: string): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const block of markdown.matchAll(/^```bash\n([\s\S]*?)^```/gm)) {
    for (const raw of block[1]!.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const exits = /#\s*exits\s+(\d+)\s*$/.exec(line);
      commands.push({ line, exits: exits ? Number(exits[1]) : 0 });
    }
  }
  return commands;
}

interface Outcome {
  code: number;
  output: string;
}

function run(line: string, env: NodeJS.ProcessEnv): Outcome {
  try {
    const stdout = execFileSync('bash', ['-c', line], { cwd: ROOT, env, encoding: 'utf8', stdio: 'pipe', timeout: 30_000 });
    return { code: 0, output: stdout };
  } catch (e) {
    const r = e as { status: number | null; stdout?: string; stderr?: string; message: string };
    return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? r.message}` };
  }
}

const commands = bashCommands(readFileSync(join(ROOT, 'MIGRATION_QUICK_REFERENCE.md'), 'utf8'));
const versionsDir = join(ROOT, 'migrations', 'versions');
const engines = await testEngines();

it('finds the commands of the quick reference', () => {
  expect(commands.length).toBeGreaterThan(20);
  expect(commands.some((c) => c.exits !== 0)).toBe(true);
  // One command a line: a continued line would run as two broken halves.
  expect(commands.filter((c) => c.line.endsWith('\\'))).toEqual([]);
});

describe.each(engines)('MIGRATION_QUICK_REFERENCE.md on $name', (engine) => {
  let work: string;
  let tdb: TestDatabase | undefined;
  let env: NodeJS.ProcessEnv;
  const filesBefore = readdirSync(versionsDir).sort();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'quick-reference-'));
    // `revision -m` writes into MIGRATIONS_DIR: a copy, so the tree stays as it was.
    const versions = join(work, 'versions');
    cpSync(versionsDir, versions, { recursive: true });
    env = { ...process.env, MIGRATIONS_DIR: versions, MIGRATE_DEBUG: '' };
    if (engine.name === 'server') {
      tdb = await engine.create();
      env.DATABASE_URL = tdb.url;
    } else {
      // Empty, not unset: a developer's .env must not pick the database.
      env.DATABASE_URL = '';
      env.DATA_DIR = join(work, 'pglite');
    }
  });

  afterAll(async () => {
    await tdb?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs every command as written, with the documented exit code', () => {
    for (const c of commands) {
      const r = run(c.line, env);
      expect(r.code, `${c.line}\n${r.output}`).toBe(c.exits);
    }
    expect(readdirSync(versionsDir).sort()).toEqual(filesBefore);
    // ~25 s on PGlite alone (each command opens the data directory); room for a busy machine.
  }, 120_000);
});
