import { describe, expect, it } from 'vitest';
import { LockWaitError, StateError, StepError, VersionTableError } from '../../src/migrate/errors.js';
import { Migrator, type MigrationEvent, type MigratorOptions } from '../../src/migrate/runtime/migrator.js';
import { renderSql } from '../../src/migrate/runtime/offline.js';
import { lockKeyFor, resolvePolicy } from '../../src/migrate/runtime/policy.js';
import { upgradePlan } from '../../src/migrate/revisions/plan.js';
import { FakeClock, memoryScripts, RecordingClient, sqlError, type MemoryRevision } from '../support/recording-client.js';

const VT = 'public.alembic_version';
const REVS: MemoryRevision[] = [
  { id: 'a', upgrade: async (op) => op.execute('CREATE TABLE t (x int)'), downgrade: async (op) => op.dropTable('t') },
  { id: 'b', down: 'a', upgrade: async (op) => op.addColumn('t', 'y', { type: 'int' }), downgrade: async (op) => op.dropColumn('t', 'y') },
];

function setup(revs: MemoryRevision[] = REVS, o: Partial<MigratorOptions> = {}) {
  const client = new RecordingClient();
  const clock = new FakeClock();
  const events: MigrationEvent[] = [];
  const m = new Migrator({ client, scripts: memoryScripts(revs), clock, onEvent: (e) => events.push(e), ...o });
  return { client, clock, events, m };
}

/** Index of the first entry matching, after `from`. */
const at = (log: string[], re: RegExp, from = 0): number => log.findIndex((l, i) => i >= from && re.test(l));

