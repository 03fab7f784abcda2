import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, jsonb, pgTable, serial, text, unique, uuid, varchar } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { commands } from '../../src/migrate/index.js';
import { candidateColumnComments, candidateColumns, candidateConstraints, candidateRoutines } from '../../src/model/candidates.js';
import { MODEL, type ModelParts } from '../../src/model/ddl.js';
import { catalog, type Catalog } from '../support/catalog.js';
import { migrate, ROOT } from '../support/cli.js';
import { testEngines, type TestDatabase } from '../support/databases.js';
import { contextFor, scratchVersions } from '../support/engine-context.js';

const engines = await testEngines();

const byColumnName = (c: Catalog): Catalog => ({ ...c, columns: [...c.columns].sort((a, b) => `${a.table}.${a.name}`.localeCompare(`${b.table}.${b.name}`)) });
/** The project's head: generated revisions build on it, whatever it is today. */
const HEAD = readdirSync(join(ROOT, 'migrations', 'versions')).filter((f) => /^\d{3}_.*\.ts$/.test(f)).sort().at(-1)!.replace(/\.ts$/, '');

type Cols = ReturnType<typeof candidateColumns>;

/** The model with the candidates table changed: columns edited, constraints added, or both. */
function changed(o: { columns?: (c: Cols) => Record<string, unknown>; extra?: (t: never) => unknown[]; comments?: Record<string, string>; routines?: readonly string[]; tables?: Record<string, unknown> }): ModelParts {
  const columns = o.columns ? o.columns(candidateColumns()) : candidateColumns();
  const table = pgTable('candidates', columns as Cols, (t) => [...candidateConstraints(t as never), ...(o.extra?.(t as never) ?? [])] as never);
  return {
    tables: { ...MODEL.tables, candidates: table, ...(o.tables ?? {}) },
    comments: { candidates: o.comments ?? candidateColumnComments },
    routines: o.routines ?? candidateRoutines,
  };
}

const providerNotes = (candidates: ReturnType<typeof pgTable>) =>
  pgTable(
    'provider_notes',
    { id: serial('id').primaryKey(), candidateId: uuid('candidate_id').notNull(), note: text('note').notNull() },
    (t) => [foreignKey({ name: 'provider_notes_candidate_fk', columns: [t.candidateId], foreignColumns: [(candidates as never as { id: never }).id] }).onDelete('cascade'), index('idx_provider_notes_candidate').on(t.candidateId)],
  );

const CASES: [string, () => ModelParts][] = [
  ['a column added with a default', () => changed({ columns: (c) => ({ ...c, notes: text('notes').default('none').notNull() }) })],
  ['a column dropped', () => changed({ columns: ({ location: _, ...c }) => c })],
  ['nullability changed', () => changed({ columns: (c) => ({ ...c, phone: varchar('phone', { length: 50 }).notNull() }) })],
  ['a type widened', () => changed({ columns: (c) => ({ ...c, phone: varchar('phone', { length: 100 }), truckCount: bigint('truck_count', { mode: 'number' }) }) })],
  ['an index added and one dropped', () => ({ ...changed({ extra: (t: { providerId: never }) => [index('idx_candidates_provider').on(t.providerId)] }) })],
  ['a GIN index on a new jsonb column', () => changed({ columns: (c) => ({ ...c, tags: jsonb('tags') }), extra: (t: { tags: never }) => [index('idx_candidates_tags').using('gin', t.tags)] })],
  ['a partial, descending index', () => changed({ extra: (t: { createdAt: { desc(): never } }) => [index('idx_candidates_pending').on(t.createdAt.desc()).where(sql`status = 'pending'`)] })],
  ['check and unique constraints', () => changed({ extra: (t: { phone: never }) => [check('provider_positive', sql`provider_id > 0`), unique('candidates_phone_key').on(t.phone)] })],
  ['a comment', () => changed({ comments: { ...candidateColumnComments, rejection_reason: 'Why the candidate was turned down', location: 'City, region' } })],
  ['a changed trigger function', () => changed({ routines: candidateRoutines.map((r) => r.replace('NEW.version = OLD.version + 1;', 'NEW.version = OLD.version + 2;')) })],
];

