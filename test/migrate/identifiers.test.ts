import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { QUOTED_KEYWORDS } from '../../src/migrate/ops/ident.js';
import { renderOp } from '../../src/migrate/ops/render.js';
import type { Op } from '../../src/migrate/ops/types.js';
import { testEngines, type TestDatabase } from '../support/databases.js';

const engines = await testEngines();

describe.each(engines)('identifiers on $name', (engine) => {
  let t: TestDatabase | undefined;
  let db: Database | undefined;
  afterAll(async () => {
    await db?.close();
    await t?.drop();
  });

  it('quotes every keyword pg_get_keywords() lists wherever an operation names something', async () => {
    t = await engine.create();
    db = await t.open();
    const all = await db.query<{ word: string; catcode: string }>('SELECT word, catcode FROM pg_get_keywords() ORDER BY word');
    expect(all.filter((k) => k.catcode !== 'U').map((k) => k.word).filter((w) => !QUOTED_KEYWORDS.has(w))).toEqual([]);
    const words = all.map((k) => k.word);
    const reserved = all.filter((k) => k.catcode === 'R').map((k) => k.word);
    const ops: Op[] = [
      { op: 'createTable', table: 'between', columns: words.map((w) => ({ name: w, type: 'integer' })), constraints: [{ kind: 'primaryKey', name: 'Primary "Key"', columns: ['select'] }] },
      ...reserved.map((w): Op => ({ op: 'createIndex', name: `${w}`, table: 'between', columns: [w, { column: 'order', order: 'DESC' }] })),
      ...reserved.map((w): Op => ({ op: 'setComment', on: { table: 'between', column: w }, comment: w })),
      { op: 'addConstraint', table: 'between', constraint: { kind: 'check', name: 'check', expression: '"where" > 0' } },
      { op: 'renameColumn', table: 'between', column: 'window', to: 'returning_' },
      { op: 'renameColumn', table: 'between', column: 'returning_', to: 'window' },
      { op: 'createFunction', name: 'left', returns: 'trigger', language: 'plpgsql', body: 'BEGIN RETURN NEW; END;' },
      { op: 'createTrigger', name: 'table', table: 'between', timing: 'BEFORE', events: ['UPDATE'], forEach: 'ROW', function: 'left' },
      { op: 'dropTrigger', name: 'table', table: 'between' },
      { op: 'dropFunction', name: 'left' },
      ...reserved.map((w): Op => ({ op: 'dropIndex', name: w })),
      { op: 'dropColumn', table: 'between', column: 'limit' },
      { op: 'addColumn', table: 'between', column: { name: 'limit', type: 'text', default: "'x'" } },
    ];
    for (const op of ops) await db.exec(renderOp(op));
    const cols = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'between'`);
    expect(cols[0]!.n).toBe(words.length);
    await db.exec(renderOp({ op: 'dropTable', table: 'between' }));
  });
});
