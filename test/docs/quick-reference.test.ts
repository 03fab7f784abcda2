import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { SERVER_ADMIN_URL, testEngines, type Engine } from '../support/databases.js';

/**
 * The migration guides promise that their commands run as written, in order.
 * Every line of their ```bash blocks runs here, top to bottom, each document
 * in a clean environment of its own: a scratch copy of the repository's
 * layout (so `revision` and `> upgrade.sql` write there, and printed paths
 * read `migrations/versions/...`), PATH and HOME only, no .env. `# exits N`
 * at the end of a line is the exit code that command must give, 0
 * otherwise. A ```text block right after a ```bash block is what those
 * commands print (stdout and stderr as a terminal shows them), compared
 * with times masked. ```bash skip marks a block that is not part of a
 * walkthrough (it runs the test suite, or shows another state).
 *
 * DOCS_UPDATE=1 writes what the commands printed into those ```text blocks
 * instead of comparing (after a change of output on purpose; review the diff).
 */
interface Command {
  line: string;
  exits: number;
}

interface Block {
  commands: Command[];
  /** Where it is in the document, for messages. */
  at: number;
  expected: string | undefined;
  /** Offsets of the expected block's body in the document. */
  expectedSpan: [number, number] | undefined;
}

function blocks(markdown: string): Block[] {
  const fences = [...markdown.matchAll(/^```(\w*)([^\n]*)\n([\s\S]*?)^```\n?/gm)];
  const out: Block[] = [];
  fences.forEach((f, i) => {
    if (f[1] !== 'bash' || f[2]!.trim() === 'skip') return;
    const commands = f[3]!
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((line) => ({ line, exits: Number(/#\s*exits\s+(\d+)\s*$/.exec(line)?.[1] ?? 0) }));
    const next = fences[i + 1];
    const between = next ? markdown.slice(f.index! + f[0].length, next.index) : '';
    const expected = next && next[1] === 'text' && between.trim() === '' ? next[3] : undefined;
    const bodyStart = next ? next.index! + next[0].indexOf('\n') + 1 : 0;
    const expectedSpan: [number, number] | undefined = expected !== undefined ? [bodyStart, bodyStart + expected.length] : undefined;
    out.push({ commands, at: markdown.slice(0, f.index).split('\n').length, expected, expectedSpan });
  });
  return out;
}

/** A scratch copy of the repository's layout, the documents' working directory. */
function scratchRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'docs-'));
  for (const link of ['node_modules', 'dist', 'src', 'scripts', 'test']) symlinkSync(join(ROOT, link), join(dir, link));
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'migrations'));
  cpSync(join(ROOT, 'migrations', 'versions'), join(dir, 'migrations', 'versions'), { recursive: true });
  return dir;
}

/**
 * Every command after the first `npm run -s migrate --` runs the compiled CLI
 * directly, as MIGRATIONS.md says it may: the same program without npm's own
 * start-up (~0.5 s a command, most of this test's time on a busy machine).
 */
const NPM_SHORTCUT = `npm() { if [ "$1 $2 $3 $4" = "run -s migrate --" ]; then shift 4; node dist/src/cli/migrate.js "$@"; else command npm "$@"; fi; }`;

interface Outcome {
  code: number;
  output: string;
}

