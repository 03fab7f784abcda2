import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { commands, StepError, type MigrationEvent } from '../../src/migrate/index.js';
import { parseDatabaseUrl } from '../../src/config/index.js';
import { openDatabase } from '../../src/db/index.js';
import { catalog } from '../support/catalog.js';
import { ROOT } from '../support/cli.js';
import { SERVER_ADMIN_URL, testEngines, type TestDatabase } from '../support/databases.js';
import { contextFor, scratchVersions } from '../support/engine-context.js';

const HEAD = '003_claims_and_login_attempts';
const engines = await testEngines();

/** A revision whose concurrent unique index fails on duplicate phones, after a column it adds has committed. */
const UNIQUE_PHONE = `export default {
  revision: '004_unique_phone', downRevision: '${HEAD}', message: 'unique phone',
  async upgrade(op) {
    await op.addColumn('candidates', 'nickname', { type: 'TEXT' });
    await op.createIndex('uq_candidates_phone', 'candidates', ['phone'], { unique: true, concurrently: true });
    await op.setColumnComment('candidates', 'nickname', 'what the provider is called');
  },
  async downgrade(op) {
    await op.dropIndex('uq_candidates_phone', { concurrently: true });
    await op.dropColumn('candidates', 'nickname');
  },
};
`;

const insertCandidate = (db: Database, email: string, phone: string): Promise<unknown> =>
  db.query("INSERT INTO candidates (company_name, contact_email, phone) VALUES ('Farm', $1, $2)", [email, phone]);

