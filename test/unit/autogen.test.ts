import { describe, expect, it } from 'vitest';
import { parseRename, planOperations } from '../../src/migrate/autogen/plan.js';
import { literal, renderBody, renderCall } from '../../src/migrate/autogen/render.js';
import { renderOp } from '../../src/migrate/ops/render.js';
import { reverseOps } from '../../src/migrate/ops/reverse.js';
import type { Op } from '../../src/migrate/ops/types.js';
import { emptyCatalog, type CatalogSnapshot, type ColumnSnapshot, type TableSnapshot } from '../../src/migrate/schema/catalog.js';
import { describeDifference, diffCatalogs } from '../../src/migrate/schema/diff.js';

const col = (name: string, type = 'integer', o: Partial<ColumnSnapshot> = {}): ColumnSnapshot => ({ name, type, nullable: true, comment: null, ...o });

function table(name: string, o: Partial<TableSnapshot> = {}): TableSnapshot {
  return { name, comment: null, columns: [col('id', 'uuid', { nullable: false })], constraints: [], indexes: [], ...o };
}

const cat = (tables: TableSnapshot[], o: Partial<CatalogSnapshot> = {}): CatalogSnapshot => ({ ...emptyCatalog(), tables, ...o });
const pk = { name: 't_pkey', definition: 'PRIMARY KEY (id)', constraint: { kind: 'primaryKey' as const, name: 't_pkey', columns: ['id'] } };
const chk = (name: string, expr: string) => ({ name, definition: `CHECK ((${expr}))`, constraint: { kind: 'check' as const, name, expression: `(${expr})` } });
const idx = (name: string, cols: string[], extra = '') => ({ name, definition: `CREATE INDEX ${name} ON t USING btree (${cols.join(', ')})${extra}`, index: { name, table: 't', columns: cols } });
const fn = (body: string) => ({ def: { name: 'f', returns: 'trigger', language: 'plpgsql', body }, normalizedBody: body.replace(/\s+/g, ' ').trim() });
const trg = (definition: string) => ({ definition, trigger: { name: 'tr', table: 't', timing: 'BEFORE' as const, events: ['UPDATE' as const], forEach: 'ROW' as const, function: 'f' } });

