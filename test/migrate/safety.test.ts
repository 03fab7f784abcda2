import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { migrate, oneLineError, pythonEraVersions, ROOT, type Run } from '../support/cli.js';
import { testEngines, type TestDatabase } from '../support/databases.js';

// Through the CLI, a dozen processes per test: on PGlite each opens the data
// directory anew (seconds each), so these run on the server; the same guards
// run in process on PGlite in migrations.test.ts.
const engines = (await testEngines()).filter((e) => e.name === 'server');
const HEAD = '002_add_rejection_reason';
// The guards are shown on the Python service's three revisions (their output is quoted below).
const PYTHON_ERA = pythonEraVersions();
afterAll(() => rmSync(PYTHON_ERA, { recursive: true, force: true }));

/** The guards of issue 8 through the CLI, as an operator meets them. */
describe.each(engines)('deploy guards on $name', (engine) => {
  let work: string;
  const dbs: TestDatabase[] = [];
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'migrate-safety-'));
  });
  afterAll(async () => {
    for (const t of dbs) await t.drop();
    rmSync(work, { recursive: true, force: true });
  });
  /** A database of its own, and the CLI bound to it (and to a versions folder). */
  const fresh = async (versions?: string) => {
    const t = await engine.create();
    dbs.push(t);
    const env: Record<string, string> = t.url ? { DATABASE_URL: t.url } : { DATA_DIR: mkdtempSync(join(work, 'pg-')) };
    const run = (...args: string[]): Run => migrate(args, { ...env, MIGRATIONS_DIR: versions ?? PYTHON_ERA });
    const sql = async <R>(text: string, script = false): Promise<R[]> => {
      const db = await openDatabase(t.url ? t.target : { kind: 'embedded', dataDir: env.DATA_DIR! });
      try {
        if (!script) return await db.query<R>(text);
        await db.exec(text);
        return [];
      } finally {
        await db.close();
      }
    };
    return { run, sql, env };
  };
  const versionsWith = (files: Record<string, string>, edit?: (name: string, text: string) => string): string => {
    const dir = mkdtempSync(join(work, 'versions-'));
    cpSync(PYTHON_ERA, dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    if (edit) for (const name of ['001_add_version_column.ts']) writeFileSync(join(dir, name), edit(name, readFileSync(join(dir, name), 'utf8')));
    return dir;
  };

  it('finds what raw SQL drops from its parse, refuses it over data, and marks it in --sql', async () => {
    const dir = versionsWith({
      '003_raw.ts': `export default {
        revision: '003_raw', downRevision: '${HEAD}', message: 'raw notes',
        async upgrade(op) { await op.execute('ALTER TABLE candidates ADD COLUMN notes text; CREATE TABLE scratch (x int)'); },
        async downgrade(op) { await op.execute('DROP TABLE scratch; ALTER TABLE public.candidates DROP COLUMN notes'); },
      };`,
    });
    const { run, sql } = await fresh(dir);
    expect(run('upgrade', 'head').code).toBe(0);
    await sql(`INSERT INTO candidates (company_name, contact_email, notes) VALUES ('N', 'n@x.io', 'keep me'), ('M', 'm@x.io', NULL)`);
    await sql(`INSERT INTO scratch VALUES (1), (2)`);
    const r = run('downgrade', '-1');
    expect(r.code).toBe(1);
    expect(oneLineError(r)).toMatch(
      /^error: downgrade 003_raw -> 002_add_rejection_reason would drop table scratch \(2 rows\), column public\.candidates\.notes \(1 non-null value\); nothing was changed/,
    );
    expect(await sql('SELECT notes FROM candidates ORDER BY notes')).toEqual([{ notes: 'keep me' }, { notes: null }]);
    expect(run('current').stdout.trim()).toBe('003_raw (head)');
    const offline = run('downgrade', '--sql', '003_raw:002_add_rejection_reason');
    expect(offline.stdout).toMatch(/-- DATA LOSS: drops table scratch and every value in it\n-- DATA LOSS: drops column public\.candidates\.notes and every value in it\nDROP TABLE scratch;/);
    expect(run('downgrade', '-1', '--allow-data-loss').code).toBe(0);
  });

  it('records each step with its checksum beside an untouched alembic_version, and refuses an edited applied revision until accepted', async () => {
    const { run, sql, env } = await fresh();
    expect(run('upgrade', 'head').code).toBe(0);
    const h = run('history', '--applied');
    expect(h.code).toBe(0);
    const lines = h.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}upgrade {3}000_initial_schema +[0-9a-f]{12} +\d+ ms {2}\S+ \/ \S+@\S+$/);
    expect(await sql(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'alembic_version'`)).toEqual([
      { column_name: 'version_num', data_type: 'character varying' },
    ]);

    // The same revision, with one statement changed after it was applied.
    const edited = versionsWith({}, (_, text) => text.replace("['id', 'version']", "['version', 'id']"));
    const withEdit = (...args: string[]): Run => migrate(args, { ...env, MIGRATIONS_DIR: edited });
    for (const args of [['upgrade', 'head'], ['downgrade', '-1']]) {
      const r = withEdit(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(oneLineError(r)).toMatch(/^error: applied revision changed since it ran: 001_add_version_column \(recorded [0-9a-f]{12}, now [0-9a-f]{12}\); nothing was changed: restore the file, or review the change and run 'accept-checksum <rev>'$/);
    }
    expect(withEdit('current').stdout.trim()).toBe(`${HEAD} (head)`);
    const accepted = withEdit('accept-checksum', '001');
    expect(accepted.stdout).toMatch(/^001_add_version_column: accepted checksum [0-9a-f]{12} \(was [0-9a-f]{12}\)/);
    expect(withEdit('downgrade', '-1').code).toBe(0);
    expect(withEdit('history', '--applied').stdout).toMatch(/accept +001_add_version_column[^\n]*\n[^\n]*downgrade 002_add_rejection_reason/);
    // Comments and formatting are not what a revision runs: no refusal.
    const reformatted = versionsWith({}, (_, text) => `// reviewed\n${text.replace("['id', 'version']", "[\n  'version',\n  'id',\n]").replace(/\n\s*\n/g, '\n')}`);
    expect(migrate(['upgrade', 'head'], { ...env, MIGRATIONS_DIR: reformatted }).code).toBe(0);
  });

  it("accepts the checksum of 001 as an earlier version of this service applied it (index built without CONCURRENTLY), which the revision names", async () => {
    const { run, sql } = await fresh();
    expect(run('upgrade', 'head').code).toBe(0);
    const earlier = 'fb7bc5cb349f66bf533b75ab3fb38f2b454564307350cb723b8a8429ab55ff7c';
    await sql(`UPDATE alembic_version_history SET checksum = '${earlier}' WHERE revision = '001_add_version_column'`);
    // These three revisions lack the model's newer tables, so check differs from it, but finds no changed revision.
    expect(JSON.parse(run('check', '--json').stdout)).toMatchObject({ changedChecksums: [] });
    const r = run('upgrade', 'head');
    expect(r.code, r.stderr).toBe(0);
    const rows = await sql<{ direction: string; checksum: string }>("SELECT direction, checksum FROM alembic_version_history WHERE revision = '001_add_version_column' ORDER BY id");
    expect(rows.map((x) => x.direction)).toEqual(['upgrade', 'accept']);
    expect(rows[1]!.checksum).not.toBe(earlier);
    // Any other recorded checksum is still a changed revision.
    await sql(`UPDATE alembic_version_history SET checksum = '${'0'.repeat(64)}' WHERE revision = '001_add_version_column'`);
    expect(oneLineError(run('upgrade', 'head'))).toMatch(/^error: applied revision changed since it ran: 001_add_version_column \(recorded 000000000000,/);
  });

  it('records a database Alembic built on its first run, without complaint', async () => {
    const { run, sql } = await fresh();
    const fixture = readFileSync(join(ROOT, 'test', 'fixtures', 'python-alembic.sql'), 'utf8');
    await sql(fixture, true);
    const r = run('upgrade', 'head');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing to do/);
    const rows = await sql<{ revision: string; direction: string }>('SELECT revision, direction FROM alembic_version_history ORDER BY id');
    expect(rows).toEqual(['000_initial_schema', '001_add_version_column', HEAD].map((revision) => ({ revision, direction: 'baseline' })));
    expect(run('upgrade', 'head').stdout).toMatch(/nothing to do/);
    expect((await sql('SELECT count(*)::int AS n FROM alembic_version_history'))[0]).toEqual({ n: 3 });
  });
});