describe('Migrator against a recording client', () => {
  it('runs each step in its own transaction, writing its version row inside it', async () => {
    const { client, m } = setup();
    const results = await m.upgrade('head');
    expect(results.map((r) => r.step.revision)).toEqual(['a', 'b']);
    expect(client.sent).toEqual([
      `CREATE TABLE IF NOT EXISTS ${VT} (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))`,
      'BEGIN',
      'CREATE TABLE t (x int)',
      `INSERT INTO ${VT} (version_num) VALUES ($1) RETURNING version_num -- ["a"]`,
      'COMMIT',
      'BEGIN',
      'ALTER TABLE t ADD COLUMN y int',
      `UPDATE ${VT} SET version_num = $1 WHERE version_num = $2 RETURNING version_num -- ["b","a"]`,
      'COMMIT',
    ]);
    expect(client.versions).toEqual(['b']);
    expect(client.unlocks).toBe(1);
  });

  it('rolls a failing step back, keeps the steps before it, and says which committed', async () => {
    const { client, m } = setup();
    client.failOn = (t) => (t.startsWith('ALTER TABLE t ADD') ? sqlError('column "y" already exists', '42701') : undefined);
    const e = await m.upgrade('head').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StepError);
    const s = e as StepError;
    expect(s.revision).toBe('b');
    expect(s.statement).toBe('ALTER TABLE t ADD COLUMN y int');
    expect(s.committed).toEqual(['<base> -> a']);
    expect(s.rolledBack).toBe(true);
    expect(s.message).toBe(
      'upgrade of b failed and was rolled back at: ALTER TABLE t ADD COLUMN y int: column "y" already exists; committed before it: <base> -> a',
    );
    const failed = client.log.indexOf('ALTER TABLE t ADD COLUMN y int');
    expect(client.log[failed + 1]).toBe('ROLLBACK');
    expect(client.log.slice(failed).filter((l) => l === 'COMMIT')).toEqual([]);
    expect(at(client.log, /^UPDATE/, failed)).toBe(-1);
    expect(client.versions).toEqual(['a']);
    expect(client.unlocks).toBe(1);
  });

  it('names no statement when the revision code itself fails, and nothing committed', async () => {
    const { client, m } = setup([{ id: 'a', upgrade: async () => { throw new Error('bug in revision'); } }]);
    const e = (await m.upgrade('head').catch((x: unknown) => x)) as StepError;
    expect(e.message).toBe('upgrade of a failed and was rolled back: bug in revision; nothing had committed');
    expect(client.sent.slice(-2)).toEqual(['BEGIN', 'ROLLBACK']);
    expect(client.versions).toEqual([]);
  });

  it('refuses to commit a step whose version row was changed by someone else', async () => {
    const { client, m } = setup();
    await m.upgrade('a');
    // Another tool empties the table just before our UPDATE (seen inside our transaction too).
    client.before = (t) => {
      if (t.startsWith('UPDATE')) (client as unknown as { tx: string[] }).tx.splice(0);
    };
    const e = (await m.upgrade('head').catch((x: unknown) => x)) as StepError;
    expect(e.cause).toBeInstanceOf(VersionTableError);
    expect(e.message).toMatch(/public\.alembic_version changed 0 rows for 'UPDATE public\.alembic_version SET version_num = 'b' WHERE version_num = 'a'', expected 1/);
    expect(client.log.at(-2)).toBe('ROLLBACK');
    expect(client.log.filter((l) => l === 'COMMIT')).toHaveLength(1);
  });

  it('in whole-run mode runs every step in one transaction, and a failure undoes them all', async () => {
    const ok = setup(REVS, { policy: { transactionMode: 'whole-run' } });
    await ok.m.upgrade('head');
    expect(ok.client.sent.filter((l) => /^(BEGIN|COMMIT)$/.test(l))).toEqual(['BEGIN', 'COMMIT']);
    expect(at(ok.client.log, /^UPDATE/)).toBeLessThan(ok.client.log.indexOf('COMMIT'));

    const bad = setup(REVS, { policy: { transactionMode: 'whole-run' } });
    bad.client.failOn = (t) => (t.startsWith('ALTER') ? new Error('boom') : undefined);
    const e = (await bad.m.upgrade('head').catch((x: unknown) => x)) as StepError;
    expect(e.committed).toEqual([]);
    expect(e.undone).toEqual(['<base> -> a']);
    expect(e.message).toMatch(/rolled back with it: <base> -> a; nothing had committed$/);
    expect(bad.client.versions).toEqual([]);
  });

  it('runs a non-transactional revision outside any transaction, between committed ones', async () => {
    const revs: MemoryRevision[] = [
      REVS[0]!,
      { id: 'c', down: 'a', transactional: false, upgrade: async (op) => op.createIndex('i', 't', ['x'], { concurrently: true }) },
    ];
    const { client, m } = setup(revs, { policy: { transactionMode: 'whole-run' } });
    await m.upgrade('head');
    const idx = client.log.indexOf('CREATE INDEX CONCURRENTLY i ON t (x)');
    expect(client.log.slice(0, idx).filter((l) => /^(BEGIN|COMMIT)$/.test(l))).toEqual(['BEGIN', 'COMMIT']);
    expect(client.log.slice(idx).filter((l) => /^(BEGIN|COMMIT)$/.test(l))).toEqual([]);
    expect(client.versions).toEqual(['c']);

    const failing = setup([{ id: 'n', transactional: false, upgrade: async (op) => op.execute('SELECT fail') }]);
    failing.client.failOn = (t) => (t === 'SELECT fail' ? new Error('nope') : undefined);
    const e = (await failing.m.upgrade('head').catch((x: unknown) => x)) as StepError;
    expect(e.rolledBack).toBe(false);
    expect(e.message).toMatch(/^upgrade of n failed \(outside a transaction: what it did before the failure stays\) at: SELECT fail: nope/);
    expect(failing.client.log).not.toContain('ROLLBACK');
  });

  describe('an operation that cannot run in a transaction, inside a transactional revision', () => {
    const PROGRESS = 'public.alembic_version_progress';
    const concurrent: MemoryRevision[] = [
      REVS[0]!,
      {
        id: 'c',
        down: 'a',
        upgrade: async (op) => {
          await op.addColumn('t', 'y', { type: 'int' });
          await op.createIndex('t_y', 't', ['y'], { concurrently: true });
          await op.execute('CREATE TRIGGER g AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()');
        },
      },
    ];

    it('commits the work before it with the progress record, runs it alone, and finishes in a new transaction', async () => {
      const { client, events, m } = setup(concurrent);
      expect((await m.upgrade('head')).map((r) => r.step.revision)).toEqual(['a', 'c']);
      const log = client.log.slice(client.log.indexOf('ALTER TABLE t ADD COLUMN y int'));
      const progress = log.filter((l) => l.includes(PROGRESS));
      expect(progress).toEqual([
        expect.stringMatching(/^CREATE TABLE IF NOT EXISTS public.alembic_version_progress /),
        expect.stringMatching(/^INSERT INTO public.alembic_version_progress .* -- \["c","upgrade","[0-9a-f]{64}",1\]$/),
        expect.stringMatching(/^INSERT INTO public.alembic_version_progress .* -- \["c","upgrade","[0-9a-f]{64}",2\]$/),
        `DROP TABLE IF EXISTS ${PROGRESS}`,
      ]);
      const order = ['ALTER TABLE t ADD COLUMN y int', progress[1], 'COMMIT', 'CREATE INDEX CONCURRENTLY t_y ON t (y)', progress[2], 'BEGIN', 'CREATE TRIGGER g'];
      const positions = order.map((o) => log.findIndex((l) => l.startsWith(o!)));
      expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!))).toBe(true);
      expect(at(log, /^UPDATE .* \["c","a"\]/)).toBeLessThan(log.indexOf(`DROP TABLE IF EXISTS ${PROGRESS}`));
      expect(client.versions).toEqual(['c']);
      expect(client.progress).toBeUndefined();
      // No index of that name was there: nothing to drop first.
      expect(log.some((l) => l.startsWith('DROP INDEX'))).toBe(false);
      expect(events).toContainEqual({ type: 'progress', revision: 'c', message: 'outside a transaction, after 1 operation committed: CREATE INDEX CONCURRENTLY t_y ON t (y)' });
    });

    it('keeps what committed when a later statement fails, says so, and resumes after it on the next run', async () => {
      const { client, events, m } = setup(concurrent);
      client.failOn = (t) => (t.startsWith('CREATE TRIGGER') ? sqlError('function f() does not exist', '42883') : undefined);
      const e = (await m.upgrade('head').catch((x: unknown) => x)) as StepError;
      expect(e).toBeInstanceOf(StepError);
      expect(e.standing).toBe(2);
      expect(e.message).toMatch(/^upgrade of c failed after 2 of its operations had committed \(the rest was rolled back; a rerun resumes after them\) at: CREATE TRIGGER g/);
      expect(client.versions).toEqual(['a']);
      expect(client.progress).toMatchObject([{ revision: 'c', direction: 'upgrade', done: 2 }]);
      client.failOn = () => undefined;
      const before = client.log.length;
      expect((await m.upgrade('head')).map((r) => r.step.revision)).toEqual(['c']);
      const rerun = client.log.slice(before);
      expect(rerun.some((l) => l.startsWith('ALTER TABLE') || l.startsWith('CREATE INDEX'))).toBe(false);
      expect(rerun.some((l) => l.startsWith('CREATE TRIGGER g'))).toBe(true);
      expect(events).toContainEqual(expect.objectContaining({ type: 'resume', done: 2 }));
      expect(client.versions).toEqual(['c']);
      expect(client.progress).toBeUndefined();
    });

    it('builds the index again when the run died during the build', async () => {
      const { client, m } = setup(concurrent);
      client.failOn = (t) => (t.startsWith('CREATE INDEX') ? new Error('connection lost') : undefined);
      await expect(m.upgrade('head')).rejects.toThrow(/failed after 1 of its operations had committed/);
      expect(client.progress).toMatchObject([{ revision: 'c', done: 1 }]);
      client.failOn = () => undefined;
      const before = client.log.length;
      await m.upgrade('head');
      const rerun = client.log.slice(before);
      // Its state is read first: the recording client has no such index, so it is built.
      expect(at(rerun, /FROM pg_index/)).toBeLessThan(at(rerun, /^CREATE INDEX CONCURRENTLY t_y/));
      expect(rerun.some((l) => l.startsWith('ALTER TABLE'))).toBe(false);
      expect(client.versions).toEqual(['c']);
    });

    it('refuses to run anything else, or other code, over an interrupted revision', async () => {
      const { client, m } = setup(concurrent);
      client.failOn = (t) => (t.startsWith('CREATE TRIGGER') ? new Error('boom') : undefined);
      await expect(m.upgrade('head')).rejects.toThrow(StepError);
      client.failOn = () => undefined;
      await expect(m.downgrade('base')).rejects.toThrow(
        /^upgrade of c was interrupted on .* with 2 of its operations done; finish it first \('upgrade c'\), since the schema is between revisions until then$/,
      );
      client.progress = client.progress!.map((r) => ({ ...r, checksum: '0'.repeat(64) }));
      await expect(m.upgrade('head')).rejects.toThrow(/and its code changed since; restore the file as it was to resume/);
      expect(client.versions).toEqual(['a']);
    });

    it('in whole-run mode commits the steps before it too, and says so when a later statement fails', async () => {
      const { client, m } = setup(concurrent, { policy: { transactionMode: 'whole-run' } });
      client.failOn = (t) => (t.startsWith('CREATE TRIGGER') ? new Error('boom') : undefined);
      const e = (await m.upgrade('head').catch((x: unknown) => x)) as StepError;
      expect(e.committed).toEqual(['<base> -> a']);
      expect(e.standing).toBe(2);
      expect(client.log.filter((l) => l === 'BEGIN')).toHaveLength(2);
      expect(client.versions).toEqual(['a']);
    });

    /** Interrupted at the index build: the column committed with the progress record, the build did not report back. */
    const interruptedAtBuild = (revs = concurrent) => {
      const s = setup(revs);
      s.client.failOn = (t) => (t.startsWith('CREATE INDEX') ? new Error('connection lost') : undefined);
      return s;
    };

    it('keeps an index the interrupted build finished, and drops an INVALID one to build it again', async () => {
      const { client, events, m } = interruptedAtBuild();
      await expect(m.upgrade('head')).rejects.toThrow(StepError);
      client.failOn = () => undefined;
      client.indexes.set('t_y', true);
      let from = client.log.length;
      await m.upgrade('head');
      expect(client.log.slice(from).filter((l) => /INDEX/.test(l) && !/pg_index/.test(l))).toEqual([]);
      expect(events).toContainEqual({ type: 'progress', revision: 'c', message: 'index t_y was built before the interruption: kept' });

      const again = interruptedAtBuild();
      await expect(again.m.upgrade('head')).rejects.toThrow(StepError);
      again.client.failOn = () => undefined;
      again.client.indexes.set('t_y', false);
      from = again.client.log.length;
      await again.m.upgrade('head');
      expect(again.client.log.slice(from).filter((l) => /INDEX/.test(l) && !/pg_index/.test(l))).toEqual(['DROP INDEX CONCURRENTLY IF EXISTS t_y', 'CREATE INDEX CONCURRENTLY t_y ON t (y)']);
      expect(again.events).toContainEqual({ type: 'progress', revision: 'c', message: 'found INVALID index t_y left by an interrupted build: dropping it to build again' });
      expect(again.client.indexes.get('t_y')).toBe(true);
    });

    it('drops an INVALID index before a first build and before each retry after a lock timeout, in its table’s schema', async () => {
      const revs: MemoryRevision[] = [{ id: 'a', upgrade: async (op) => op.createIndex('t_y', 's.t', ['y'], { concurrently: true }) }];
      const { client, m } = setup(revs, { policy: { retries: 2, retryBackoffMs: 1 } });
      client.indexes.set('t_y', false);
      let timeouts = 1;
      client.failOn = (t) => {
        if (!t.startsWith('CREATE INDEX') || timeouts-- <= 0) return undefined;
        client.indexes.set('t_y', false);
        return sqlError('canceling statement due to lock timeout', '55P03');
      };
      await m.upgrade('head');
      expect(client.log.filter((l) => /^(CREATE|DROP) INDEX/.test(l))).toEqual([
        'DROP INDEX CONCURRENTLY IF EXISTS s.t_y',
        'CREATE INDEX CONCURRENTLY t_y ON s.t (y)',
        'DROP INDEX CONCURRENTLY IF EXISTS s.t_y',
        'CREATE INDEX CONCURRENTLY t_y ON s.t (y)',
      ]);
      expect(client.indexes.get('t_y')).toBe(true);
    });

    it('builds in the transaction on an empty table, with no progress record', async () => {
      const { client, m } = setup(concurrent);
      client.emptyTables.add('t');
      await m.upgrade('head');
      const c = client.log.lastIndexOf('BEGIN');
      expect(client.log.slice(c).filter((l) => !/^SELECT/.test(l))).toEqual([
        'BEGIN',
        'ALTER TABLE t ADD COLUMN y int',
        'CREATE INDEX t_y ON t (y)',
        'CREATE TRIGGER g AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()',
        `UPDATE ${VT} SET version_num = $1 WHERE version_num = $2 RETURNING version_num -- ["c","a"]`,
        expect.stringMatching(/^INSERT INTO public\.alembic_version_history /),
        'COMMIT',
      ]);
    });

    it('takes a concurrent drop that finished before the interruption as done', async () => {
      const revs: MemoryRevision[] = [
        {
          id: 'a',
          upgrade: async (op) => {
            await op.dropIndex('t_y', { concurrently: true });
            await op.execute('ALTER TABLE t DROP COLUMN y');
          },
        },
      ];
      const { client, events, m } = setup(revs);
      client.indexes.set('t_y', true);
      client.failOn = (t) => (t.startsWith('ALTER TABLE') ? new Error('connection lost') : undefined);
      await expect(m.upgrade('head')).rejects.toThrow(/failed after 1 of its operations had committed/);
      client.failOn = () => undefined;
      // Rolled back to before the drop's record (done = 0) by hand: the drop itself had finished.
      client.progress = client.progress!.map((r) => ({ ...r, done: 0 }));
      const from = client.log.length;
      await m.upgrade('head');
      expect(client.log.slice(from).some((l) => l.startsWith('DROP INDEX'))).toBe(false);
      expect(events).toContainEqual({ type: 'progress', revision: 'a', message: 'index t_y was dropped before the interruption' });
      expect(client.versions).toEqual(['a']);
    });

    it('says what does not fit an interrupted record, and a stamp clears it', async () => {
      const { client, m } = setup(concurrent);
      await m.upgrade('head');
      client.progress = [{ revision: 'c', direction: 'downgrade', checksum: '0'.repeat(64), done: 1, updated_at: new Date(0) }];
      // Even with nothing to run: the schema is not at c until the downgrade is finished.
      await expect(m.upgrade('head')).rejects.toThrow(/^downgrade of c was interrupted on 1970-01-01T00:00:00\.000Z with 1 of its operations done; finish it first \('downgrade a'\)/);
      await expect(m.downgrade('-1', {})).rejects.toThrow(/and its code changed since/);
      client.progress = [...client.progress, { revision: 'zzz', direction: 'upgrade', checksum: '0'.repeat(64), done: 0, updated_at: new Date(0) }];
      await expect(m.upgrade('head')).rejects.toThrow(/the record of it does not fit the scripts in \(memory\); repair the schema by hand, then 'stamp' the revision it is at$/);
      client.progress = [{ revision: 'zzz', direction: 'upgrade', checksum: '0'.repeat(64), done: 0, updated_at: new Date(0) }];
      await expect(m.upgrade('head')).rejects.toThrow(/does not fit the scripts/);
      await m.stamp('c');
      expect(client.progress).toBeUndefined();
      expect(await m.upgrade('head')).toEqual([]);
    });

    it('renders offline between transactions too', async () => {
      const scripts = memoryScripts(concurrent);
      const sql = await renderSql(scripts, upgradePlan(scripts.map, ['a'], ['c']));
      expect(sql).toMatch(/BEGIN;\nALTER TABLE t ADD COLUMN y int;\nCOMMIT;\n-- \(outside a transaction: this operation cannot run inside one\)\nCREATE INDEX CONCURRENTLY t_y ON t \(y\);\nBEGIN;\nCREATE TRIGGER g/);
    });
  });

  it("runs a revision's DDL under its own shorter lock_timeout and larger retry count, then the run's again", async () => {
    const revs: MemoryRevision[] = [
      { id: 'a', policy: { lockTimeoutMs: 200, retries: 4 }, upgrade: async (op) => op.execute('CREATE TABLE t (x int)') },
      { id: 'b', down: 'a', upgrade: async (op) => op.addColumn('t', 'y', { type: 'int' }) },
    ];
    const { client, events, m } = setup(revs, { policy: { lockTimeoutMs: 2000, retries: 1, retryBackoffMs: 10 } });
    let failures = 3;
    client.failOn = (t) => (t.startsWith('CREATE TABLE t') && failures-- > 0 ? sqlError('canceling statement due to lock timeout', '55P03') : undefined);
    await m.upgrade('head');
    expect(events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && e.of)).toEqual([4, 4, 4]);
    const a = client.sent.indexOf('BEGIN');
    expect(client.sent.slice(a, a + 3)).toEqual(['BEGIN', "SET LOCAL lock_timeout = '2000ms'", "SET LOCAL lock_timeout = '200ms'"]);
    const b = client.sent.indexOf('BEGIN', a + 1);
    expect(client.sent.slice(b, b + 3)).toEqual(['BEGIN', "SET LOCAL lock_timeout = '2000ms'", 'SAVEPOINT migrate_statement']);
  });

  it('puts each DDL statement under the policy timeouts', async () => {
    const revs: MemoryRevision[] = [REVS[0]!, { id: 'c', down: 'a', transactional: false, upgrade: async (op) => op.execute('VACUUM t', { transactional: false }) }];
    const { client, m } = setup(revs, { policy: { lockTimeoutMs: 2000, statementTimeoutMs: 60_000 } });
    await m.upgrade('head');
    expect(client.sent.slice(1, 5)).toEqual(['BEGIN', "SET LOCAL lock_timeout = '2000ms'", "SET LOCAL statement_timeout = '60000ms'", 'CREATE TABLE t (x int)']);
    const v = client.log.indexOf('VACUUM t');
    expect(client.log.slice(v - 2, v + 2)).toEqual(["SET lock_timeout = '2000ms'", "SET statement_timeout = '60000ms'", 'VACUUM t', 'RESET lock_timeout; RESET statement_timeout']);
  });

  it('sends no timeout or savepoint with the default policy', async () => {
    const { client, m } = setup();
    await m.upgrade('head');
    expect(client.log.filter((l) => /^(SET|RESET|SAVEPOINT|RELEASE)/.test(l))).toEqual([]);
  });

  it('retries a statement that hit lock_timeout from a savepoint, with backoff, and reports each retry', async () => {
    const { client, clock, events, m } = setup(REVS, { policy: { lockTimeoutMs: 100, retries: 3, retryBackoffMs: 50, retryMaxBackoffMs: 80 } });
    let failures = 2;
    client.failOn = (t) => (t.startsWith('ALTER') && failures-- > 0 ? sqlError('canceling statement due to lock timeout', '55P03') : undefined);
    await m.upgrade('head');
    const alter = client.log.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('ALTER')).map(([, i]) => i);
    expect(alter).toHaveLength(3);
    for (const i of alter.slice(0, 2)) expect(client.log.slice(i - 1, i + 2)).toEqual(['SAVEPOINT migrate_statement', 'ALTER TABLE t ADD COLUMN y int', 'ROLLBACK TO SAVEPOINT migrate_statement']);
    expect(client.log[alter[2]! + 1]).toBe('RELEASE SAVEPOINT migrate_statement');
    expect(clock.sleeps).toEqual([50, 80]);
    expect(events.filter((e) => e.type === 'retry')).toMatchObject([
      { attempt: 1, of: 3, waitMs: 50, revision: 'b' },
      { attempt: 2, of: 3, waitMs: 80, revision: 'b' },
    ]);
    expect(client.versions).toEqual(['b']);
  });

  it('gives up after the last retry, and does not retry other errors', async () => {
    const timedOut = setup(REVS, { policy: { retries: 1, retryBackoffMs: 10 } });
    timedOut.client.failOn = (t) => (t.startsWith('ALTER') ? sqlError('lock timeout', '55P03') : undefined);
    await expect(timedOut.m.upgrade('head')).rejects.toThrow(/upgrade of b failed .*: lock timeout/);
    expect(timedOut.client.log.filter((l) => l.startsWith('ALTER'))).toHaveLength(2);

    const other = setup(REVS, { policy: { retries: 5 } });
    other.client.failOn = (t) => (t.startsWith('ALTER') ? sqlError('syntax', '42601') : undefined);
    await expect(other.m.upgrade('head')).rejects.toThrow(StepError);
    expect(other.client.log.filter((l) => l.startsWith('ALTER'))).toHaveLength(1);
    expect(other.clock.sleeps).toEqual([]);
  });

  it('waits for the advisory lock, saying so, and plans only once it holds it', async () => {
    const { client, clock, events, m } = setup();
    client.lockBusyFor = 30;
    await m.upgrade('head');
    expect(clock.t).toBe(30 * 200);
    expect(events.filter((e) => e.type === 'waiting-for-lock').map((e) => (e as { waitedMs: number }).waitedMs)).toEqual([0, 5000]);
    const lastPoll = client.log.map((l) => /pg_try_advisory_lock/.test(l)).lastIndexOf(true);
    expect(at(client.log, /to_regclass/)).toBeGreaterThan(lastPoll);
  });

  it('gives up waiting for the lock after the policy limit, having changed nothing', async () => {
    const { client, clock, m } = setup(REVS, { policy: { lockWaitMs: 1000 } });
    client.lockBusyFor = Infinity;
    const e = await m.upgrade('head').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LockWaitError);
    expect((e as Error).message).toMatch(/^gave up after waiting 1\.0 s for the migration lock \(advisory lock -?\d+\): another migration is still running/);
    expect(clock.t).toBe(1000);
    expect(client.sent).toEqual([]);
    expect(client.unlocks).toBe(0);
  });

  it('takes a lock key of the version table, not one fixed for every application', async () => {
    const { client, m } = setup(REVS, { versionTable: { schema: 'billing', name: 'versions' } });
    await m.upgrade('head');
    const key = lockKeyFor({ schema: 'billing', name: 'versions' });
    expect(key).not.toBe(lockKeyFor({ schema: 'public', name: 'alembic_version' }));
    expect(client.log[0]).toMatch(/pg_try_advisory_lock\(\$1::bigint\).* -- \["(-?\d+)"\]$/);
    expect(client.log[0]).toContain(`-- ["${key}"]`);
    expect(client.log).toContain('SELECT to_regclass($1) IS NOT NULL AS present -- ["billing.versions"]');
    expect(client.sent[0]).toMatch(/^CREATE TABLE IF NOT EXISTS billing\.versions .*CONSTRAINT versions_pkc/);
  });

  it('stamps inside a transaction, and purges first when asked', async () => {
    const { client, m } = setup();
    expect(await m.stamp('b')).toEqual({ from: [], to: ['b'] });
    expect(client.sent).toEqual(['BEGIN', expect.stringMatching(/^CREATE TABLE IF NOT EXISTS/), expect.stringMatching(/^INSERT .* \["b"\]/), 'COMMIT']);
    client.versions = ['zzz'];
    await expect(m.stamp('a')).rejects.toThrow(/revision zzz, which no script in \(memory\) defines/);
    expect(await m.stamp('a', { purge: true })).toEqual({ from: ['zzz'], to: ['a'] });
    expect(client.versions).toEqual(['a']);
    expect(client.log).toContain(`DELETE FROM ${VT}`);
  });

  it('rolls a failed stamp back', async () => {
    const { client, m } = setup();
    client.failOn = (t) => (t.startsWith('INSERT') ? new Error('disk full') : undefined);
    await expect(m.stamp('a')).rejects.toThrow('disk full');
    expect(client.log.at(-2)).toBe('ROLLBACK');
    expect(client.versions).toEqual([]);
  });

  it('downgrades, and finds nothing to do at the target', async () => {
    const { client, m } = setup();
    await m.upgrade('head');
    expect(await m.upgrade('head')).toEqual([]);
    expect((await m.downgrade('base')).map((r) => r.step.revision)).toEqual(['b', 'a']);
    expect(client.log).toContain(`DELETE FROM ${VT} WHERE version_num = $1 RETURNING version_num -- ["a"]`);
    expect(client.versions).toEqual([]);
  });

  it('validates the policy', () => {
    const t = { schema: 'public', name: 'alembic_version' };
    expect(() => resolvePolicy(t, { retries: -1 })).toThrow(/retries/);
    expect(() => resolvePolicy(t, { lockTimeoutMs: 1.5 })).toThrow(/lockTimeoutMs/);
    expect(() => resolvePolicy(t, { lockWaitMs: -1 })).toThrow(/lockWaitMs/);
    expect(resolvePolicy(t).transactionMode).toBe('per-revision');
  });
});