describe.each(engines)('authoring on $name', (engine) => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await engine.create();
    db = await t.open();
  });
  afterAll(async () => {
    await db.close();
    await t.drop();
  });
  // Every test starts from an empty schema brought to head by the project's own revisions.
  beforeEach(async () => {
    await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    await commands.upgrade(contextFor(db, join(ROOT, 'migrations', 'versions')), 'head');
  });

  it('finds nothing to change at head: no file, and check is clean', async () => {
    const dir = scratchVersions();
    const r = await commands.autogenerate(contextFor(db, dir), { message: 'nothing' });
    expect(r.path).toBeNull();
    expect(r.changes).toEqual([]);
    expect((await commands.check(contextFor(db, dir))).clean).toBe(true);
    const empty = await commands.autogenerate(contextFor(db, dir), { message: 'on purpose', allowEmpty: true });
    expect(readFileSync(empty.path!, 'utf8')).toContain("// await op.addColumn('table', 'column', { type: 'text' });");
  });

  it.each(CASES)('%s: generated, upgraded, checked clean, downgraded back exactly; --sql builds the same', async (_name, model) => {
    const dir = scratchVersions();
    const before = await catalog(db);
    const parts = model();
    const stale = await commands.check(contextFor(db, dir, parts));
    expect(stale.clean).toBe(false);
    expect(stale.differences.length).toBeGreaterThan(0);
    const gen = await commands.autogenerate(contextFor(db, dir, parts), { message: 'model change' });
    expect(gen.path).toMatch(/\d{3}_model_change\.ts$/);
    const up = await commands.upgrade(contextFor(db, dir, parts), 'head');
    expect(up.current).toEqual([gen.revision]);
    expect((await commands.check(contextFor(db, dir, parts))).differences).toEqual([]);
    const after = await catalog(db);
    await commands.downgrade(contextFor(db, dir, parts), '-1');
    // A column dropped and restored comes back last: PostgreSQL cannot put it back in its place.
    expect(byColumnName(await catalog(db))).toEqual(byColumnName(before));

    const script = await commands.sql(contextFor(db, dir, parts), 'upgrade', `${HEAD}:head`);
    if (t.url) {
      // On the server, as a DBA would apply it: psql, stopping at the first error.
      const file = join(dir, '..', 'upgrade.sql');
      writeFileSync(file, script);
      execFileSync('psql', ['-q', '-X', '-v', 'ON_ERROR_STOP=1', '-d', t.url, '-f', file], { stdio: 'pipe' });
    } else {
      await db.session((s) => s.exec(script));
    }
    expect(await catalog(db)).toEqual(after);
  });

  it('writes a rename only when asked; otherwise the drop carries DATA LOSS and the possible rename', async () => {
    const parts = changed({ columns: ({ location: _, ...c }) => ({ ...c, city: varchar('city', { length: 255 }) }) });
    const plain = await commands.autogenerate(contextFor(db, scratchVersions(), parts), { message: 'city' });
    const text = readFileSync(plain.path!, 'utf8');
    expect(plain.dataLoss).toEqual(['column candidates.location']);
    expect(text).toContain('// DATA LOSS: drops column candidates.location and every value in it');
    expect(text).toContain('// Possible rename: candidates.city has the same type; if so, run again with --rename candidates.location=city');
    const { parseRename } = await import('../../src/migrate/autogen/plan.js');
    const renamed = await commands.autogenerate(contextFor(db, scratchVersions(), parts), { message: 'city', renames: [parseRename('candidates.location=city')] });
    expect(renamed.dataLoss).toEqual([]);
    expect(readFileSync(renamed.path!, 'utf8')).toContain("await op.renameColumn('candidates', 'location', 'city');");
    await expect(commands.autogenerate(contextFor(db, scratchVersions(), parts), { message: 'x', renames: [parseRename('candidates.phone=city')] })).rejects.toThrow(
      /--rename candidates.phone=city: no such column disappears while that one appears/,
    );
  });

  it('check leaves the history table out of the comparison, and refuses an applied revision edited since it ran', async () => {
    const dir = scratchVersions();
    expect(await db.query(`SELECT to_regclass('alembic_version_history') IS NOT NULL AS present`)).toEqual([{ present: true }]);
    const file = join(dir, '002_add_rejection_reason.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace("'Optional explanation provided", "'Edited: optional explanation provided"));
    const c = await commands.check(contextFor(db, dir));
    expect(c.differences).toEqual([]);
    expect(c.changedChecksums.map((x) => x.revision)).toEqual(['002_add_rejection_reason']);
    expect(c.clean).toBe(false);
  });

  it('refuses to generate from a database that is not at head, naming what to upgrade to', async () => {
    await commands.downgrade(contextFor(db, join(ROOT, 'migrations', 'versions')), '-1');
    await expect(commands.autogenerate(contextFor(db, scratchVersions()), { message: 'x' })).rejects.toThrow(
      new RegExp(`the database is at \\w+, not at head: run 'upgrade head' first, so the new revision starts from ${HEAD}`),
    );
    const c = await commands.check(contextFor(db, scratchVersions()));
    expect(c.atHead).toBe(false);
    expect(c.differences.length).toBeGreaterThan(0);
  });

  it('generates a new table with a foreign key, and type-checks what it writes', async () => {
    const dir = scratchVersions();
    const base = changed({});
    const parts: ModelParts = { ...base, tables: { ...base.tables, provider_notes: providerNotes(base.tables.candidates as never) } };
    const gen = await commands.autogenerate(contextFor(db, dir, parts), { message: 'provider notes' });
    const text = readFileSync(gen.path!, 'utf8');
    expect(text).toMatch(/onDelete: 'CASCADE'/);
    await commands.upgrade(contextFor(db, dir, parts), 'head');
    expect((await commands.check(contextFor(db, dir, parts))).clean).toBe(true);
    await commands.downgrade(contextFor(db, dir, parts), '-1');
    const tsconfig = join(dir, '..', 'tsconfig.json');
    writeFileSync(tsconfig, JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: '/', typeRoots: [join(ROOT, 'node_modules/@types')] }, include: [gen.path] }));
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { stdio: 'pipe' });
  });
});

