import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/index.js';
import { migrate, oneLineError, pythonEraVersions, ROOT, type Run } from '../support/cli.js';
import { SERVER_ADMIN_URL, testEngines, type TestDatabase } from '../support/databases.js';
import { migrateInProcess } from '../support/engine-context.js';

const engines = await testEngines();
const HEAD = '002_add_rejection_reason';

/**
 * The engine is tested on the three revisions the Python service wrote
 * (their outputs are quoted below); the service's own later revisions are
 * left out, so that adding one does not rewrite these expectations.
 */
const PYTHON_ERA = pythonEraVersions();
afterAll(() => rmSync(PYTHON_ERA, { recursive: true, force: true }));

describe.each(engines)('migrate CLI on $name', (engine) => {
  let tdb: TestDatabase;
  let db: Database;
  let work: string;
  const run = (...args: string[]): Promise<Run> => migrateInProcess(args, PYTHON_ERA, db);
  const withVersions = (dir: string, ...args: string[]): Promise<Run> => migrateInProcess(args, dir, db);
  const current = async (): Promise<string> => (await run('current')).stdout.trim();
  /** A copy of migrations/versions plus extra revision files. */
  const versionsWith = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(work, 'versions-'));
    cpSync(PYTHON_ERA, dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'migrate-cli-'));
    tdb = await engine.create();
    db = await tdb.open();
  });
  // Each test starts at head, whatever ran before it (or alone, with -t).
  beforeEach(async () => {
    const up = await run('upgrade', 'head');
    if (up.code === 0) return;
    const purged = await run('stamp', '--purge', 'head');
    if (purged.code !== 0) throw new Error(up.stderr + purged.stderr);
  });
  afterAll(async () => {
    await db?.close();
    await tdb.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses bad revisions with one clear line, exit 1, and an unchanged database', async () => {
    const cases: [string[], RegExp][] = [
      [['upgrade', '999'], /no revision '999'; known revisions: 000_initial_schema, 001_add_version_column, 002_add_rejection_reason/],
      [['downgrade', '00'], /'00' is ambiguous: it could be 000_initial_schema, 001_add_version_column, 002_add_rejection_reason/],
      [['downgrade', '-4'], /'-4' goes below base \(only 3 steps available\)/],
      [['show', 'nope'], /no revision 'nope'/],
      [['downgrade', 'head+1'], /goes past the top/],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(oneLineError(r)).toMatch(message);
    }
    // Once for all of them: a refusal that changed anything would show here.
    expect(await current()).toBe(`${HEAD} (head)`);
  });

  it('answers usage errors with exit 2 and --help with examples and exit 0', async () => {
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('upgrade', '--bogus')).code).toBe(2);
    expect((await run('downgrade')).code).toBe(2);
    expect((await run('revision')).code).toBe(2);
    const top = await run('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Exit codes:/);
    for (const cmd of ['upgrade', 'downgrade', 'current', 'history', 'heads', 'branches', 'show', 'stamp', 'revision']) {
      const h = await run(cmd, '--help');
      expect(h.code, cmd).toBe(0);
      expect(h.stdout, cmd).toMatch(/Examples?:\n\s+\$ npm run migrate -- /);
    }
  });

  it('gives --json on every read command', async () => {
    expect(JSON.parse((await run('current', '--json')).stdout)).toMatchObject({ current: [HEAD], heads: [HEAD], atHead: true });
    const history = JSON.parse((await run('history', '-i', '--json')).stdout) as { revision: string; isCurrent: boolean }[];
    expect(history.map((h) => h.revision)).toEqual([HEAD, '001_add_version_column', '000_initial_schema']);
    expect(history[0]!.isCurrent).toBe(true);
    expect(JSON.parse((await run('heads', '--json')).stdout)).toHaveLength(1);
    expect(JSON.parse((await run('branches', '--json')).stdout)).toEqual([]);
    expect(JSON.parse((await run('show', '001', '--json')).stdout)).toMatchObject({ revision: '001_add_version_column', downRevisions: ['000_initial_schema'] });
  });

  it('shows history with ranges, verbose and the current revision marked', async () => {
    const r = await run('history', '-i');
    expect(r.stdout.trim().split('\n')).toEqual([
      '001_add_version_column -> 002_add_rejection_reason (head) (current), Add rejection_reason column for tracking rejection details',
      '000_initial_schema -> 001_add_version_column, Add version column for optimistic locking',
      '<base> -> 000_initial_schema, Initial schema for candidates table',
    ]);
    expect((await run('history', '-r', '001:')).stdout.trim().split('\n')).toHaveLength(2);
    expect((await run('history', '-v', '-r', ':000')).stdout).toMatch(/Rev: 000_initial_schema\nParent: <base>/);
  });

  it('refuses a downgrade over stored rejection reasons without --allow-data-loss, naming the column and count, changing nothing', async () => {
    if (engine.name === 'server') {
      await db.exec(`INSERT INTO candidates (company_name, contact_email, products, truck_count, capacity_tons_per_day, status, rejection_reason)
                     VALUES ('R', 'r@x.io', '["apples"]', 1, 1, 'rejected', 'no trucks')`);
      const refused = await run('downgrade', '-1');
      expect(refused.code).toBe(1);
      expect(oneLineError(refused)).toBe(
        'error: downgrade 002_add_rejection_reason -> 001_add_version_column would drop column candidates.rejection_reason (1 non-null value); ' +
          'nothing was changed: back the data up or move it, then rerun with --allow-data-loss',
      );
      expect(await current()).toBe(`${HEAD} (head)`);
      expect(await db.query('SELECT rejection_reason FROM candidates')).toEqual([{ rejection_reason: 'no trucks' }]);
    }
    const r = await run('downgrade', '-1', '--allow-data-loss');
    expect(r.code).toBe(0);
    if (engine.name === 'server') expect(r.stderr).toMatch(/WARNING 002_add_rejection_reason: dropping candidates.rejection_reason discards 1 non-null value/);
    expect(r.stdout).toMatch(/downgrade 002_add_rejection_reason -> 001_add_version_column, .* \d+ ms/);
    expect(await current()).toBe('001_add_version_column');
    expect((await run('upgrade', 'head')).code).toBe(0);
  });

  it('rolls a failing revision back whole and names it and the failing statement', async () => {
    const dir = versionsWith({
      '003_fails.ts': `export default {
        revision: '003_fails', downRevision: '${HEAD}', message: 'fails halfway',
        async upgrade(op) { await op.execute('ALTER TABLE candidates ADD COLUMN half_done integer'); await op.execute('ALTER TABLE no_such_table ADD COLUMN y integer'); },
        async downgrade() {},
      };`,
    });
    const r = await withVersions(dir, 'upgrade', 'head');
    expect(r.code).toBe(1);
    expect(oneLineError(r)).toMatch(/upgrade of 003_fails failed and was rolled back at: ALTER TABLE no_such_table ADD COLUMN y integer: relation "no_such_table" does not exist/);
    expect(await current()).toBe(`${HEAD} (head)`);
    expect((await withVersions(dir, 'current')).stdout.trim()).toBe(HEAD);
  });

  it('reports a revision file that does not load, touching nothing', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ '003_broken.ts': 'export default { revision: ' }, /003_broken\.ts: does not compile/],
      [{ '003_half.ts': `export default { revision: '003_half', downRevision: '${HEAD}', message: 'x' };` }, /003_half\.ts: not a revision module: `upgrade` must be a function/],
      [{ '003_orphan.ts': `export default { revision: '003_orphan', downRevision: 'gone', message: 'x', upgrade() {}, downgrade() {} };` }, /003_orphan names down revision gone, which no script defines/],
      [{ '003_throws.ts': `throw new Error('boom at import');` }, /003_throws\.ts: does not load: boom at import/],
    ];
    for (const [files, message] of cases) {
      const r = await withVersions(versionsWith(files), 'upgrade', 'head');
      expect(r.code).toBe(1);
      expect(oneLineError(r)).toMatch(message);
    }
    expect(await current()).toBe(`${HEAD} (head)`);
  });

  it('writes a new revision on top of the head, which then upgrades', async () => {
    const dir = versionsWith({});
    const r = await withVersions(dir, 'revision', '-m', 'Add provider index');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/created .*003_add_provider_index\.ts \(revises 002_add_rejection_reason\)/);
    expect(readFileSync(join(dir, '003_add_provider_index.ts'), 'utf8')).toContain(`downRevision: '${HEAD}'`);
    expect((await withVersions(dir, 'revision', '-m', 'x', '--rev-id', '003_add_provider_index')).code).toBe(1);
    expect((await withVersions(dir, 'revision', '-m', 'x', '--rev-id', 'bad-id!')).code).toBe(2);
    expect((await withVersions(dir, 'heads')).stdout.trim()).toBe('003_add_provider_index (head)');
    expect((await withVersions(dir, 'upgrade', 'head')).code).toBe(0);
    expect((await withVersions(dir, 'downgrade', '-1')).code).toBe(0);
    expect(await current()).toBe(`${HEAD} (head)`);
  });

  it('stamps without running anything, and --purge recovers from an unknown revision', async () => {
    expect((await run('stamp', 'base')).stdout).toMatch(/stamped 002_add_rejection_reason -> <base>/);
    expect(await current()).toBe('<base> (no revision applied)');
    expect((await run('stamp', 'head')).code).toBe(0);
    await db.exec(`UPDATE alembic_version SET version_num = 'deadbeef0000'`);
    const unknown = await run('current');
    expect(unknown.stdout.trim()).toBe('deadbeef0000 (unknown: no script defines it)');
    expect(unknown.code).toBe(1);
    expect(oneLineError(unknown)).toMatch(/revision deadbeef0000, which no script .* defines; .*stamp --purge/);
    const refused = await run('upgrade', 'head');
    expect(refused.code).toBe(1);
    expect(oneLineError(refused)).toMatch(/revision deadbeef0000, which no script .* defines; .*stamp --purge/);
    expect((await run('stamp', HEAD)).code).toBe(1);
    expect((await run('stamp', '--purge', HEAD)).code).toBe(0);
    expect(await current()).toBe(`${HEAD} (head)`);
  });

  it('checks the database against the model, and autogenerates the revision that closes a difference', async () => {
    // The model is the service's, so this test runs every revision it has, and leaves the database at 002 again.
    const all = mkdtempSync(join(work, 'versions-all-'));
    cpSync(join(ROOT, 'migrations', 'versions'), all, { recursive: true });
    const latest = readdirSync(all).filter((f) => /^\d{3}_.*\.ts$/.test(f)).sort().at(-1)!.replace(/\.ts$/, '');
    expect((await withVersions(all, 'upgrade', 'head')).code).toBe(0);
    const clean = await withVersions(all, 'check');
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout.trim()).toBe(`ok: the database is at ${latest} and matches the model`);
    const nothing = await withVersions(all, 'revision', '--autogenerate', '-m', 'nothing');
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/^no changes detected/);
    expect(readdirSync(all).length).toBe(readdirSync(join(ROOT, 'migrations', 'versions')).length);
    await db.exec('ALTER TABLE candidates ADD COLUMN extra integer');
    const drift = await withVersions(all, 'check', '--json');
    expect(drift.code).toBe(1);
    expect(JSON.parse(drift.stdout)).toMatchObject({ clean: false, atHead: true, differences: ['column candidates.extra: in the database, not in the model'] });
    expect(oneLineError(drift)).toMatch(/1 difference between the database and the model: the model changed without a revision/);

    const gen = await withVersions(all, 'revision', '--autogenerate', '-m', 'drop extra');
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toMatch(new RegExp(`detected dropColumn column candidates.extra\\n.*created .*_drop_extra\\.ts \\(revises ${latest}\\)`, 's'));
    expect(gen.stderr).toMatch(/WARNING: the upgrade drops column candidates.extra and its data/);
    expect((await withVersions(all, 'upgrade', 'head')).code).toBe(0);
    expect((await withVersions(all, 'check')).code).toBe(0);
    expect((await withVersions(all, 'downgrade', '-1')).code).toBe(0);
    expect(await db.query(`SELECT data_type FROM information_schema.columns WHERE table_name = 'candidates' AND column_name = 'extra'`)).toEqual([{ data_type: 'integer' }]);
    await db.exec('ALTER TABLE candidates DROP COLUMN extra');
    expect((await withVersions(all, 'downgrade', HEAD)).code).toBe(0);
  }, 180_000);

  it('lints every revision: accepted findings with their reason, exit 1 on one not accepted (also in check), warnings at revision --autogenerate', async () => {
    const ok = await run('lint');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('ok: 0 findings, every one accepted with a reason\n');
    const unsafe = versionsWith({
      '003_unsafe.mjs': `export default { revision: '003_unsafe', downRevision: '${HEAD}', message: 'unsafe',
        lint: { accept: { 'index-not-concurrent': 'candidates has no rows when this runs' } },
        async upgrade(op) { await op.createIndex('idx_m', 'candidates', ['status']); await op.execute('ALTER TABLE candidates ADD COLUMN n int NOT NULL'); },
        async downgrade(op) { await op.dropColumn('candidates', 'n'); } };`,
      '004_unsafe.mjs': `export default { revision: '004_unsafe', downRevision: '003_unsafe', message: 'unsafe',
        async upgrade(op) { await op.createIndex('idx_n', 'candidates', ['n']); },
        async downgrade(op) { await op.dropIndex('idx_n'); } };`,
    });
    const bad = await withVersions(unsafe, 'lint');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/003_unsafe upgrade: index-not-concurrent: index idx_m on candidates is built without CONCURRENTLY\n {4}CREATE INDEX idx_m ON candidates \(status\)\n {4}accepted: candidates has no rows when this runs/);
    expect(bad.stdout).toMatch(/003_unsafe upgrade: not-null-without-default: column candidates\.n is added NOT NULL without a default\n {4}ALTER TABLE candidates ADD COLUMN n int NOT NULL\n {4}change it, or accept it in the revision: lint: \{ accept: \{ 'not-null-without-default': '<why it is safe here>' \} \}/);
    expect(oneLineError(bad)).toBe('error: 2 lint findings not accepted, in 003_unsafe, 004_unsafe');
    expect(JSON.parse((await withVersions(unsafe, 'lint', '--json')).stdout).map((f: { rule: string; accepted: string | null }) => [f.rule, f.accepted !== null])).toEqual([
      ['index-not-concurrent', true],
      ['not-null-without-default', false],
      ['index-not-concurrent', false],
    ]);
    const checked = await withVersions(unsafe, 'check', '--json');
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.stdout).lint.map((f: { revision: string }) => f.revision)).toEqual(['003_unsafe', '004_unsafe']);
    expect(oneLineError(checked)).toMatch(/2 lint findings not accepted, in 003_unsafe, 004_unsafe/);

    // The database lost an index the model has: the revision that restores it builds it on an existing table.
    // The model is the service's, so this runs every revision it has, and leaves the database at 002 again.
    const all = mkdtempSync(join(work, 'versions-all-'));
    cpSync(join(ROOT, 'migrations', 'versions'), all, { recursive: true });
    const next = String(readdirSync(all).filter((f) => /^\d{3}_.*\.ts$/.test(f)).length).padStart(3, '0');
    expect((await withVersions(all, 'upgrade', 'head')).code).toBe(0);
    expect((await withVersions(all, 'lint')).code).toBe(0);
    await db.exec('DROP INDEX idx_candidates_version');
    const gen = await withVersions(all, 'revision', '--autogenerate', '-m', 'restore index');
    await db.exec('CREATE INDEX idx_candidates_version ON candidates (id, version)');
    rmSync(join(all, `${next}_restore_index.ts`), { force: true });
    expect((await withVersions(all, 'downgrade', HEAD)).code).toBe(0);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stderr).toMatch(new RegExp(`WARNING: lint: ${next}_restore_index upgrade: index-not-concurrent:`));
    expect(gen.stderr).toMatch(/WARNING: lint: \d{3}_restore_index upgrade: index-not-concurrent: index idx_candidates_version on candidates is built without CONCURRENTLY \(CREATE INDEX idx_candidates_version ON candidates \(id, version\)\); change it, or accept it/);
  }, 180_000);

  it('never says ok when it is not: wrong-way relative steps, --sql ranges that need the database, empty ranges', async () => {
    const refusals: [string[], number, RegExp][] = [
      [['upgrade', '-1'], 1, /'upgrade -1' would move down: use 'downgrade -1'/],
      [['downgrade', '+1'], 1, /'downgrade \+1' would move up: use 'upgrade \+1'/],
      [['upgrade', '+1'], 1, /'\+1' goes past the top/],
      [['upgrade', '001'], 1, /001_add_version_column is below the current revision \(002_add_rejection_reason\): not an upgrade target; use downgrade/],
      [['upgrade', '--sql', 'current:head'], 2, /'current' is relative to the database's current revision, which --sql does not read/],
      [['upgrade', '--sql', '+1'], 2, /'\+1' is relative to the database's current revision/],
      [['upgrade', '--sql', 'head:base'], 1, /upgrade --sql head:base: the range holds no upgrade step \(did you mean 'downgrade --sql head:base'\?\)/],
      [['downgrade', '--sql', 'base:head'], 1, /cannot downgrade to 002_add_rejection_reason: it is not applied/],
    ];
    for (const [args, code, message] of refusals) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(oneLineError(r)).toMatch(message);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect(await current()).toBe(`${HEAD} (head)`);
  });
});

