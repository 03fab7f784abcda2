import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/index.js';
import { commands, NoSchemaError, type MigrateConfig } from '../../src/migrate/index.js';
import { catalog, type Catalog } from '../support/catalog.js';
import { migrate, oneLineError, ROOT } from '../support/cli.js';
import { testEngines, type TestDatabase } from '../support/databases.js';
import { contextFor } from '../support/engine-context.js';

/**
 * adopt on the two kinds of database the Python service left: those its
 * container built from the init script (no version table, and drift from
 * 002), and those its Alembic built (002 exactly). 002 is named, never
 * "head": a later revision that only adds tables must not change a result.
 */
const REV = '002_add_rejection_reason';
const VERSIONS = join(ROOT, 'migrations', 'versions');
const fixture = (name: string): string => readFileSync(join(ROOT, 'test', 'fixtures', name), 'utf8');
const CONTAINER_SQL = fixture('python-container-schema.sql');
const ALEMBIC_SQL = fixture('python-alembic.sql');
const HOST: Partial<MigrateConfig> = { markerTable: 'candidates' };

/** The eight ways the container's schema differs from 002, as a reviewer reads them. */
const CONTAINER_DRIFT = [
  `column candidates.created_at: nullable in the database, NOT NULL in revision ${REV}`,
  `column candidates.updated_at: nullable in the database, NOT NULL in revision ${REV}`,
  `column candidates.version: comment none in the database, "Optimistic locking version - increments on each update to prevent race conditions" in revision ${REV}`,
  `column candidates.rejection_reason: comment none in the database, "Optional explanation provided when a candidate application is rejected" in revision ${REV}`,
  `constraint on candidates (CHECK ((capacity_tons_per_day > 0))): named candidates_capacity_tons_per_day_check in the database, capacity_positive in revision ${REV}`,
  `constraint on candidates (CHECK ((truck_count > 0))): named candidates_truck_count_check in the database, truck_count_positive in revision ${REV}`,
  `index idx_candidates_created_at on candidates: CREATE INDEX idx_candidates_created_at ON candidates USING btree (created_at DESC) in the database, CREATE INDEX idx_candidates_created_at ON candidates USING btree (created_at) in revision ${REV}`,
  `function update_candidates_updated_at(): in revision ${REV}, not in the database`,
];

/** A few thousand candidates as the Python service stored them: some rejected with a reason, the approved ones with a provider id, some updated since. */
const ROWS = `
INSERT INTO candidates (company_name, contact_email, phone, products, truck_count, capacity_tons_per_day, location, status, provider_id, rejection_reason, created_at, updated_at)
SELECT 'Company ' || i, 'c' || i || '@example.com', CASE WHEN i % 3 = 0 THEN NULL ELSE '050-' || i END,
       jsonb_build_array('apples', CASE WHEN i % 2 = 0 THEN 'oranges' ELSE 'grapes' END), 1 + i % 9, 10 + i % 50, 'City ' || i % 7,
       CASE WHEN i % 5 = 0 THEN 'approved' WHEN i % 7 = 0 THEN 'rejected' ELSE 'pending' END,
       CASE WHEN i % 5 = 0 THEN 1000 + i END,
       CASE WHEN i % 7 = 0 AND i % 5 <> 0 AND i % 2 = 0 THEN 'Reason ' || i END,
       timestamp '2024-01-01' + i * interval '1 minute', timestamp '2024-02-01' + i * interval '1 minute'
FROM generate_series(1, 3000) AS i;
UPDATE candidates SET location = location WHERE status = 'approved'`;

/** Every row and every value, as one comparable digest, plus the counts a reader checks by eye. */
async function rows(db: Database): Promise<{ n: number; digest: string; reasons: number; providers: number }> {
  const [r] = await db.query<{ n: number; digest: string; reasons: number; providers: number }>(
    `SELECT count(*)::int AS n, md5(string_agg(c::text, '|' ORDER BY id)) AS digest,
            count(rejection_reason)::int AS reasons, count(provider_id) FILTER (WHERE status = 'approved')::int AS providers
     FROM candidates c`,
  );
  return r!;
}

const engines = await testEngines();