describe('catalog diff', () => {
  it('is empty for equal catalogs', () => {
    const c = cat([table('t', { constraints: [pk], indexes: [idx('i', ['id'])] })], { functions: [fn('x')], triggers: [trg('d')] });
    expect(diffCatalogs(c, structuredClone(c))).toEqual([]);
  });

  it('says each difference in words, from the database to the model', () => {
    const actual = cat(
      [
        table('t', {
          comment: 'old',
          columns: [col('id', 'uuid', { nullable: false }), col('gone'), col('n', 'integer', { default: '1', comment: 'c1' })],
          constraints: [chk('auto_name', 'n > 0'), chk('changed', 'n > 1'), chk('extra', 'n < 9')],
          indexes: [idx('i_gone', ['n']), idx('i_changed', ['n'])],
        }),
        table('old_table'),
      ],
      { functions: [fn('BEGIN  x; END'), { ...fn('y'), def: { ...fn('y').def, name: 'g' } }], triggers: [trg('BEFORE UPDATE'), { ...trg('x'), trigger: { ...trg('x').trigger, name: 'gone' } }] },
    );
    const wanted = cat(
      [
        table('t', {
          comment: null,
          columns: [col('id', 'uuid', { nullable: false }), col('n', 'bigint', { nullable: false, comment: 'c2' }), col('added', 'text')],
          constraints: [chk('n_positive', 'n > 0'), chk('changed', 'n > 2'), chk('added', 'n <> 5')],
          indexes: [idx('i_changed', ['n', 'id']), idx('i_added', ['id'])],
        }),
        table('new_table'),
      ],
      { functions: [fn('BEGIN x;\n END'), { ...fn('z'), def: { ...fn('z').def, name: 'h' } }], triggers: [trg('AFTER UPDATE'), { ...trg('x'), trigger: { ...trg('x').trigger, name: 'added' } }] },
    );
    expect(diffCatalogs(actual, wanted).map((d) => describeDifference(d))).toEqual([
      'table new_table: in the model, not in the database',
      'table old_table: in the database, not in the model',
      'column t.added: in the model, not in the database',
      'column t.gone: in the database, not in the model',
      'column t.n: type integer in the database, bigint in the model; nullable nullable in the database, NOT NULL in the model; default 1 in the database, none in the model; comment "c1" in the database, "c2" in the model',
      'constraint on t (CHECK ((n > 0))): named auto_name in the database, n_positive in the model',
      'constraint added on t (CHECK ((n <> 5))): in the model, not in the database',
      'constraint extra on t (CHECK ((n < 9))): in the database, not in the model',
      'constraint changed on t: CHECK ((n > 1)) in the database, CHECK ((n > 2)) in the model',
      'index i_added on t: in the model, not in the database',
      'index i_gone on t: in the database, not in the model',
      'index i_changed on t: CREATE INDEX i_changed ON t USING btree (n) in the database, CREATE INDEX i_changed ON t USING btree (n, id) in the model',
      'table t: comment old in the database, none in the model',
      'function h(): in the model, not in the database',
      'function g(): in the database, not in the model',
      'trigger added on t: in the model, not in the database',
      'trigger gone on t: in the database, not in the model',
      'trigger tr on t: BEFORE UPDATE in the database, AFTER UPDATE in the model',
    ]);
  });

  it('names the sides it is given, and sees a changed function body but not re-indented one', () => {
    const d = diffCatalogs(cat([], { functions: [fn('a  b')] }), cat([], { functions: [fn('a\n  b')] }));
    expect(d).toEqual([]);
    const changed = diffCatalogs(cat([], { functions: [fn('a')] }), cat([], { functions: [fn('b')] }));
    expect(changed.map((x) => describeDifference(x, { actual: 'the database', wanted: 'revision 002' }))).toEqual(['function f(): its definition differs between the database and revision 002']);
    const ret = diffCatalogs(cat([], { functions: [fn('a')] }), cat([], { functions: [{ ...fn('a'), def: { ...fn('a').def, returns: 'integer' } }] }));
    expect(ret.map((x) => x.kind)).toEqual(['function-changed']);
    const lang = diffCatalogs(cat([], { functions: [fn('a')] }), cat([], { functions: [{ ...fn('a'), def: { ...fn('a').def, language: 'sql' } }] }));
    expect(lang.map((x) => x.kind)).toEqual(['function-changed']);
  });
});

const sql = (ops: { op: Op }[]): string[] => ops.map((p) => renderOp(p.op));

