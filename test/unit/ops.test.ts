import { describe, expect, it } from 'vitest';
import { dollarQuoted, ident, literal, qualified, QUOTED_KEYWORDS } from '../../src/migrate/ops/ident.js';
import { describeObject, inspectOp } from '../../src/migrate/ops/inspect.js';
import { createOperations, recordingSink } from '../../src/migrate/ops/operations.js';
import { renderOp } from '../../src/migrate/ops/render.js';
import { IrreversibleError, reverseOp, reverseOps } from '../../src/migrate/ops/reverse.js';
import type { Op } from '../../src/migrate/ops/types.js';

describe('identifiers', () => {
  it('quotes only what PostgreSQL would not read back unchanged', () => {
    expect(ident('candidates')).toBe('candidates');
    expect(ident('_x$1')).toBe('_x$1');
    for (const k of ['user', 'window', 'left', 'returning', 'order', 'between', 'int', 'json_table']) expect(ident(k)).toBe(`"${k}"`);
    expect(ident('Mixed"Case')).toBe('"Mixed""Case"');
    expect(ident('1abc')).toBe('"1abc"');
    expect(ident('has space')).toBe('"has space"');
    expect(ident('')).toBe('""');
    expect(qualified('public.candidates')).toBe('public.candidates');
    expect(qualified('public.user')).toBe('public."user"');
    expect(literal("it's")).toBe("'it''s'");
  });

  it('lists the keywords PostgreSQL 18 reserves in some position, and no unreserved one', () => {
    expect(QUOTED_KEYWORDS.size).toBe(164);
    for (const unreserved of ['version', 'status', 'location', 'comment', 'data', 'name']) expect(QUOTED_KEYWORDS.has(unreserved)).toBe(false);
  });

  it('dollar-quotes a body with a tag that does not occur in it', () => {
    expect(dollarQuoted('x')).toBe('$$x$$');
    expect(dollarQuoted('a $$ b')).toBe('$body$a $$ b$body$');
    expect(dollarQuoted('$$ $body$')).toBe('$body1$$$ $body$$body1$');
  });
});

const trigger = { name: 't', table: 'candidates', timing: 'BEFORE', events: ['INSERT', 'UPDATE'], forEach: 'ROW', function: 'f' } as const;
const fn = { name: 'f', returns: 'TRIGGER', language: 'plpgsql', body: ' BEGIN RETURN NEW; END; ' } as const;

