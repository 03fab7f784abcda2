import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockKeyFor } from '../../src/migrate/runtime/policy.js';
import { DEFAULT_VERSION_TABLE } from '../../src/migrate/runtime/version-table.js';
import { migrate, oneLineError, ROOT, type Run } from '../support/cli.js';
import { testEngines, type TestDatabase } from '../support/databases.js';
import { startPgBouncer, type Bouncer } from '../support/pgbouncer.js';

const server = (await testEngines()).filter((e) => e.name === 'server');
/** Every revision of the project: each must be applied exactly once, however many there are. */
const REVS = readdirSync(join(ROOT, 'migrations', 'versions'))
  .filter((f) => /^\d{3}_\w+\.ts$/.test(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

/** The CLI as a child process that runs beside others. */
function migrateAsync(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['dist/src/cli/migrate.js', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: '/tmp', ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d));
    c.stderr.on('data', (d: Buffer) => (stderr += d));
    c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const upgradesPerRevision = async (url: string): Promise<Record<string, number>> => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [t] = await sql<{ present: boolean }[]>`SELECT to_regclass('public.alembic_version_history') IS NOT NULL AS present`;
    if (!t?.present) return {};
    const rows = await sql<{ revision: string; n: number }[]>`SELECT revision, count(*)::int AS n FROM alembic_version_history WHERE direction = 'upgrade' GROUP BY 1 ORDER BY 1`;
    return Object.fromEntries(rows.map((r) => [r.revision, r.n]));
  } finally {
    await sql.end();
  }
};