describe('planning operations from differences', () => {
  it('brings the database to the model, and its reverse brings it back', () => {
    const actual = cat([table('t', { columns: [col('id', 'uuid', { nullable: false }), col('n', 'integer', { default: '1' })], constraints: [chk('extra', 'n < 9')], indexes: [idx('i_gone', ['n'])] })]);
    const wanted = cat([
      table('t', { columns: [col('id', 'uuid', { nullable: false }), col('n', 'bigint', { nullable: false, comment: 'count' }), col('s', 'text', { default: "'x'::text" })], constraints: [chk('n_pos', 'n > 0')] }),
    ]);
    const up = planOperations(diffCatalogs(actual, wanted));
    expect(sql(up)).toEqual([
      'ALTER TABLE t DROP CONSTRAINT extra',
      'DROP INDEX i_gone',
      "ALTER TABLE t ADD COLUMN s text DEFAULT 'x'::text",
      'ALTER TABLE t ALTER COLUMN n TYPE bigint USING n::bigint, ALTER COLUMN n SET NOT NULL, ALTER COLUMN n DROP DEFAULT',
      'ALTER TABLE t ADD CONSTRAINT n_pos CHECK ((n > 0))',
      "COMMENT ON COLUMN t.n IS 'count'",
    ]);
    expect(reverseOps(up.map((p) => p.op)).map(renderOp)).toEqual([
      'COMMENT ON COLUMN t.n IS NULL',
      'ALTER TABLE t DROP CONSTRAINT n_pos',
      'ALTER TABLE t ALTER COLUMN n TYPE integer USING n::integer, ALTER COLUMN n DROP NOT NULL, ALTER COLUMN n SET DEFAULT 1',
      'ALTER TABLE t DROP COLUMN s',
      'CREATE INDEX i_gone ON t (n)',
      'ALTER TABLE t ADD CONSTRAINT extra CHECK ((n < 9))',
    ]);
    expect(up.every((p) => p.notes.length === 0)).toBe(true);
  });

  it('creates a table with its foreign keys, indexes and comments, and drops one with all of them restorable', () => {
    const fk = { name: 'c_fk', definition: 'FOREIGN KEY (p) REFERENCES t(id) ON DELETE CASCADE', constraint: { kind: 'foreignKey' as const, name: 'c_fk', columns: ['p'], references: { table: 't', columns: ['id'] }, onDelete: 'CASCADE' as const } };
    const child = table('c', { comment: 'children', columns: [col('id', 'integer', { nullable: false, default: "nextval('c_id_seq'::regclass)" }), col('p', 'uuid', { comment: 'parent' })], constraints: [pk, fk], indexes: [idx('c_p', ['p'])] });
    const up = planOperations(diffCatalogs(cat([table('t')]), cat([table('t'), child])));
    expect(sql(up)).toEqual([
      'CREATE TABLE c (\n  id serial NOT NULL,\n  p uuid,\n  CONSTRAINT t_pkey PRIMARY KEY (id)\n)',
      'ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (p) REFERENCES t (id) ON DELETE CASCADE',
      'CREATE INDEX c_p ON t (p)',
      "COMMENT ON TABLE c IS 'children'",
      "COMMENT ON COLUMN c.p IS 'parent'",
    ]);
    const down = planOperations(diffCatalogs(cat([table('t'), child]), cat([table('t')])));
    expect(sql(down)).toEqual(['ALTER TABLE c DROP CONSTRAINT c_fk', 'DROP INDEX c_p', 'COMMENT ON TABLE c IS NULL', 'COMMENT ON COLUMN c.p IS NULL', 'DROP TABLE c']);
    expect(down.at(-1)!.notes).toEqual(['DATA LOSS: drops table c and every value in it']);
    expect(reverseOps(down.map((p) => p.op)).map(renderOp)).toEqual(sql(up).slice(0, 1).concat(["COMMENT ON COLUMN c.p IS 'parent'", "COMMENT ON TABLE c IS 'children'", 'CREATE INDEX c_p ON t (p)', sql(up)[1]!]));
  });

  it('marks a dropped column as data loss and names a possible rename, and renames when told', () => {
    const actual = cat([table('t', { columns: [col('id'), col('old', 'text', { comment: 'x' })] })]);
    const wanted = cat([table('t', { columns: [col('id'), col('new', 'text')] })]);
    const plain = planOperations(diffCatalogs(actual, wanted));
    expect(sql(plain)).toEqual(['ALTER TABLE t ADD COLUMN new text', 'ALTER TABLE t DROP COLUMN old', 'COMMENT ON COLUMN t.old IS NULL']);
    expect(plain[1]!.notes).toEqual([
      'DATA LOSS: drops column t.old and every value in it',
      'Possible rename: t.new has the same type; if so, run again with --rename t.old=new',
    ]);
    expect(sql(planOperations(diffCatalogs(actual, wanted), [parseRename('t.old=new')]))).toEqual(['ALTER TABLE t RENAME COLUMN old TO new']);
    const tables = planOperations(diffCatalogs(cat([table('a')]), cat([table('b')])));
    expect(tables.find((p) => p.op.op === 'dropTable')!.notes).toContain('Possible rename: b has the same columns; if so, run again with --rename a=b');
    expect(sql(planOperations(diffCatalogs(cat([table('a')]), cat([table('b')])), [parseRename('a=b')]))).toEqual(['ALTER TABLE a RENAME TO b']);
    expect(() => planOperations(diffCatalogs(actual, wanted), [parseRename('t.nope=new')])).toThrow(/--rename t.nope=new: no such column disappears/);
    expect(() => planOperations([], [parseRename('x=y')])).toThrow(/no such table disappears/);
  });

  it('renames a constraint whose definition is the same, replaces changed ones, and replaces a function in place', () => {
    const up = planOperations(
      diffCatalogs(
        cat([table('t', { constraints: [chk('auto', 'n > 0'), chk('c', 'n > 1')], indexes: [idx('i', ['n'])] })], { functions: [fn('a')], triggers: [trg('BEFORE'), { ...trg('x'), trigger: { ...trg('x').trigger, name: 'gone' } }] }),
        cat([table('t', { constraints: [chk('named', 'n > 0'), chk('c', 'n > 2')], indexes: [idx('i', ['n'], ' WHERE (n > 0)')] })], { functions: [fn('b'), { ...fn('q'), def: { ...fn('q').def, name: 'g' } }], triggers: [trg('AFTER')] }),
      ),
    );
    expect(sql(up)).toEqual([
      'DROP TRIGGER gone ON t',
      'DROP TRIGGER tr ON t',
      'ALTER TABLE t DROP CONSTRAINT c',
      'DROP INDEX i',
      'ALTER TABLE t RENAME CONSTRAINT auto TO named',
      'ALTER TABLE t ADD CONSTRAINT c CHECK ((n > 2))',
      'CREATE INDEX i ON t (n)',
      'CREATE OR REPLACE FUNCTION g()\nRETURNS trigger AS $$q$$ LANGUAGE plpgsql',
      'CREATE OR REPLACE FUNCTION f()\nRETURNS trigger AS $$b$$ LANGUAGE plpgsql',
      'CREATE TRIGGER tr\nBEFORE UPDATE ON t\nFOR EACH ROW\nEXECUTE FUNCTION f()',
    ]);
    expect(reverseOps(up.map((p) => p.op)).map(renderOp).slice(1, 3)).toEqual(['CREATE OR REPLACE FUNCTION f()\nRETURNS trigger AS $$a$$ LANGUAGE plpgsql', 'DROP FUNCTION g()']);
    const dropFn = planOperations(diffCatalogs(cat([], { functions: [fn('a')] }), cat([])));
    expect(sql(dropFn)).toEqual(['DROP FUNCTION f()']);
    const tableComment = planOperations(diffCatalogs(cat([table('t', { comment: 'a' })]), cat([table('t', { comment: 'b' })])));
    expect(sql(tableComment)).toEqual(["COMMENT ON TABLE t IS 'b'"]);
  });

  it('parses --rename and refuses nonsense', () => {
    expect(parseRename('a=b')).toEqual({ from: 'a', to: 'b' });
    expect(parseRename(' t.a=b ')).toEqual({ table: 't', from: 'a', to: 'b' });
    for (const bad of ['a', 'a=', '=b', 'a=b=c', 't.a.b=c', 'a b=c']) expect(() => parseRename(bad), bad).toThrow(/must be old=new \(a table\) or table.old=new \(a column\)/);
  });
});