/** Runs the commands in one bash, in order (exports carry over), and splits its output per command. */
function runAll(commands: string[], cwd: string, env: NodeJS.ProcessEnv): Outcome[] {
  const first = commands.findIndex((c) => c.includes('npm run -s migrate --'));
  // `$?` is handed on past the markers, so a documented `echo $?` sees the command before it.
  const script = commands
    .map(
      (c, i) =>
        `${i === first + 1 ? `${NPM_SHORTCUT}\n` : ''}printf '\\n@@ %d\\n' ${i}\n(exit $rc)\n${c}\nrc=$?\nprintf '\\n@@ %d exit %d\\n' ${i} $rc`,
    )
    .join('\n');
  writeFileSync(join(cwd, '.commands.sh'), `rc=0\n${script}\n`);
  // One stream, as a terminal shows stdout and stderr interleaved.
  const all = execFileSync('bash', ['-c', 'exec bash .commands.sh 2>&1'], { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return commands.map((_, i) => {
    const m = new RegExp(`\\n@@ ${i}\\n([\\s\\S]*?)\\n@@ ${i} exit (\\d+)\\n`).exec(`\n${all}`);
    return m ? { code: Number(m[2]), output: m[1]! } : { code: -1, output: `(no output: the script stopped)\n${all.slice(-2000)}` };
  });
}

/** Times differ from run to run. */
const maskTimes = (text: string): string => text.replace(/\b\d+(\.\d+)? m?s\b/g, '<time>');

interface Document {
  file: string;
  /** Whole-string substitutions in the commands; their inverses are applied to the output. */
  rename: [string, string][];
  env: NodeJS.ProcessEnv;
}

function checkDocument(doc: Document, cwd: string): void {
  const swap = (text: string, pairs: [string, string][]): string => pairs.reduce((t, [a, b]) => t.split(a).join(b), text);
  const markdown = readFileSync(join(ROOT, doc.file), 'utf8');
  const parsed = blocks(markdown);
  const updates: [number, number, string][] = [];
  const commands = parsed.flatMap((b) => b.commands.map((c) => swap(c.line, doc.rename)));
  const outcomes = runAll(commands, cwd, doc.env);
  const back = doc.rename.map(([a, b]): [string, string] => [b, a]);
  let i = 0;
  for (const b of parsed) {
    const mine = outcomes.slice(i, i + b.commands.length);
    b.commands.forEach((c, k) => {
      expect.soft(mine[k]!.code, `${doc.file}:${b.at}: ${c.line}\n${mine[k]!.output}`).toBe(c.exits);
    });
    if (b.expected !== undefined) {
      const got = mine
        .map((o) => swap(o.output, back).replace(/\n$/, ''))
        .filter((o) => o !== '')
        .join('\n')
        .replace(/\n+$/, '');
      if (process.env.DOCS_UPDATE === '1') updates.push([...b.expectedSpan!, `${got}\n`]);
      else expect.soft(maskTimes(got), `${doc.file}:${b.at}`).toBe(maskTimes(b.expected.replace(/\n+$/, '')));
    }
    i += b.commands.length;
  }
  if (updates.length) {
    const text = updates.reduceRight((t, [from, to, body]) => t.slice(0, from) + body + t.slice(to), markdown);
    writeFileSync(join(ROOT, doc.file), text);
  }
}

const engines = await testEngines();
const server = engines.find((e) => e.name === 'server');
const cleanEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
const scratch: string[] = [];
const newScratch = (): string => {
  const dir = scratchRepo();
  scratch.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

it('finds the commands of the quick reference and of the guide', () => {
  const quick = blocks(readFileSync(join(ROOT, 'MIGRATION_QUICK_REFERENCE.md'), 'utf8')).flatMap((b) => b.commands);
  expect(quick.length).toBeGreaterThan(20);
  expect(quick.some((c) => c.exits !== 0)).toBe(true);
  const guide = blocks(readFileSync(join(ROOT, 'MIGRATIONS.md'), 'utf8'));
  expect(guide.filter((b) => b.expected !== undefined).length).toBeGreaterThan(20);
  // One command a line: a continued line would run as two broken halves.
  expect([...quick, ...guide.flatMap((b) => b.commands)].filter((c) => c.line.endsWith('\\'))).toEqual([]);
});

describe.each(engines)('MIGRATION_QUICK_REFERENCE.md on $name', (engine: Engine) => {
  it('runs every command as written, in order, with the documented exit code', async () => {
    const cwd = newScratch();
    const tdb = engine.name === 'server' ? await engine.create() : undefined;
    try {
      const env = {
        ...cleanEnv,
        MIGRATIONS_DIR: join(cwd, 'migrations', 'versions'),
        // Unset on PGlite: the default ./.data/pglite, inside the scratch copy.
        ...(tdb?.url ? { DATABASE_URL: tdb.url } : {}),
      };
      checkDocument({ file: 'MIGRATION_QUICK_REFERENCE.md', rename: [], env }, cwd);
    } finally {
      await tdb?.drop();
    }
  }, 240_000);
});

describe('MIGRATIONS.md', () => {
  if (!server) {
    it.skip('needs the server half (its walkthrough creates server databases with psql)', () => {});
    return;
  }
  it('runs every walkthrough as written, in order, printing what it shows (times masked)', async () => {
    const cwd = newScratch();
    const admin = new URL(SERVER_ADMIN_URL);
    const suffix = randomBytes(4).toString('hex');
    // The guide's databases get names of this run's own, created and dropped here only.
    const names = ['prs_docs', 'prs_legacy'].map((n) => `${n}_${suffix}`);
    const where = `${admin.hostname}:${admin.port || 5432}`;
    const user = decodeURIComponent(admin.username || 'postgres');
    const doc: Document = {
      file: 'MIGRATIONS.md',
      rename: [
        ['/tmp/prs-demo', join(cwd, 'prs-demo')],
        ['prs_docs', names[0]!],
        ['prs_legacy', names[1]!],
        ['-h 127.0.0.1 -U postgres', `-h ${admin.hostname} -p ${admin.port || 5432} -U ${user}`],
        ['postgres://postgres@127.0.0.1:5432', `postgres://${encodeURIComponent(user)}@${where}`],
        ['postgresql+asyncpg://postgres@127.0.0.1:5432', `postgresql+asyncpg://${encodeURIComponent(user)}@${where}`],
      ],
      env: {
        ...cleanEnv,
        MIGRATIONS_DIR: join(cwd, 'migrations', 'versions'),
        ...(admin.password ? { PGPASSWORD: decodeURIComponent(admin.password) } : {}),
      },
    };
    try {
      checkDocument(doc, cwd);
    } finally {
      const sql = postgres(SERVER_ADMIN_URL, { max: 1, onnotice: () => {} });
      for (const name of names) await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    }
  }, 240_000);
});