/** Every kind of operation, with the SQL it must render. */
const CASES: [Op, string][] = [
  [
    {
      op: 'createTable',
      table: 'orders',
      columns: [
        { name: 'id', type: 'uuid', default: 'gen_random_uuid()', nullable: false },
        { name: 'user', type: 'text' },
      ],
      constraints: [
        { kind: 'primaryKey', columns: ['id'] },
        { kind: 'foreignKey', name: 'orders_user_fk', columns: ['user'], references: { table: 'users', columns: ['name'] }, onDelete: 'CASCADE', onUpdate: 'SET NULL' },
      ],
    },
    'CREATE TABLE orders (\n  id uuid DEFAULT gen_random_uuid() NOT NULL,\n  "user" text,\n  PRIMARY KEY (id),\n' +
      '  CONSTRAINT orders_user_fk FOREIGN KEY ("user") REFERENCES users (name) ON UPDATE SET NULL ON DELETE CASCADE\n)',
  ],
  [{ op: 'createTable', table: 't', columns: [{ name: 'a', type: 'int' }], ifNotExists: true }, 'CREATE TABLE IF NOT EXISTS t (\n  a int\n)'],
  [{ op: 'dropTable', table: 'orders' }, 'DROP TABLE orders'],
  [{ op: 'dropTable', table: 'orders', ifExists: true, cascade: true }, 'DROP TABLE IF EXISTS orders CASCADE'],
  [{ op: 'renameTable', table: 'public.a', to: 'b' }, 'ALTER TABLE public.a RENAME TO b'],
  [{ op: 'addColumn', table: 'candidates', column: { name: 'version', type: 'INTEGER', default: "'1'", nullable: false } }, "ALTER TABLE candidates ADD COLUMN version INTEGER DEFAULT '1' NOT NULL"],
  [{ op: 'addColumn', table: 't', column: { name: 'window', type: 'text' }, ifNotExists: true }, 'ALTER TABLE t ADD COLUMN IF NOT EXISTS "window" text'],
  [{ op: 'dropColumn', table: 't', column: 'left' }, 'ALTER TABLE t DROP COLUMN "left"'],
  [{ op: 'dropColumn', table: 't', column: 'a', ifExists: true }, 'ALTER TABLE t DROP COLUMN IF EXISTS a'],
  [
    { op: 'alterColumn', table: 't', column: 'a', set: { type: 'bigint', using: 'a::bigint', nullable: false, default: '0' } },
    'ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint, ALTER COLUMN a SET NOT NULL, ALTER COLUMN a SET DEFAULT 0',
  ],
  [{ op: 'alterColumn', table: 't', column: 'a', set: { nullable: true, default: null } }, 'ALTER TABLE t ALTER COLUMN a DROP NOT NULL, ALTER COLUMN a DROP DEFAULT'],
  [{ op: 'renameColumn', table: 't', column: 'a', to: 'returning' }, 'ALTER TABLE t RENAME COLUMN a TO "returning"'],
  [{ op: 'createIndex', name: 'idx_p', table: 'candidates', columns: ['products'], using: 'gin' }, 'CREATE INDEX idx_p ON candidates USING gin (products)'],
  [
    { op: 'createIndex', name: 'i', table: 't', columns: ['a', { column: 'b', order: 'DESC', nulls: 'LAST' }, { expression: 'lower(c)' }], unique: true, concurrently: true, ifNotExists: true, where: "status = 'pending'" },
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a, b DESC NULLS LAST, (lower(c))) WHERE status = 'pending'",
  ],
  [{ op: 'createIndex', name: 'j', table: 't', columns: [{ column: 'd', opclass: 'jsonb_path_ops' }], using: 'gin' }, 'CREATE INDEX j ON t USING gin (d jsonb_path_ops)'],
  [{ op: 'dropIndex', name: 'i', concurrently: true, ifExists: true }, 'DROP INDEX CONCURRENTLY IF EXISTS i'],
  [{ op: 'dropIndex', name: 'i' }, 'DROP INDEX i'],
  [{ op: 'renameIndex', name: 'i', to: 'j' }, 'ALTER INDEX i RENAME TO j'],
  [{ op: 'addConstraint', table: 't', constraint: { kind: 'check', name: 'pos', expression: 'a > 0', notValid: true } }, 'ALTER TABLE t ADD CONSTRAINT pos CHECK (a > 0) NOT VALID'],
  [{ op: 'addConstraint', table: 't', constraint: { kind: 'unique', columns: ['a', 'b'] } }, 'ALTER TABLE t ADD UNIQUE (a, b)'],
  [
    { op: 'addConstraint', table: 't', constraint: { kind: 'foreignKey', name: 'fk', columns: ['u'], references: { table: 'u', columns: ['id'] }, notValid: true } },
    'ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES u (id) NOT VALID',
  ],
  [{ op: 'dropConstraint', table: 't', name: 'pos', ifExists: true }, 'ALTER TABLE t DROP CONSTRAINT IF EXISTS pos'],
  [{ op: 'dropConstraint', table: 't', name: 'pos' }, 'ALTER TABLE t DROP CONSTRAINT pos'],
  [{ op: 'renameConstraint', table: 't', name: 'a', to: 'b' }, 'ALTER TABLE t RENAME CONSTRAINT a TO b'],
  [{ op: 'setComment', on: { table: 't', column: 'c' }, comment: "it's" }, "COMMENT ON COLUMN t.c IS 'it''s'"],
  [{ op: 'setComment', on: { table: 't' }, comment: null }, 'COMMENT ON TABLE t IS NULL'],
  [{ op: 'createFunction', ...fn }, 'CREATE OR REPLACE FUNCTION f()\nRETURNS TRIGGER AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql'],
  [{ op: 'createFunction', ...fn, args: 'a integer', replace: false }, 'CREATE FUNCTION f(a integer)\nRETURNS TRIGGER AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql'],
  [{ op: 'dropFunction', name: 'f', ifExists: true }, 'DROP FUNCTION IF EXISTS f()'],
  [{ op: 'dropFunction', name: 'f', args: 'integer' }, 'DROP FUNCTION f(integer)'],
  [{ op: 'createTrigger', ...trigger }, 'CREATE TRIGGER t\nBEFORE INSERT OR UPDATE ON candidates\nFOR EACH ROW\nEXECUTE FUNCTION f()'],
  [{ op: 'createTrigger', ...trigger, forEach: 'STATEMENT', when: 'true' }, 'CREATE TRIGGER t\nBEFORE INSERT OR UPDATE ON candidates\nFOR EACH STATEMENT\nWHEN (true)\nEXECUTE FUNCTION f()'],
  [{ op: 'dropTrigger', name: 't', table: 'candidates', ifExists: true }, 'DROP TRIGGER IF EXISTS t ON candidates'],
  [{ op: 'dropTrigger', name: 't', table: 'candidates' }, 'DROP TRIGGER t ON candidates'],
  [{ op: 'execute', sql: 'VACUUM t' }, 'VACUUM t'],
];

