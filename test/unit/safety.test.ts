import { describe, expect, it } from 'vitest';
import { ScriptError } from '../../src/migrate/errors.js';
import { sqlDataLoss } from '../../src/migrate/safety/sql.js';

describe('what raw SQL drops, from PostgreSQL’s parse', () => {
  it('finds dropped tables, truncated tables and dropped columns, schema-qualified as written', async () => {
    expect(
      await sqlDataLoss(
        `DROP TABLE IF EXISTS public.a, "B"; TRUNCATE c; ALTER TABLE s.d DROP COLUMN e, ADD COLUMN f int, DROP COLUMN IF EXISTS g`,
        'x.ts',
      ),
    ).toEqual([
      { kind: 'table', table: 'public.a' },
      { kind: 'table', table: 'B' },
      { kind: 'table', table: 'c' },
      { kind: 'column', table: 's.d', column: 'e' },
      { kind: 'column', table: 's.d', column: 'g' },
    ]);
  });

  it('sees no loss where the words only appear in text, comments, other objects or a function body', async () => {
    expect(
      await sqlDataLoss(
        `-- DROP TABLE candidates
         SELECT 'ALTER TABLE t DROP COLUMN x'; DROP INDEX i; DROP VIEW v; ALTER TABLE t DROP CONSTRAINT k;
         CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$`,
        'x.ts',
      ),
    ).toEqual([]);
  });

  it('names the revision in one line when its SQL does not parse', async () => {
    await expect(sqlDataLoss('ALTER TABLE t DROPP COLUMN x', 'versions/003.ts')).rejects.toThrow(ScriptError);
    await expect(sqlDataLoss('ALTER TABLE t DROPP COLUMN x', 'versions/003.ts')).rejects.toThrow(/^versions\/003\.ts: raw SQL does not parse: syntax error at or near "DROPP"/);
  });
});