describe.each(engines)('adopt on $name', (engine) => {
  let t: TestDatabase;
  let db: Database;
  /** What `upgrade 002_add_rejection_reason` builds on an empty database, stamp included. */
  let at002: Catalog;
  const ctx = () => contextFor(db, VERSIONS, undefined, HOST);

  beforeAll(async () => {
    t = await engine.create();
    db = await t.open();
    await commands.upgrade(ctx(), REV);
    at002 = await catalog(db);
  });
  afterAll(async () => {
    await db.close();
    await t.drop();
  });
  beforeEach(async () => {
    await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  });

  it('names 002 for a container-built database with rows, aligns it without losing a value, and the CLI works on it after', async () => {
    await db.exec(CONTAINER_SQL);
    await db.exec(ROWS);
    const before = await rows(db);
    expect(before).toMatchObject({ n: 3000, reasons: 172, providers: 600 });

    const r = await commands.adopt(ctx());
    expect(r).toMatchObject({ revision: REV, exact: false, recorded: [], refused: [], action: 'align', blocked: null });
    expect(r.differences).toEqual(CONTAINER_DRIFT);
    expect(r.nulls.map((n) => [n.column, n.rows])).toEqual([['created_at', 0], ['updated_at', 0]]);
    expect(r.steps.filter((s) => !s.transactional).map((s) => s.sql)).toEqual([
      'CREATE INDEX CONCURRENTLY idx_candidates_created_at_adopt ON candidates (created_at)',
      'DROP INDEX CONCURRENTLY idx_candidates_created_at',
      'ALTER INDEX idx_candidates_created_at_adopt RENAME TO idx_candidates_created_at',
    ]);
    // Renamed, not dropped and added again.
    expect(r.steps.some((s) => /DROP CONSTRAINT|ADD CONSTRAINT/.test(s.sql))).toBe(false);

    const script = await commands.adoptSql(ctx());
    expect(script).toContain(['BEGIN;', ...r.steps.filter((s) => s.transactional).map((s) => `${s.sql};`), 'COMMIT;'].join('\n'));
    expect(script).toContain(['CREATE INDEX CONCURRENTLY idx_candidates_created_at_adopt ON candidates (created_at);', 'DROP INDEX CONCURRENTLY idx_candidates_created_at;'].join('\n'));
    expect(script).toContain(`INSERT INTO public.alembic_version (version_num) VALUES ('${REV}');\nCOMMIT;`);

    const applied = await commands.applyAdoption(ctx(), { reviewed: r.steps });
    expect(applied).toMatchObject({ revision: REV, from: [], to: [REV] });
    expect(await catalog(db)).toEqual(at002);
    expect(await rows(db)).toEqual(before);
    expect((await commands.adopt(ctx())).action).toBe('none');

    await commands.upgrade(ctx(), 'head');
    expect((await commands.check(ctx())).differences).toEqual([]);
    expect((await commands.check(ctx())).clean).toBe(true);
    const atHead = await catalog(db);
    await commands.downgrade(ctx(), '-1');
    await commands.upgrade(ctx(), 'head');
    expect(await catalog(db)).toEqual(atHead);
    expect((await commands.check(ctx())).clean).toBe(true);
  });

  it('refuses a null created_at with the count and changes nothing; --fill-nulls fills it from updated_at with the triggers off', async () => {
    await db.exec(CONTAINER_SQL);
    await db.exec(ROWS);
    // Inserted so (an UPDATE would have its updated_at set by the trigger): three without created_at, one without either.
    await db.exec(`INSERT INTO candidates (company_name, contact_email, created_at, updated_at) VALUES
      ('N1', 'n1@example.com', NULL, '2024-03-01 10:00'), ('N2', 'n2@example.com', NULL, '2024-03-02 10:00'),
      ('N3', 'n3@example.com', NULL, '2024-03-03 10:00'), ('N4', 'n4@example.com', NULL, NULL)`);
    const [schema, data] = [await catalog(db), await rows(db)];

    const r = await commands.adopt(ctx());
    expect(r.nulls.map((n) => [n.column, n.rows])).toEqual([['created_at', 4], ['updated_at', 1]]);
    expect(r.action).toBe('refuse');
    const refusal = 'candidates.created_at is null in 4 rows, candidates.updated_at is null in 1 row, so NOT NULL cannot be set; nothing was changed';
    expect(r.blocked).toBe(`${refusal} (--fill-nulls sets created_at to COALESCE(created_at, updated_at, CURRENT_TIMESTAMP), updated_at to COALESCE(updated_at, created_at, CURRENT_TIMESTAMP))`);
    await expect(commands.applyAdoption(ctx())).rejects.toThrow(refusal);
    await expect(commands.adoptSql(ctx())).rejects.toThrow(refusal);
    expect(await catalog(db)).toEqual(schema);
    expect(await rows(db)).toEqual(data);

    await commands.applyAdoption(ctx(), { fillNulls: true });
    expect(await catalog(db)).toEqual(at002);
    const filled = await db.query<{ created: string; same: boolean; version: number }>(
      `SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI') AS created, created_at = updated_at AS same, version
       FROM candidates WHERE contact_email LIKE 'n_@example.com' ORDER BY contact_email`,
    );
    // n1..n3 took their updated_at; n4 had neither and took the transaction's one CURRENT_TIMESTAMP for both.
    expect(filled.slice(0, 3).map((f) => f.created)).toEqual(['2024-03-01 10:00', '2024-03-02 10:00', '2024-03-03 10:00']);
    expect(filled.map((f) => f.same)).toEqual([true, true, true, true]);
    // The version trigger stayed off: a fill is no update of the candidate, and updated_at kept its value.
    expect(filled.map((f) => f.version)).toEqual([1, 1, 1, 1]);
    expect((await rows(db)).n).toBe(3004);
  });

  it('reports an Alembic-built 002 as an exact match, left alone when stamped and stamped when not', async () => {
    await db.exec(ALEMBIC_SQL);
    const r = await commands.adopt(ctx());
    expect(r).toMatchObject({ revision: REV, exact: true, recorded: [REV], differences: [], steps: [], action: 'none' });
    expect(await commands.applyAdoption(ctx())).toMatchObject({ steps: [], from: [REV], to: [REV] });

    await db.exec('DROP TABLE alembic_version');
    expect(await commands.adopt(ctx())).toMatchObject({ revision: REV, exact: true, recorded: [], action: 'stamp' });
    expect(await commands.applyAdoption(ctx())).toMatchObject({ steps: [], from: [], to: [REV] });
    expect(await catalog(db)).toEqual(at002);
  });

  it('reports a hand-added column beyond every revision and never removes it', async () => {
    await db.exec(ALEMBIC_SQL);
    await db.exec(`ALTER TABLE candidates ADD COLUMN notes text DEFAULT 'n/a'`);
    const r = await commands.adopt(ctx());
    const extra = `column candidates.notes: in the database, not in revision ${REV}`;
    expect(r).toMatchObject({ revision: REV, exact: false, differences: [extra], refused: [extra], action: 'refuse' });
    await expect(commands.applyAdoption(ctx())).rejects.toThrow(`1 difference from revision ${REV} is not adopt's to repair (${extra})`);
    expect((await catalog(db)).columns.some((c) => c.name === 'notes')).toBe(true);
  });

  it('exits 2 on a database without the candidates table', async () => {
    await db.exec('CREATE TABLE unrelated (id int)');
    const e = await commands.adopt(ctx()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoSchemaError);
    expect((e as NoSchemaError).exitCode).toBe(2);
    expect((e as Error).message).toMatch(/has no table candidates in schema public: nothing to adopt/);
  });
});