/**
 * What only the process does, through the compiled CLI as a user runs it:
 * the environment picks the database (DATABASE_URL, DATA_DIR), each command
 * opens and closes it, --version, the exit status, and an embedded data
 * directory is refused while another process holds it.
 */
describe.each(engines)('migrate CLI as a process on $name', (engine) => {
  let tdb: TestDatabase;
  let work: string;
  let env: Record<string, string>;
  const run = (...args: string[]): Run => migrate(args, env);
  const current = (): string => run('current').stdout.trim();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'migrate-cli-'));
    tdb = await engine.create();
    env = { MIGRATIONS_DIR: PYTHON_ERA, ...(tdb.url ? { DATABASE_URL: tdb.url } : { DATA_DIR: join(work, 'pgdata') }) };
  });
  beforeEach(() => {
    const up = run('upgrade', 'head');
    if (up.code !== 0) throw new Error(up.stderr);
  });
  afterAll(async () => {
    await tdb.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('upgrades step by step, printing revision, message and time', () => {
    expect(run('downgrade', 'base').code).toBe(0);
    const r = run('upgrade', 'head');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/upgrade <base> -> 000_initial_schema, Initial schema for candidates table \.\.\. \d+ ms/);
    expect(r.stdout).toMatch(/upgrade 001_add_version_column -> 002_add_rejection_reason, .* \.\.\. \d+ ms/);
    expect(r.stdout).toMatch(/upgrade done: 3 steps in .*, now at 002_add_rejection_reason \(head\)/);
    expect(current()).toBe(`${HEAD} (head)`);
    expect(run('upgrade', 'head').stdout).toMatch(/nothing to do: already at 002_add_rejection_reason/);
  });

  it('prints its version, and exits 2 on a usage error', () => {
    expect(run('frobnicate').code).toBe(2);
    const r = run('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('renders SQL offline without a database', () => {
    const r = migrate(['upgrade', '--sql', 'base:head'], { MIGRATIONS_DIR: PYTHON_ERA, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CREATE TABLE candidates/);
    expect(r.stdout).toMatch(/UPDATE public\.alembic_version SET version_num = '002_add_rejection_reason' WHERE version_num = '001_add_version_column';\nCOMMIT;/);
    // 001 builds its index between its two transactions.
    expect(r.stdout).toMatch(/ADD COLUMN version INTEGER DEFAULT '1' NOT NULL;\nCOMMIT;\n-- \(outside a transaction: this operation cannot run inside one\)\nCREATE INDEX CONCURRENTLY idx_candidates_version ON candidates \(id, version\);\nBEGIN;\n/);
    expect(r.stdout.match(/^BEGIN;$/gm)).toHaveLength(4);
    expect(r.stdout.match(/^COMMIT;$/gm)).toHaveLength(4);
    const down = migrate(['downgrade', '--sql', 'head:001'], { MIGRATIONS_DIR: PYTHON_ERA });
    expect(down.stdout).toMatch(/-- WARNING: dropping candidates.rejection_reason/);
  });

  if (engine.name === 'pglite') {
    it('refuses to open an embedded data directory another process holds', async () => {
      const holder = await openDatabase({ kind: 'embedded', dataDir: env.DATA_DIR! });
      try {
        const r = run('current');
        expect(r.code).toBe(1);
        expect(oneLineError(r)).toMatch(new RegExp(`embedded database .* is in use by process ${process.pid}`));
      } finally {
        await holder.close();
      }
      expect(current()).toBe(`${HEAD} (head)`);
    });
  }
});

const server = new URL(SERVER_ADMIN_URL);
const refusedLogin: [Record<string, string>, RegExp][] = engines.some((e) => e.name === 'server')
  ? [[{ DATABASE_URL: `postgres://no_such_role:s3cret-pw@${server.host}/postgres` }, new RegExp(`PostgreSQL at ${server.host}/postgres refused the login: .*no_such_role`)]]
  : [];

describe('migrate CLI configuration errors', () => {
  it.each([
    [{ DATABASE_URL: 'mysql://root@localhost/db' }, /DATABASE_URL must start with postgres:\/\/, postgresql:\/\/ or postgresql\+asyncpg:\/\/ \(got mysql:\/\/\)/],
    [{ DATABASE_URL: 'postgresql+asyncpg://u:s3cret-pw@127.0.0.1:1/db' }, /cannot reach PostgreSQL at 127.0.0.1:1\/db: connection refused/],
    [{ DATABASE_URL: 'postgres://u:s3cret-pw@127.0.0.1:99999/db' }, /DATABASE_URL (is not a valid URL|has an invalid port)/],
    [{ DATA_DIR: 'package.json/pgdata' }, /cannot create the embedded database's folder .*package\.json: (EEXIST|ENOTDIR)/],
    ...refusedLogin,
  ] as [Record<string, string>, RegExp][])('%j gives one line, exit 1, and never the password', (env, message) => {
    const r = migrate(['current'], env);
    expect(r.code).toBe(1);
    expect(oneLineError(r)).toMatch(message);
    expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
  });
});