const branchRevision = (id: string, body: string): string => `import type { Operations, RevisionModule } from '${join(ROOT, 'src/migrate/index.js')}';
export default {
  revision: '${id}',
  downRevision: '${HEAD}',
  message: 'branch ${id}',
  async upgrade(op: Operations) {
${body}
  },
  async downgrade(op: Operations) {
    await op.dropColumn('candidates', '${id.slice(4)}');
  },
} satisfies RevisionModule;
`;

describe.each(engines)('branches and merges on $name', (engine) => {
  it('starts a branch only with --splice, refuses head with two heads, upgrades heads, merges (warning on shared objects), and downgrades back', async () => {
    const t = await engine.create();
    const db = await t.open();
    try {
      const dir = scratchVersions();
      const ctx = () => contextFor(db, dir);
      await commands.upgrade(ctx(), 'head');
      writeFileSync(join(dir, 'x01_alpha.ts'), branchRevision('x01_alpha', "    await op.addColumn('candidates', 'alpha', { type: 'text' });\n    await op.setColumnComment('candidates', 'location', 'a');"));
      await expect(commands.revision(ctx(), { message: 'beta', head: HEAD })).rejects.toThrow(`${HEAD} is not a head: add --splice to start a new branch from it`);
      const beta = await commands.revision(ctx(), { message: 'beta', head: HEAD, splice: true, revId: 'x01_beta' });
      expect(beta.downRevisions).toEqual([HEAD]);
      writeFileSync(beta.path, branchRevision('x01_beta', "    await op.addColumn('candidates', 'beta', { type: 'text' });\n    await op.setColumnComment('candidates', 'location', 'b');"));

      await expect(commands.upgrade(ctx(), 'head')).rejects.toThrow(/there are several heads \(x01_alpha, x01_beta\): name one \(e.g. x01_alpha@head\), use 'heads', or join them with 'merge -m "<message>" heads'/);
      expect((await commands.upgrade(ctx(), 'x01_alpha@head')).current).toEqual(['x01_alpha']);
      const both = await commands.upgrade(ctx(), 'heads');
      expect(both.current).toEqual(['x01_alpha', 'x01_beta']);
      expect((await commands.current(ctx())).atHead).toBe(true);
      if (t.url) {
        // The CLI's --check-heads, on the same database: at both heads, then behind one of them.
        const check = (): number => migrate(['current', '--check-heads'], { DATABASE_URL: t.url!, MIGRATIONS_DIR: dir }).code;
        expect(check()).toBe(0);
        await commands.downgrade(ctx(), 'x01_beta-1');
        expect(check()).toBe(1);
        await commands.upgrade(ctx(), 'heads');
      }
      expect(await db.query('SELECT version_num FROM alembic_version ORDER BY 1')).toEqual([{ version_num: 'x01_alpha' }, { version_num: 'x01_beta' }]);
      expect((await commands.branches(ctx())).map((b) => [b.revision, b.children])).toEqual([[HEAD, ['x01_alpha', 'x01_beta']]]);

      const m = await commands.merge(ctx(), { message: 'join alpha and beta', revisions: ['heads'], revId: 'x02_join' });
      expect(m.downRevisions).toEqual(['x01_alpha', 'x01_beta']);
      expect(m.conflicts).toEqual(['column candidates.location: changed by x01_alpha and by x01_beta']);
      expect(m.path).toMatch(/x02_join\.ts$/);
      expect((await commands.current(ctx())).atHead).toBe(false);
      const merged = await commands.upgrade(ctx(), 'head');
      expect(merged.current).toEqual(['x02_join']);
      expect((await commands.history(ctx())).find((h) => h.revision === 'x02_join')?.isMergePoint).toBe(true);
      await expect(commands.downgrade(ctx(), 'x02_join-1')).rejects.toThrow(/ambiguous: x02_join merges x01_alpha, x01_beta/);
      expect((await commands.downgrade(ctx(), HEAD)).current).toEqual([HEAD]);
      await expect(commands.merge(ctx(), { message: 'x', revisions: [HEAD] })).rejects.toThrow(/nothing to merge/);
    } finally {
      await db.close();
      await t.drop();
    }
  });
});
