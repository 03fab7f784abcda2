import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { testEngines, type TestDatabase } from '../support/databases.js';

const engines = await testEngines();

describe.each(engines)('database driver on $name', (engine) => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await engine.create();
    db = await t.open();
    await db.exec('CREATE TABLE t (a integer PRIMARY KEY)');
  });
  afterAll(async () => {
    await db.close();
    await t.drop();
  });

  it('runs sessions in UTC, so zone-less timestamps are stored as UTC', async () => {
    expect(await db.query('SHOW timezone')).toEqual([{ TimeZone: 'UTC' }]);
  });

  it('commits a transaction on return and rolls it back on throw', async () => {
    await db.transaction((tx) => tx.query('INSERT INTO t VALUES (1)'));
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (2)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.query('SELECT a FROM t ORDER BY a')).toEqual([{ a: 1 }]);
  });

  it('pins one backend for a session (BEGIN ... COMMIT by hand)', async () => {
    await db.session(async (s) => {
      await s.exec('BEGIN');
      await s.query('INSERT INTO t VALUES (3)');
      await s.exec('ROLLBACK');
    });
    expect(await db.query('SELECT count(*)::int AS n FROM t')).toEqual([{ n: 1 }]);
  });
});