describe('offline SQL', () => {
  const dir = memoryScripts([
    ...REVS,
    { id: 'c', down: 'b', transactional: false, upgrade: async (op) => op.createIndex('i', 't', ['x'], { concurrently: true }) },
    { id: 'd', down: 'c', upgrade: async (op) => { op.warn('careful'); await op.dropColumn('t', 'y'); } },
  ]);
  const steps = upgradePlan(dir.map, [], ['d']);

  it('wraps each transactional step and its version row in BEGIN ... COMMIT', async () => {
    expect(await renderSql(dir, steps)).toBe(
      [
        `CREATE TABLE IF NOT EXISTS ${VT} (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));`,
        '',
        '-- Running upgrade <base> -> a: revision a',
        'BEGIN;',
        'CREATE TABLE t (x int);',
        `INSERT INTO ${VT} (version_num) VALUES ('a');`,
        'COMMIT;',
        '',
        '-- Running upgrade a -> b: revision b',
        'BEGIN;',
        'ALTER TABLE t ADD COLUMN y int;',
        `UPDATE ${VT} SET version_num = 'b' WHERE version_num = 'a';`,
        'COMMIT;',
        '',
        '-- Running upgrade b -> c: revision c',
        '-- (outside a transaction: this revision cannot run inside one)',
        'CREATE INDEX CONCURRENTLY i ON t (x);',
        `UPDATE ${VT} SET version_num = 'c' WHERE version_num = 'b';`,
        '',
        '-- Running upgrade c -> d: revision d',
        'BEGIN;',
        '-- WARNING: careful',
        '-- DATA LOSS: drops column t.y and every value in it',
        'ALTER TABLE t DROP COLUMN y;',
        `UPDATE ${VT} SET version_num = 'd' WHERE version_num = 'c';`,
        'COMMIT;',
        '',
      ].join('\n'),
    );
  });

  it('in whole-run mode opens one transaction, closed around the non-transactional step', async () => {
    const text = await renderSql(dir, steps, { transactionMode: 'whole-run' });
    expect(text.split('\n').filter((l) => /^(BEGIN|COMMIT);$|CONCURRENTLY/.test(l))).toEqual(['BEGIN;', 'COMMIT;', 'CREATE INDEX CONCURRENTLY i ON t (x);', 'BEGIN;', 'COMMIT;']);
  });
});
