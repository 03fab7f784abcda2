import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Operations } from '../../src/migrate/ops/operations.js';
import { lintScript, lintSql } from '../../src/migrate/safety/lint.js';
import { loadScriptDirectory, type RevisionModule, type Script } from '../../src/migrate/script/loader.js';
import { ROOT } from '../support/cli.js';

const rules = async (sql: string): Promise<string[]> => (await lintSql(sql, 'test')).map((f) => f.rule);

describe('lint rules on the parse of raw SQL', () => {
  it('index-not-concurrent: an index on an existing table, not with CONCURRENTLY nor on a table the step creates', async () => {
    expect(await lintSql('CREATE INDEX idx_a ON candidates (a)', 'test')).toEqual([
      { rule: 'index-not-concurrent', message: 'index idx_a on candidates is built without CONCURRENTLY', statement: 'CREATE INDEX idx_a ON candidates (a)' },
    ]);
    expect(await rules('CREATE UNIQUE INDEX idx_a ON app.candidates (a)')).toEqual(['index-not-concurrent']);
    expect(await rules('CREATE INDEX CONCURRENTLY idx_a ON candidates (a)')).toEqual([]);
    expect(await rules('CREATE TABLE fresh (a int); CREATE INDEX idx_a ON fresh (a)')).toEqual([]);
    // Created in the same step only: a table of the same name elsewhere is not new.
    expect(await rules('CREATE TABLE other.fresh (a int); CREATE INDEX idx_a ON fresh (a)')).toEqual(['index-not-concurrent']);
  });

  it('not-null-without-default: only an added NOT NULL column with no default', async () => {
    expect(await rules('ALTER TABLE candidates ADD COLUMN n int NOT NULL')).toEqual(['not-null-without-default']);
    expect(await rules("ALTER TABLE candidates ADD COLUMN n int NOT NULL DEFAULT 1, ADD COLUMN m text")).toEqual([]);
  });

  it('set-not-null and column-type-change, one finding per command of one ALTER TABLE', async () => {
    const found = await lintSql('ALTER TABLE candidates ALTER COLUMN phone SET NOT NULL, ALTER COLUMN truck_count TYPE bigint', 'test');
    expect(found.map((f) => [f.rule, f.message])).toEqual([
      ['set-not-null', 'column candidates.phone is set NOT NULL'],
      ['column-type-change', 'column candidates.truck_count changes type'],
    ]);
    expect(await rules('ALTER TABLE candidates ALTER COLUMN phone DROP NOT NULL')).toEqual([]);
  });

  it('constraint-not-valid and constraint-builds-index, with their safe forms', async () => {
    expect(await rules('ALTER TABLE candidates ADD CONSTRAINT c CHECK (truck_count > 0)')).toEqual(['constraint-not-valid']);
    expect(await rules('ALTER TABLE candidates ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES providers (id)')).toEqual(['constraint-not-valid']);
    expect(await rules('ALTER TABLE candidates ADD CONSTRAINT c CHECK (truck_count > 0) NOT VALID; ALTER TABLE candidates VALIDATE CONSTRAINT c')).toEqual([]);
    expect(await rules('ALTER TABLE candidates ADD CONSTRAINT u UNIQUE (phone)')).toEqual(['constraint-builds-index']);
    expect(await rules('ALTER TABLE candidates ADD CONSTRAINT u UNIQUE USING INDEX idx_u')).toEqual([]);
    expect(await rules('CREATE TABLE t (a int); ALTER TABLE t ADD CONSTRAINT u UNIQUE (a), ALTER COLUMN a SET NOT NULL')).toEqual([]);
  });

  it('reports raw SQL that does not parse, naming where', async () => {
    await expect(lintSql('CREATE INDEX ON', '002_x.ts (upgrade)')).rejects.toThrow(/002_x\.ts \(upgrade\): raw SQL does not parse/);
  });
});

const script = (m: Partial<RevisionModule>): Script => {
  const module: RevisionModule = { revision: '009_x', downRevision: null, message: 'x', upgrade() {}, downgrade() {}, ...m };
  return { id: '009_x', downRevisions: [], message: 'x', branchLabels: [], createDate: undefined, description: undefined, path: '009_x.ts', transactional: true, module };
};

describe('lint of a revision', () => {
  it('checks what descriptors render and raw SQL alike, in both directions, and carries the reason of an accepted rule', async () => {
    const found = await lintScript(
      script({
        lint: { accept: { 'column-type-change': 'the table holds a handful of rows' } },
        async upgrade(op: Operations) {
          await op.createIndex('idx_p', 'candidates', ['provider_id']);
          await op.createIndex('idx_q', 'candidates', ['phone'], { concurrently: true });
          await op.alterColumn('candidates', 'phone', { type: 'varchar(100)' });
        },
        async downgrade(op: Operations) {
          await op.execute('ALTER TABLE candidates ADD COLUMN n int NOT NULL');
        },
      }),
    );
    expect(found.map((f) => [f.direction, f.rule, f.accepted])).toEqual([
      ['upgrade', 'index-not-concurrent', null],
      ['upgrade', 'column-type-change', 'the table holds a handful of rows'],
      ['downgrade', 'not-null-without-default', null],
    ]);
  });

  it('says when a revision reads the database to decide, as not-recordable', async () => {
    const found = await lintScript(script({ async upgrade(op: Operations) { await op.query('SELECT 1'); } }));
    expect(found).toMatchObject([{ direction: 'upgrade', rule: 'not-recordable', statement: '', accepted: null }]);
  });

  it("the project's own revisions are clean or accept each finding with a reason", async () => {
    const dir = await loadScriptDirectory(join(ROOT, 'migrations', 'versions'));
    const found = (await Promise.all([...dir.scripts.values()].map(lintScript))).flat();
    expect(found.filter((f) => f.accepted === null)).toEqual([]);
    for (const f of found) expect(f.accepted?.trim()).not.toBe('');
  });

  it('the loader refuses a lint field that names an unknown rule or gives no reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-lint-'));
    writeFileSync(
      join(dir, 'x.mjs'),
      `export default { revision: 'x', downRevision: null, message: 'x', lint: { accept: { 'index-not-concurrent': ' ', 'no-such-rule': 'why' } }, upgrade() {}, downgrade() {} };`,
    );
    await expect(loadScriptDirectory(dir)).rejects.toThrow(
      /x\.mjs: not a revision module: `lint\.accept\['index-not-concurrent'\]` must give the reason, a non-empty string; `lint\.accept` names an unknown rule 'no-such-rule' \(rules: index-not-concurrent, /,
    );
    // A new folder: a module once imported is cached by its path.
    const other = mkdtempSync(join(tmpdir(), 'migrate-lint-'));
    writeFileSync(join(other, 'y.mjs'), `export default { revision: 'y', downRevision: null, message: 'y', lint: { ignore: [] }, upgrade() {}, downgrade() {} };`);
    await expect(loadScriptDirectory(other)).rejects.toThrow(/`lint` must be \{ accept: \{ <rule>: <reason> \} \}/);
  });
});