// Once, on the server when there is one (a CLI run on the embedded database starts two PGlites per command).
describe(`migrate adopt, the compiled CLI, on ${engines.at(-1)!.name}`, () => {
  let t: TestDatabase;
  let work: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await engines.at(-1)!.create();
    work = mkdtempSync(join(tmpdir(), 'migrate-adopt-'));
    env = t.url ? { DATABASE_URL: t.url } : { DATA_DIR: join(work, 'pgdata') };
    const db = t.url ? await t.open() : await openDatabase({ kind: 'embedded', dataDir: env.DATA_DIR! });
    await db.exec(CONTAINER_SQL);
    await db.exec(ROWS);
    await db.close();
  });
  afterAll(async () => {
    await t.drop();
    rmSync(work, { recursive: true, force: true });
  });

  // Each command starts a scratch PGlite to build the revisions in: a few seconds each on a busy machine.
  it('shows the drift (exit 1), wants --yes off a terminal (exit 2), applies, and then finds the exact match (exit 0)', { timeout: 180_000 }, () => {
    const shown = migrate(['adopt'], env);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain('Version table: none (never stamped)');
    expect(shown.stdout).toContain(`Closest revision: ${REV}, 8 differences`);
    for (const d of CONTAINER_DRIFT) expect(shown.stdout).toContain(`  - ${d}`);
    expect(shown.stdout).toContain('Null check: candidates.created_at is null in 0 rows');
    expect(oneLineError(shown)).toBe(`error: 8 differences from revision ${REV}: 'adopt --apply' aligns the database with it and stamps it`);

    const asked = migrate(['adopt', '--apply'], env);
    expect(asked.code).toBe(2);
    expect(oneLineError(asked)).toMatch(/not on a terminal, so add --yes to confirm$/);

    const applied = migrate(['adopt', '--apply', '--yes'], env);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/aligned: 10 statements in .*; stamped <base> -> 002_add_rejection_reason\n$/);

    const after = migrate(['adopt', '--json'], env);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ revision: REV, exact: true, recorded: [REV], action: 'none' });
  });
});