describe.each(server)('migration lock and lock timeouts on $name', (engine) => {
  const dbs: TestDatabase[] = [];
  let bouncer: Bouncer;
  const fresh = async (): Promise<{ url: string; name: string }> => {
    const t = await engine.create();
    dbs.push(t);
    return { url: t.url!, name: new URL(t.url!).pathname.slice(1) };
  };
  beforeAll(async () => {
    bouncer = await startPgBouncer();
  });
  afterAll(async () => {
    await bouncer.stop();
    for (const t of dbs) await t.drop();
  });

  it('gives up waiting for a held lock after --lock-wait or MIGRATE_LOCK_WAIT, saying it waits, exit 1, nothing changed', async () => {
    const { url } = await fresh();
    const holder = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await holder`SELECT pg_advisory_lock(${lockKeyFor(DEFAULT_VERSION_TABLE).toString()}::bigint)`;
      for (const [args, env] of [[['upgrade', 'head', '--lock-wait', '1'], {}], [['upgrade', 'head'], { MIGRATE_LOCK_WAIT: '0.5' }]] as const) {
        const r = migrate([...args], { DATABASE_URL: url, ...env });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/waiting for another migration to finish \(advisory lock held; 0 s so far, giving up after [01] s\)/);
        expect(oneLineError(r)).toMatch(/^error: gave up after waiting [01]\.\d s for the migration lock .*another migration is still running/);
      }
      expect(migrate(['upgrade', 'head', '--lock-wait', 'soon'], { DATABASE_URL: url }).stderr).toMatch(/error: --lock-wait must be a number of seconds/);
      expect(migrate(['current'], { DATABASE_URL: url }).stdout.trim()).toBe('<base> (no revision applied)');
    } finally {
      await holder.end();
    }
  });

  it('four concurrent upgrades through PgBouncer (transaction mode) with DIRECT_DATABASE_URL apply each revision once', async () => {
    const { url, name } = await fresh();
    const env = { DATABASE_URL: bouncer.urlFor(name), DIRECT_DATABASE_URL: url };
    const runs = await Promise.all([1, 2, 3, 4].map(() => migrateAsync(['upgrade', 'head'], env)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(runs.filter((r) => new RegExp(`upgrade done: ${REVS.length} steps`).test(r.stdout))).toHaveLength(1);
    expect(runs.filter((r) => /nothing to do/.test(r.stdout))).toHaveLength(3);
    expect(await upgradesPerRevision(url)).toEqual(Object.fromEntries(REVS.map((r) => [r, 1])));
  });

  it('a reader holding the table delays the upgrade, retried under lock_timeout, while application queries keep answering', async () => {
    const { url } = await fresh();
    expect(migrate(['upgrade', '001_add_version_column'], { DATABASE_URL: url }).code).toBe(0);
    const reader = postgres(url, { max: 1, onnotice: () => {} });
    const app = postgres(url, { max: 4, onnotice: () => {} });
    let worst = 0;
    let stop = false;
    try {
      const holding = reader.begin(async (tx) => {
        await tx`SELECT count(*) FROM candidates`;
        await tx`SELECT pg_sleep(10)`;
      });
      await new Promise((r) => setTimeout(r, 300));
      const load = (async () => {
        for (let i = 0; !stop; i++) {
          const t0 = performance.now();
          await app`INSERT INTO candidates (company_name, contact_email) VALUES ('L', ${`l${i}@x.io`})`;
          worst = Math.max(worst, performance.now() - t0);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const up = await migrateAsync(['upgrade', 'head'], { DATABASE_URL: url });
      stop = true;
      await Promise.all([holding, load]);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stderr).toMatch(/002_add_rejection_reason: lock timeout \(canceling statement due to lock timeout\); retry 1 of 10 in 500 ms/);
      // The bar: no application query waits longer than 3 s (lock_timeout is 2 s).
      expect(worst).toBeLessThan(3000);
    } finally {
      stop = true;
      await reader.end();
      await app.end();
    }
  });
  it('the service migrating on start (MIGRATE_ON_START) waits for its locks the same way: retried under lock_timeout, then serving', async () => {
    const { url } = await fresh();
    expect(migrate(['upgrade', '001_add_version_column'], { DATABASE_URL: url }).code).toBe(0);
    const reader = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const holding = reader.begin(async (tx) => {
        await tx`SELECT count(*) FROM candidates`;
        await tx`SELECT pg_sleep(3)`;
      });
      await new Promise((r) => setTimeout(r, 300));
      const service = spawn(process.execPath, ['dist/src/main.js'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: '/tmp', DATABASE_URL: url, MIGRATE_ON_START: 'true', HOST: '127.0.0.1', PORT: '0', LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
      });
      let log = '';
      service.stdout.on('data', (d: Buffer) => (log += d));
      service.stderr.on('data', (d: Buffer) => (log += d));
      try {
        const listening = await new Promise<string>((resolve, reject) => {
          const poll = setInterval(() => {
            const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
            if (m) resolve(m[1]!);
            else if (service.exitCode !== null) reject(new Error(`service exited: ${log}`));
            else return;
            clearInterval(poll);
          }, 50);
        });
        await holding;
        expect(log).toMatch(/"revision":"002_add_rejection_reason","attempt":1,"of":10,"waitMs":500[^\n]*lock timeout: canceling statement due to lock timeout/);
        const health = await fetch(`${listening}/health`);
        expect(health.status).toBe(200);
      } finally {
        service.kill('SIGTERM');
        await new Promise((r) => service.once('exit', r));
      }
    } finally {
      await reader.end();
    }
  });

  it('through PgBouncer alone, never applies a revision twice: a run whose lock does not hold on its server session is refused', async () => {
    const { url, name } = await fresh();
    const runs = await Promise.all([1, 2, 3, 4].map(() => migrateAsync(['upgrade', 'head', '--lock-wait', '5'], { DATABASE_URL: bouncer.urlFor(name) })));
    for (const r of runs) {
      // Refused when the lock is taken, or at a step (then said with what had committed).
      if (r.code !== 0) expect(r.stderr).toMatch(/error: (upgrade of \w+ failed and was rolled back: )?(the migration lock was taken by server process \d+ but this statement ran on \d+: a transaction-mode pooler|server process \d+ already holds the migration lock for another client: a transaction-mode pooler|gave up after waiting)/);
    }
    for (const n of Object.values(await upgradesPerRevision(url))) expect(n).toBe(1);
    // A refused run leaves its lock with the pooler's server connection (it
    // cannot reach it again): closing the pooler frees it. Then, past the
    // pooler, the same database reaches head.
    await bouncer.stop();
    expect(migrate(['upgrade', 'head'], { DATABASE_URL: url, MIGRATE_LOCK_WAIT: '10' }).code).toBe(0);
    expect(await upgradesPerRevision(url)).toEqual(Object.fromEntries(REVS.map((r) => [r, 1])));
  });

});