describe.each(engines)('an interrupted revision on $name', (engine) => {
  const created: { t: TestDatabase; db: Database }[] = [];
  afterEach(async () => {
    for (const { t, db } of created.splice(0)) {
      await db.close().catch(() => {});
      await t.drop();
    }
  });

  it('keeps what committed, and the rerun rebuilds the INVALID index the failed build left, skipping what stands', async () => {
    const t = await engine.create();
    const db = await t.open();
    created.push({ t, db });
    const versions = scratchVersions();
    writeFileSync(join(versions, '004_unique_phone.mjs'), UNIQUE_PHONE);
    const events: MigrationEvent[] = [];
    const ctx = contextFor(db, versions, undefined, { onEvent: (e) => events.push(e) });
    await commands.upgrade(ctx, HEAD);
    // 001's index, on a table with no rows yet, was built in its transaction: a concurrent build would gain nothing.
    expect(events.filter((e) => e.type === 'progress')).toEqual([]);
    await insertCandidate(db, 'a@farm.example', '050-1');
    await insertCandidate(db, 'b@farm.example', '050-1');

    const failed = await commands.upgrade(ctx, 'head').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StepError);
    expect((failed as StepError).message).toMatch(/^upgrade of 004_unique_phone failed after 1 of its operations had committed .* at: CREATE UNIQUE INDEX CONCURRENTLY uq_candidates_phone/);
    const stopped = await commands.current(ctx);
    expect(stopped.current).toEqual([HEAD]);
    expect(stopped.interrupted).toMatchObject([{ revision: '004_unique_phone', direction: 'upgrade', done: 1 }]);
    // What a failed concurrent build leaves: the column that committed before it, and an INVALID index.
    expect(await db.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'candidates' AND column_name = 'nickname'")).toHaveLength(1);
    expect(await db.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'uq_candidates_phone'::regclass")).toEqual([{ indisvalid: false }]);

    await db.query("DELETE FROM candidates WHERE contact_email = 'b@farm.example'");
    events.splice(0);
    await commands.upgrade(ctx, 'head');
    expect(events).toContainEqual(expect.objectContaining({ type: 'resume', done: 1 }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'progress', message: 'found INVALID index uq_candidates_phone left by an interrupted build: dropping it to build again' }));
    const done = await commands.current(ctx);
    expect(done).toMatchObject({ current: ['004_unique_phone'], interrupted: [] });
    expect(await db.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'uq_candidates_phone'::regclass")).toEqual([{ indisvalid: true }]);
    expect(await db.query("SELECT to_regclass('public.alembic_version_progress') AS t")).toEqual([{ t: null }]);
    expect(await db.query("SELECT col_description('candidates'::regclass, attnum) AS c FROM pg_attribute WHERE attrelid = 'candidates'::regclass AND attname = 'nickname'")).toEqual([{ c: 'what the provider is called' }]);

    // And back down, the index dropped CONCURRENTLY between the downgrade's two transactions.
    await commands.downgrade(ctx, HEAD);
    expect(await db.query("SELECT to_regclass('public.uq_candidates_phone') AS t")).toEqual([{ t: null }]);
  });
});

const server = engines.find((e) => e.name === 'server');

/**
 * kill -9 of the migrate CLI at moments spread over `upgrade head` from 000
 * on a table with rows, then a rerun: it must end at the exact head schema
 * with every row as it was. The moments are fractions of an uninterrupted
 * run's time, plus the moment the concurrent build starts, so the kills land
 * inside transactions, between them and during the build.
 */
describe.skipIf(!server)('kill -9 of the migrator on the server', () => {
  const ROWS = 150_000;
  const dbs: string[] = [];
  const admin = postgres(SERVER_ADMIN_URL, { max: 1, onnotice: () => {} });
  const urlOf = (name: string): string => {
    const u = new URL(SERVER_ADMIN_URL);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const create = async (from?: string): Promise<string> => {
    const name = `prs_crash_${Math.random().toString(16).slice(2, 10)}`;
    await admin.unsafe(`CREATE DATABASE ${name}${from ? ` TEMPLATE ${from}` : ''}`);
    dbs.push(name);
    return name;
  };
  afterEach(async () => {
    for (const name of dbs.splice(0)) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  afterAll(() => admin.end());

  /** The CLI as a deploy runs it; resolves with its exit code, or null when killed. */
  const upgrade = (url: string, killWhen?: (elapsedMs: number, stderr: string) => boolean): Promise<{ code: number | null; ms: number; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['dist/src/cli/migrate.js', 'upgrade', 'head'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: url },
      });
      let stderr = '';
      let started: number | undefined;
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        if (started === undefined || !killWhen || child.exitCode !== null) return;
        if (killWhen(Date.now() - started, stderr)) child.kill('SIGKILL');
      };
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Timed from the run's first line: the process start-up is not the migration.
        if (started === undefined && /^upgrade on /m.test(stderr)) {
          started = Date.now();
          timer = setInterval(check, 2);
        }
        check();
      });
      child.stdout.resume();
      child.on('exit', (code) => {
        clearInterval(timer);
        resolve({ code, ms: started === undefined ? 0 : Date.now() - started, stderr });
      });
    });

  it('always reruns to the exact head schema with every row intact', { timeout: 240_000 }, async () => {
    const seed = await create();
    const sql = postgres(urlOf(seed), { max: 1, onnotice: () => {} });
    const ctxDb = await openDatabase(parseDatabaseUrl(urlOf(seed)));
    await commands.upgrade(contextFor(ctxDb, join(ROOT, 'migrations', 'versions')), '000');
    await ctxDb.close();
    await sql.unsafe(
      `INSERT INTO candidates (company_name, contact_email, phone, status, products) ` +
        `SELECT 'Farm ' || g, 'farm' || g || '@example.com', '050-' || g, (ARRAY['pending','approved','rejected'])[1 + g % 3], '["apples"]' ` +
        `FROM generate_series(1, ${ROWS}) g`,
    );
    await sql.end();

    const fingerprint = async (url: string): Promise<string> => {
      const s = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const [row] = await s<{ f: string }[]>`SELECT count(*) || ':' || md5(string_agg(id::text || company_name || contact_email || coalesce(phone, '') || status || products::text, ',' ORDER BY id)) AS f FROM candidates`;
        return row!.f;
      } finally {
        await s.end();
      }
    };
    const rows = await fingerprint(urlOf(seed));
    expect(rows.startsWith(`${ROWS}:`)).toBe(true);

    // The reference: one uninterrupted run, timed.
    const clean = await create(seed);
    const ref = await upgrade(urlOf(clean));
    expect(ref.code, ref.stderr).toBe(0);
    const refDb = await openDatabase(parseDatabaseUrl(urlOf(clean)));
    const expected = await catalog(refDb);
    await refDb.close();

    const moments: { label: string; when: (ms: number, stderr: string) => boolean }[] = [
      { label: 'as the index build starts', when: (_ms, err) => /outside a transaction, after 1 operation committed: CREATE INDEX CONCURRENTLY/.test(err) },
      ...[0.02, 0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.94, 0.97].map((f) => ({ label: `at ${Math.round(f * 100)} % of ${ref.ms} ms`, when: (ms: number) => ms >= f * ref.ms })),
    ];
    const outcomes: string[] = [];
    for (const m of moments) {
      const name = await create(seed);
      const url = urlOf(name);
      const killed = await upgrade(url, m.when);
      const probe = postgres(url, { max: 1, onnotice: () => {} });
      const [state] = await probe<{ v: string | null; p: boolean }[]>`SELECT (SELECT max(version_num) FROM alembic_version) AS v, to_regclass('alembic_version_progress') IS NOT NULL AS p`;
      await probe.end();
      outcomes.push(`${m.label}: ${killed.code === null ? 'killed' : `exit ${killed.code}`} at ${state?.v ?? 'base'}${state?.p ? ' (between transactions)' : ''}`);
      const rerun = await upgrade(url);
      expect(rerun.code, `${m.label}: ${rerun.stderr}`).toBe(0);
      const db = await openDatabase(parseDatabaseUrl(url));
      try {
        expect(await catalog(db), m.label).toEqual(expected);
        expect(await db.query('SELECT version_num FROM alembic_version'), m.label).toEqual([{ version_num: HEAD }]);
      } finally {
        await db.close();
      }
      expect(await fingerprint(url), m.label).toBe(rows);
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
    console.log(`[kill -9] ${outcomes.join('; ')}`);
    // The kills landed both at a whole revision and between a revision's transactions.
    expect(outcomes.some((o) => o.includes('between transactions'))).toBe(true);
    expect(outcomes.some((o) => /killed at 00[0-3]_\w+$/.test(o))).toBe(true);
  });
});
