import { readFileSync } from 'node:fs';
import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { renderOp } from '../../src/migrate/ops/render.js';
import { migratorFor } from '../../src/migrations.js';
import { candidateColumnComments, candidates, decisionClaims, loginAttempts } from '../../src/model/index.js';
import { catalog } from '../support/catalog.js';
import { testEngines, type TestDatabase } from '../support/databases.js';

/** The revisions the Python service wrote, whose catalogs its DDL gives; then this service's own. */
const REVS = ['000_initial_schema', '001_add_version_column', '002_add_rejection_reason'] as const;
const PYTHON_HEAD = REVS[2];
const ALL = [...REVS, '003_claims_and_login_attempts'] as const;
const HEAD = ALL[ALL.length - 1];

/** The Python service's DDL, per revision (test/fixtures/python-alembic.sql). */
const pythonDdl: Map<string, string> = (() => {
  const text = readFileSync(new URL('../fixtures/python-alembic.sql', import.meta.url), 'utf8');
  const out = new Map<string, string>();
  for (const part of text.split(/^-- revision: /m).slice(1)) {
    const nl = part.indexOf('\n');
    out.set(part.slice(0, nl).trim(), part.slice(nl + 1));
  }
  return out;
})();

async function buildLikePython(db: Database, upTo: string): Promise<void> {
  for (const rev of REVS) {
    await db.exec(pythonDdl.get(rev)!);
    if (rev === upTo) return;
  }
}

const engines = await testEngines();