describe('operations render', () => {
  it.each(CASES)('%j', (op, sql) => {
    expect(renderOp(op)).toBe(sql);
  });
});

describe('operations reverse', () => {
  const reversible = CASES.map(([op]) => op).filter((op) => {
    try {
      reverseOp(op);
      return true;
    } catch {
      return false;
    }
  });

  it('reverses every create, add and rename, and twice gives the original SQL back', () => {
    expect(reversible.map((o) => o.op)).toEqual(
      expect.arrayContaining(['createTable', 'renameTable', 'addColumn', 'renameColumn', 'createIndex', 'renameIndex', 'addConstraint', 'renameConstraint', 'createFunction', 'createTrigger']),
    );
    for (const op of reversible) expect(renderOp(reverseOp(reverseOp(op))), JSON.stringify(op)).toBe(renderOp(op));
  });

  it('gives the inverse SQL', () => {
    expect(renderOp(reverseOp(CASES[0]![0]))).toBe('DROP TABLE orders');
    expect(renderOp(reverseOp({ op: 'renameTable', table: 'public.a', to: 'b' }))).toBe('ALTER TABLE public.b RENAME TO a');
    expect(renderOp(reverseOp({ op: 'renameColumn', table: 't', column: 'a', to: 'b' }))).toBe('ALTER TABLE t RENAME COLUMN b TO a');
    expect(renderOp(reverseOp({ op: 'createIndex', name: 'i', table: 't', columns: ['a'], concurrently: true }))).toBe('DROP INDEX CONCURRENTLY i');
    expect(renderOp(reverseOp({ op: 'createIndex', name: 'i', table: 't', columns: ['a'] }))).toBe('DROP INDEX i');
    expect(renderOp(reverseOp({ op: 'createFunction', ...fn, args: 'integer' }))).toBe('DROP FUNCTION f(integer)');
    expect(renderOp(reverseOp({ op: 'createTrigger', ...trigger }))).toBe('DROP TRIGGER t ON candidates');
    expect(renderOp(reverseOp({ op: 'addConstraint', table: 't', constraint: { kind: 'check', name: 'pos', expression: 'a > 0' } }))).toBe('ALTER TABLE t DROP CONSTRAINT pos');
    expect(renderOp(reverseOp({ op: 'execute', sql: 'A', reverse: 'B' }))).toBe('B');
    expect(inspectOp(reverseOp({ op: 'execute', sql: 'A', reverse: 'B', transactional: false })).autocommit).toBe(true);
    expect(renderOp(reverseOp({ op: 'setComment', on: { table: 't', column: 'c' }, comment: 'new', previous: null }))).toBe('COMMENT ON COLUMN t.c IS NULL');
    expect(renderOp(reverseOp({ op: 'alterColumn', table: 't', column: 'a', set: { type: 'bigint', nullable: false }, previous: { type: 'integer', using: 'a::integer', nullable: true } }))).toBe(
      'ALTER TABLE t ALTER COLUMN a TYPE integer USING a::integer, ALTER COLUMN a DROP NOT NULL',
    );
    expect(renderOp(reverseOp({ op: 'alterColumn', table: 't', column: 'a', set: { default: '1' }, previous: { default: null } }))).toBe('ALTER TABLE t ALTER COLUMN a DROP DEFAULT');
  });

  it('restores a drop from the definition it carries', () => {
    expect(renderOp(reverseOp({ op: 'dropColumn', table: 't', column: 'a', restore: { name: 'a', type: 'text' } }))).toBe('ALTER TABLE t ADD COLUMN a text');
    expect(renderOp(reverseOp({ op: 'dropIndex', name: 'i', restore: { name: 'i', table: 't', columns: ['a'] } }))).toBe('CREATE INDEX i ON t (a)');
    expect(renderOp(reverseOp({ op: 'dropConstraint', table: 't', name: 'c', restore: { kind: 'unique', columns: ['a'] } }))).toBe('ALTER TABLE t ADD CONSTRAINT c UNIQUE (a)');
    expect(renderOp(reverseOp({ op: 'dropFunction', name: 'f', restore: fn }))).toMatch(/^CREATE OR REPLACE FUNCTION f\(\)/);
    expect(renderOp(reverseOp({ op: 'dropTrigger', name: 't', table: 'candidates', restore: trigger }))).toMatch(/^CREATE TRIGGER t\n/);
    expect(renderOp(reverseOp({ op: 'dropTable', table: 't', restore: { op: 'createTable', table: 't', columns: [{ name: 'a', type: 'int' }] } }))).toMatch(/^CREATE TABLE t/);
  });

  it.each([
    [{ op: 'dropTable', table: 't' }, /dropTable cannot be reversed: the definition of t is not given/],
    [{ op: 'dropColumn', table: 't', column: 'a' }, /the definition of t\.a is not given/],
    [{ op: 'dropIndex', name: 'i' }, /index i is not given/],
    [{ op: 'dropConstraint', table: 't', name: 'c' }, /constraint c is not given/],
    [{ op: 'dropFunction', name: 'f' }, /function f is not given/],
    [{ op: 'dropTrigger', name: 'x', table: 't' }, /trigger x is not given/],
    [{ op: 'execute', sql: 'SELECT 1' }, /raw SQL has no known inverse/],
    [{ op: 'setComment', on: { table: 't' }, comment: 'x' }, /previous comment is not given/],
    [{ op: 'addConstraint', table: 't', constraint: { kind: 'unique', columns: ['a'] } }, /has no name to drop it by/],
    [{ op: 'alterColumn', table: 't', column: 'a', set: { type: 'bigint' } }, /previous type of t\.a is not given/],
    [{ op: 'alterColumn', table: 't', column: 'a', set: { nullable: false }, previous: { type: 'int' } }, /previous nullable/],
    [{ op: 'alterColumn', table: 't', column: 'a', set: { default: '1' }, previous: {} }, /previous default/],
  ] as [Op, RegExp][])('refuses to reverse %j', (op, message) => {
    expect(() => reverseOp(op)).toThrow(IrreversibleError);
    expect(() => reverseOp(op)).toThrow(message);
  });

  it('reverses a list in the opposite order', () => {
    const ops: Op[] = [
      { op: 'addColumn', table: 't', column: { name: 'a', type: 'int' } },
      { op: 'createIndex', name: 'i', table: 't', columns: ['a'] },
    ];
    expect(reverseOps(ops).map(renderOp)).toEqual(['DROP INDEX i', 'ALTER TABLE t DROP COLUMN a']);
  });
});

