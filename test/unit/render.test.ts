import { describe, expect, it } from 'vitest';
import * as render from '../../src/migrate/ops/render.js';
import { inline, transition } from '../../src/migrate/runtime/version-table.js';
import { nextRevisionId, renderRevision, slug } from '../../src/migrate/script/template.js';

describe('SQL rendering', () => {
  it('quotes identifiers only when needed', () => {
    expect(render.ident('candidates')).toBe('candidates');
    expect(render.ident('user')).toBe('"user"');
    expect(render.ident('Mixed"Case')).toBe('"Mixed""Case"');
    expect(render.qualified('public.candidates')).toBe('public.candidates');
  });

  it('renders the operations revisions use', () => {
    expect(render.addColumn('candidates', 'version', { type: 'INTEGER', default: "'1'", nullable: false })).toBe(
      "ALTER TABLE candidates ADD COLUMN version INTEGER DEFAULT '1' NOT NULL",
    );
    expect(render.createIndex('idx_p', 'candidates', ['products'], { using: 'gin' })).toBe('CREATE INDEX idx_p ON candidates USING gin (products)');
    expect(render.createIndex('i', 't', ['a', 'b'], { unique: true, concurrently: true, ifNotExists: true })).toBe(
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a, b)',
    );
    expect(render.dropIndex('i', { concurrently: true, ifExists: true })).toBe('DROP INDEX CONCURRENTLY IF EXISTS i');
    expect(render.commentOnColumn('t', 'c', "it's")).toBe("COMMENT ON COLUMN t.c IS 'it''s'");
    expect(render.commentOnColumn('t', 'c', null)).toBe('COMMENT ON COLUMN t.c IS NULL');
  });
});

describe('version table transitions', () => {
  it('updates on a linear step, inserts a new branch, deletes a merged one', () => {
    expect(transition([], ['a']).map(inline)).toEqual(["INSERT INTO alembic_version (version_num) VALUES ('a')"]);
    expect(transition(['a'], ['b']).map(inline)).toEqual(["UPDATE alembic_version SET version_num = 'b' WHERE version_num = 'a'"]);
    expect(transition(['a'], [])).toHaveLength(1);
    expect(transition(['c1', 'c2'], ['d']).map(inline)).toEqual([
      "UPDATE alembic_version SET version_num = 'd' WHERE version_num = 'c1'",
      "DELETE FROM alembic_version WHERE version_num = 'c2'",
    ]);
  });
});

describe('revision template', () => {
  it('numbers new revisions the way this project does, within 32 characters', () => {
    expect(slug('Add provider index!')).toBe('add_provider_index');
    const id = nextRevisionId(['000_initial_schema', '002_add_rejection_reason'], 'add a rather long description of the change');
    expect(id.startsWith('003_add_a_rather')).toBe(true);
    expect(id.length).toBeLessThanOrEqual(32);
    expect(nextRevisionId(['ae1027a6acf'], 'x')).toMatch(/^[0-9a-f]{12}$/);
  });

  it('writes a module with the right down revision', () => {
    const text = renderRevision({ id: '003_x', downRevisions: ['002_add_rejection_reason'], message: 'x', createDate: 'now', typesFrom: '../t.js' });
    expect(text).toContain('downRevision: "002_add_rejection_reason"');
    expect(text).toContain('satisfies RevisionModule');
  });
});