describe.each(engines)('migrations on $name', (engine) => {
  const created: { t: TestDatabase; db: Database }[] = [];
  // Every test gets empty databases of its own: a new in-memory PGlite, or a new server database.
  const fresh = async (): Promise<Database> => {
    const t = await engine.create();
    const db = await t.open();
    created.push({ t, db });
    return db;
  };

  // Closed after each test, not at the end: an in-memory PGlite holds a few hundred MB until then.
  afterEach(async () => {
    for (const { t, db } of created.splice(0)) {
      await db.close().catch(() => {});
      await t.drop();
    }
  });

  it('has a single head', async () => {
    const m = await migratorFor(await fresh());
    expect(m.heads()).toEqual([HEAD]);
  });

  it('runs each step up and down, recording each revision', async () => {
    const m = await migratorFor(await fresh());
    for (const rev of ALL) {
      const steps = await m.upgrade('+1');
      expect(steps.map((s) => s.step.revision)).toEqual([rev]);
      expect(await m.current()).toEqual([rev]);
    }
    for (const rev of [...ALL].reverse()) {
      expect(await m.current()).toEqual([rev]);
      await m.downgrade('-1');
    }
    expect(await m.current()).toEqual([]);
  });

  it('survives the stairway: up, down, up at every revision', async () => {
    const db = await fresh();
    const m = await migratorFor(db);
    for (const rev of ALL) {
      await m.upgrade('+1');
      const before = await catalog(db);
      await m.downgrade('-1');
      await m.upgrade('+1');
      expect(await catalog(db)).toEqual(before);
      expect(await m.current()).toEqual([rev]);
    }
  });

  it('builds, at each revision, the catalog the Python service built', async () => {
    const ours = await fresh();
    const theirs = await fresh();
    const m = await migratorFor(ours);
    for (const rev of REVS) {
      await m.upgrade(rev);
      await theirs.exec(pythonDdl.get(rev)!);
      expect(await catalog(ours)).toEqual(await catalog(theirs));
    }
  });

  it('matches the Drizzle model at head (columns, types, defaults, nullability, comments, constraints, indexes)', async () => {
    const migrated = await fresh();
    await (await migratorFor(migrated)).upgrade('head');
    const fromModel = await fresh();
    const ddl = await generateMigration(generateDrizzleJson({}), generateDrizzleJson({ candidates, decisionClaims, loginAttempts }));
    for (const statement of ddl) await fromModel.exec(statement);
    for (const [column, text] of Object.entries(candidateColumnComments)) {
      await fromModel.exec(renderOp({ op: 'setComment', on: { table: 'candidates', column }, comment: text }));
    }
    const only = { tables: ['candidates', 'decision_claims', 'login_attempts'] };
    const a = await catalog(migrated, only);
    const b = await catalog(fromModel, only);
    expect(a.columns).toEqual(b.columns);
    expect(a.constraints).toEqual(b.constraints);
    // drizzle-kit writes USING btree and quotes names; PostgreSQL normalises both away.
    expect(a.indexes).toEqual(b.indexes);
  });

  it('leaves no trace after downgrading to base', async () => {
    const db = await fresh();
    const empty = await catalog(db);
    const m = await migratorFor(db);
    await m.upgrade('heads');
    await m.downgrade('base');
    const after = await catalog(db);
    // Only Alembic's version table remains, empty, as Alembic leaves it.
    expect({ ...after, tables: after.tables.filter((t) => t !== 'alembic_version') }).toEqual({
      ...empty,
      columns: after.columns.filter((c) => c.table === 'alembic_version'),
      constraints: after.constraints.filter((c) => c.table === 'alembic_version'),
      indexes: after.indexes.filter((i) => i.name.startsWith('alembic_version')),
    });
    expect(after.triggers).toEqual([]);
    expect(after.functions).toEqual([]);
    expect(await db.query('SELECT * FROM alembic_version')).toEqual([]);
  });

  it('keeps every row and value through base → 002 → base → 002 (the reasons 002 → 001 drops only when allowed, with a warning)', async () => {
    const db = await fresh();
    const warnings: string[] = [];
    const m = await migratorFor(db, (e) => e.type === 'warning' && warnings.push(e.message));
    const base = `company_name, contact_email, phone, products, truck_count, capacity_tons_per_day, location, status, provider_id`;
    const rowsOf = (cols: string) => db.query(`SELECT id, ${cols}, created_at FROM candidates ORDER BY contact_email`);

    await m.upgrade('000_initial_schema');
    await db.exec(`INSERT INTO candidates (${base}) VALUES
      ('A', 'a@x.io', '+1', '["apples"]', 1, 10, 'Haifa', 'approved', 7),
      ('B', 'b@x.io', NULL, NULL, NULL, NULL, NULL, 'pending', NULL)`);
    const at000 = await rowsOf(base);

    await m.upgrade('001_add_version_column');
    expect(await db.query(`SELECT DISTINCT version FROM candidates`)).toEqual([{ version: 1 }]);
    await db.exec(`INSERT INTO candidates (${base}) VALUES ('C', 'c@x.io', NULL, '["grapes","mangoes"]', 3, 30, NULL, 'pending', NULL)`);
    await db.exec(`UPDATE candidates SET status = 'rejected' WHERE contact_email = 'c@x.io'`);
    const at001 = await rowsOf(`${base}, version`);

    await m.upgrade('002_add_rejection_reason');
    await db.exec(`INSERT INTO candidates (${base}, rejection_reason) VALUES ('D', 'd@x.io', NULL, '["bananas"]', 2, 5, NULL, 'rejected', NULL, 'too far')`);
    const at002 = await rowsOf(`${base}, version, rejection_reason`);

    await expect(m.downgrade('001_add_version_column')).rejects.toThrow(/would drop column candidates.rejection_reason \(1 non-null value\)/);
    expect(await rowsOf(`${base}, version, rejection_reason`)).toEqual(at002);
    await m.downgrade('001_add_version_column', { allowDataLoss: true });
    expect(warnings).toEqual(['dropping candidates.rejection_reason discards 1 non-null value']);
    const back001 = await rowsOf(`${base}, version`);
    expect(back001).toEqual(at002.map(({ rejection_reason: _, ...r }) => r));
    expect(back001.slice(0, 3)).toEqual(at001);

    await m.downgrade('base', { allowDataLoss: true });
    await m.upgrade('000_initial_schema');
    expect(await rowsOf(base)).toEqual([]);

    // The same data through 000 → 001 → 000 keeps every value of 000's columns.
    await db.exec(`INSERT INTO candidates (${base}) VALUES
      ('A', 'a@x.io', '+1', '["apples"]', 1, 10, 'Haifa', 'approved', 7),
      ('B', 'b@x.io', NULL, NULL, NULL, NULL, NULL, 'pending', NULL)`);
    const again = await rowsOf(base);
    await m.upgrade('head');
    await m.downgrade('000_initial_schema', { allowDataLoss: true });
    expect(await rowsOf(base)).toEqual(again);
    expect(again.map(({ id: _i, created_at: _c, ...r }) => r)).toEqual(at000.map(({ id: _i, created_at: _c, ...r }) => r));
  });

  it('increments version and touches updated_at through the trigger at head', async () => {
    const db = await fresh();
    await (await migratorFor(db)).upgrade('head');
    const [row] = await db.query<{ id: string; version: number; updated_at: Date }>(
      `INSERT INTO candidates (company_name, contact_email, products, truck_count, capacity_tons_per_day)
       VALUES ('T', 't@x.io', '["apples"]', 1, 1) RETURNING id, version, updated_at`,
    );
    expect(row!.version).toBe(1);
    await db.exec(`UPDATE candidates SET updated_at = '2000-01-01' WHERE contact_email = 't@x.io'`);
    const [after] = await db.query<{ version: number; updated_at: Date }>(`SELECT version, updated_at FROM candidates WHERE id = $1`, [row!.id]);
    expect(after!.version).toBe(2);
    expect(new Date(after!.updated_at).getUTCFullYear()).toBeGreaterThan(2000);
    const triggers = await db.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE NOT tgisinternal`);
    expect(triggers.map((t) => t.tgname)).toEqual(['update_candidates_metadata']);
  });

  it('adopts a database the Python service built: read as 002, moved up, down and up', async () => {
    const db = await fresh();
    await buildLikePython(db, PYTHON_HEAD);
    await db.exec(`INSERT INTO candidates (company_name, contact_email, products, truck_count, capacity_tons_per_day)
                   VALUES ('P', 'p@x.io', '["oranges"]', 1, 1)`);
    const m = await migratorFor(db);
    expect(await m.current()).toEqual([PYTHON_HEAD]);
    expect((await m.upgrade('head')).map((r) => r.step.revision)).toEqual(ALL.slice(REVS.length));
    // Every row has a version (1): dropping that column is a loss to allow.
    await m.downgrade('000_initial_schema', { allowDataLoss: true });
    expect(await m.current()).toEqual(['000_initial_schema']);
    await m.upgrade(PYTHON_HEAD);
    const reference = await fresh();
    await buildLikePython(reference, PYTHON_HEAD);
    expect(await catalog(db)).toEqual(await catalog(reference));
    await m.upgrade('head');
    expect(await db.query('SELECT company_name FROM candidates')).toEqual([{ company_name: 'P' }]);
  });
});

describe.each(engines.filter((e) => e.name === 'server'))('concurrent migrators on $name', (engine) => {
  it('run each step once: the second waits for the lock, then finds nothing to do', async () => {
    const t = await engine.create();
    const [a, b] = [await t.open(), await t.open()];
    try {
      const results = await Promise.all([(await migratorFor(a)).upgrade('head'), (await migratorFor(b)).upgrade('head')]);
      expect(results.map((r) => r.length).sort()).toEqual([0, ALL.length]);
      expect(await (await migratorFor(a)).current()).toEqual([HEAD]);
    } finally {
      await a.close();
      await b.close();
      await t.drop();
    }
  });
});