describe('operations inspect', () => {
  it('names what each operation touches', () => {
    const touched = CASES.map(([op]) => inspectOp(op).touches.map(describeObject));
    expect(touched).toContainEqual(['table orders']);
    expect(touched).toContainEqual(['column candidates.version']);
    expect(touched).toContainEqual(['column t.a', 'column t.returning']);
    expect(touched).toContainEqual(['index idx_p']);
    expect(touched).toContainEqual(['constraint pos on t']);
    expect(touched).toContainEqual(['table t']);
    expect(touched).toContainEqual(['function f()']);
    expect(touched).toContainEqual(['trigger t on candidates', 'function f()']);
    expect(touched).toContainEqual(['table public.a', 'table b']);
    expect(touched).toContainEqual(['index i', 'index j']);
    expect(touched).toContainEqual(['constraint a on t', 'constraint b on t']);
    expect(inspectOp({ op: 'dropIndex', name: 'i', restore: { name: 'i', table: 't', columns: ['a'] } }).touches).toEqual([{ kind: 'index', index: 'i', table: 't' }]);
  });

  it('knows which operations drop data, need autocommit, or are opaque', () => {
    const flagged = (f: (i: ReturnType<typeof inspectOp>) => boolean): string[] => CASES.filter(([op]) => f(inspectOp(op))).map(([op]) => renderOp(op));
    expect(flagged((i) => i.dropsData.length > 0)).toEqual(['DROP TABLE orders', 'DROP TABLE IF EXISTS orders CASCADE', 'ALTER TABLE t DROP COLUMN "left"', 'ALTER TABLE t DROP COLUMN IF EXISTS a']);
    expect(inspectOp({ op: 'dropColumn', table: 't', column: 'a' }).dropsData).toEqual([{ kind: 'column', table: 't', column: 'a' }]);
    expect(inspectOp({ op: 'dropTable', table: 't' }).dropsData).toEqual([{ kind: 'table', table: 't' }]);
    expect(flagged((i) => i.autocommit)).toEqual([
      "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a, b DESC NULLS LAST, (lower(c))) WHERE status = 'pending'",
      'DROP INDEX CONCURRENTLY IF EXISTS i',
    ]);
    expect(flagged((i) => i.opaque)).toEqual(['VACUUM t']);
    expect(inspectOp({ op: 'execute', sql: 'x', transactional: false }).autocommit).toBe(true);
  });
});