describe('rendering operations as TypeScript', () => {
  it('writes literals the way a person would', () => {
    expect(literal("it's")).toBe("'it\\'s'");
    expect(literal('a\\b')).toBe("'a\\\\b'");
    expect(literal('line\nwith `tick` and ${x}')).toBe('`line\nwith \\`tick\\` and \\${x}`');
    expect(literal([1, true, null])).toBe('[1, true, null]');
    expect(literal({ a: 1, 'b-c': 2, d: undefined })).toBe("{ a: 1, 'b-c': 2 }");
    expect(literal({})).toBe('{}');
    expect(literal(undefined)).toBe('undefined');
    const long = literal(Array.from({ length: 12 }, (_, i) => `column_number_${i}`));
    expect(long.split('\n')).toHaveLength(14);
    expect(long.split('\n')[1]).toBe("  'column_number_0',");
  });

  it('renders each operation as the Operations call that builds it', () => {
    const calls: [Op, string][] = [
      [{ op: 'createTable', table: 't', columns: [{ name: 'a', type: 'int' }] }, "await op.createTable('t', [{ name: 'a', type: 'int' }]);"],
      [{ op: 'dropTable', table: 't', ifExists: true }, "await op.dropTable('t', { ifExists: true });"],
      [{ op: 'dropTable', table: 't', restore: { op: 'createTable', table: 't', columns: [] } }, "await op.dropTable('t');"],
      [{ op: 'renameTable', table: 'a', to: 'b' }, "await op.renameTable('a', 'b');"],
      [{ op: 'addColumn', table: 't', column: { name: 'a', type: 'text', nullable: false, default: "'x'" } }, "await op.addColumn('t', 'a', { type: 'text', nullable: false, default: '\\'x\\'' });"],
      [{ op: 'dropColumn', table: 't', column: 'a', restore: { name: 'a', type: 'text' } }, "await op.dropColumn('t', 'a');"],
      [{ op: 'alterColumn', table: 't', column: 'a', set: { nullable: false }, previous: { nullable: true } }, "await op.alterColumn('t', 'a', { nullable: false });"],
      [{ op: 'renameColumn', table: 't', column: 'a', to: 'b' }, "await op.renameColumn('t', 'a', 'b');"],
      [{ op: 'createIndex', name: 'i', table: 't', columns: ['a', { column: 'b', order: 'DESC' }], using: 'gin', where: 'a > 0' }, "await op.createIndex('i', 't', ['a', { column: 'b', order: 'DESC' }], { using: 'gin', where: 'a > 0' });"],
      [{ op: 'dropIndex', name: 'i', concurrently: true }, "await op.dropIndex('i', { concurrently: true });"],
      [{ op: 'renameIndex', name: 'i', to: 'j' }, "await op.renameIndex('i', 'j');"],
      [{ op: 'addConstraint', table: 't', constraint: { kind: 'unique', name: 'u', columns: ['a'] } }, "await op.addConstraint('t', { kind: 'unique', name: 'u', columns: ['a'] });"],
      [{ op: 'dropConstraint', table: 't', name: 'u' }, "await op.dropConstraint('t', 'u');"],
      [{ op: 'renameConstraint', table: 't', name: 'u', to: 'v' }, "await op.renameConstraint('t', 'u', 'v');"],
      [{ op: 'setComment', on: { table: 't', column: 'a' }, comment: 'x', previous: null }, "await op.setColumnComment('t', 'a', 'x');"],
      [{ op: 'setComment', on: { table: 't' }, comment: null }, "await op.setTableComment('t', null);"],
      [{ op: 'createFunction', name: 'f', returns: 'trigger', language: 'plpgsql', body: 'x', previous: { name: 'f', returns: 'trigger', language: 'plpgsql', body: 'y' } }, "await op.createFunction({ name: 'f', returns: 'trigger', language: 'plpgsql', body: 'x' });"],
      [{ op: 'dropFunction', name: 'f', args: 'integer' }, "await op.dropFunction('f', { args: 'integer' });"],
      [
        { op: 'createTrigger', name: 'tr', table: 't', timing: 'BEFORE', events: ['UPDATE'], forEach: 'ROW', function: 'f' },
        "await op.createTrigger({\n      name: 'tr',\n      table: 't',\n      timing: 'BEFORE',\n      events: ['UPDATE'],\n      forEach: 'ROW',\n      function: 'f',\n    });",
      ],
      [{ op: 'dropTrigger', name: 'tr', table: 't', ifExists: true }, "await op.dropTrigger('tr', 't', { ifExists: true });"],
      [{ op: 'execute', sql: 'SELECT 1' }, "await op.execute('SELECT 1');"],
    ];
    for (const [op, text] of calls) expect(renderCall(op), op.op).toBe(text);
  });

  it('breaks a long call over lines and puts notes above their call', () => {
    const body = renderBody([
      { op: { op: 'addColumn', table: 'candidates', column: { name: 'a_rather_long_column_name', type: 'character varying(255)', nullable: false, default: "'some default value'" } }, notes: ['first note'] },
      { op: { op: 'dropColumn', table: 't', column: 'x' }, notes: [] },
    ]);
    expect(body).toBe(
      [
        '    // first note',
        '    await op.addColumn(',
        "      'candidates',",
        "      'a_rather_long_column_name',",
        "      { type: 'character varying(255)', nullable: false, default: '\\'some default value\\'' },",
        '    );',
        "    await op.dropColumn('t', 'x');",
      ].join('\n'),
    );
  });
});