describe('the Operations context', () => {
  it('turns each method into one descriptor', async () => {
    const sink = recordingSink();
    const op = createOperations(sink);
    expect(op.offline).toBe(true);
    await op.createTable('t', [{ name: 'a', type: 'int' }]);
    await op.createTable('u', [{ name: 'a', type: 'int' }], [{ kind: 'primaryKey', columns: ['a'] }]);
    await op.dropTable('t', { ifExists: true });
    await op.renameTable('t', 'u');
    await op.addColumn('t', 'a', { type: 'int' });
    await op.dropColumn('t', 'a', { restore: { type: 'int' } });
    await op.dropColumn('t', 'b');
    await op.alterColumn('t', 'a', { nullable: false }, { previous: { nullable: true } });
    await op.renameColumn('t', 'a', 'b');
    await op.createIndex('i', 't', ['a'], { unique: true });
    await op.dropIndex('i', { ifExists: true });
    await op.renameIndex('i', 'j');
    await op.addConstraint('t', { kind: 'check', name: 'c', expression: 'a > 0' });
    await op.dropConstraint('t', 'c');
    await op.renameConstraint('t', 'c', 'd');
    await op.setColumnComment('t', 'a', 'x', { previous: null });
    await op.setTableComment('t', 'y');
    await op.createFunction(fn);
    await op.dropFunction('f', { ifExists: true });
    await op.createTrigger(trigger);
    await op.dropTrigger('t', 'candidates', { ifExists: true });
    await op.execute('SELECT 1', { reverse: 'SELECT 2' });
    await op.run({ op: 'renameTable', table: 'x', to: 'y' });
    op.warn('careful');
    await expect(op.query('SELECT 1')).rejects.toThrow(/cannot be done without a database/);
    expect(sink.warnings).toEqual(['careful']);
    expect(sink.ops.map(renderOp)).toEqual([
      'CREATE TABLE t (\n  a int\n)',
      'CREATE TABLE u (\n  a int,\n  PRIMARY KEY (a)\n)',
      'DROP TABLE IF EXISTS t',
      'ALTER TABLE t RENAME TO u',
      'ALTER TABLE t ADD COLUMN a int',
      'ALTER TABLE t DROP COLUMN a',
      'ALTER TABLE t DROP COLUMN b',
      'ALTER TABLE t ALTER COLUMN a SET NOT NULL',
      'ALTER TABLE t RENAME COLUMN a TO b',
      'CREATE UNIQUE INDEX i ON t (a)',
      'DROP INDEX IF EXISTS i',
      'ALTER INDEX i RENAME TO j',
      'ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)',
      'ALTER TABLE t DROP CONSTRAINT c',
      'ALTER TABLE t RENAME CONSTRAINT c TO d',
      "COMMENT ON COLUMN t.a IS 'x'",
      "COMMENT ON TABLE t IS 'y'",
      'CREATE OR REPLACE FUNCTION f()\nRETURNS TRIGGER AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql',
      'DROP FUNCTION IF EXISTS f()',
      'CREATE TRIGGER t\nBEFORE INSERT OR UPDATE ON candidates\nFOR EACH ROW\nEXECUTE FUNCTION f()',
      'DROP TRIGGER IF EXISTS t ON candidates',
      'SELECT 1',
      'ALTER TABLE x RENAME TO y',
    ]);
    expect(renderOp(reverseOp(sink.ops[5]!))).toBe('ALTER TABLE t ADD COLUMN a int');
    expect(() => reverseOp(sink.ops[6]!)).toThrow(IrreversibleError);
    expect(renderOp(reverseOp(sink.ops[7]!))).toBe('ALTER TABLE t ALTER COLUMN a DROP NOT NULL');
    expect(renderOp(reverseOp(sink.ops[21]!))).toBe('SELECT 2');
  });
});
