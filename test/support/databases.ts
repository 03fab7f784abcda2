import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { parseDatabaseUrl, type DatabaseTarget } from '../../src/config/index.js';
import { openDatabase, type Database } from '../../src/db/index.js';

/**
 * The two real PostgreSQL engines every integration test runs on: PGlite
 * (PostgreSQL 18, in process) and the server (PostgreSQL 15). A test gets a
 * database of its own, created here and dropped by `drop()`; nothing else on
 * the server is touched.
 */
export interface TestDatabase {
  target: DatabaseTarget;
  /** For a server: the URL of the database created for this test (for child processes). */
  url: string | undefined;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

export interface Engine {
  name: 'pglite' | 'server';
  create(): Promise<TestDatabase>;
}

/**
 * The server half runs only against a server the suite is told about:
 * TEST_DATABASE_URL, or the local one with REQUIRE_PG_SERVER=1 (CI starts
 * it) or TEST_ENGINES=server.
 * Whatever merely answers on 5432 is someone else's until then.
 */
export const SERVER_ADMIN_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const SERVER_REQUESTED =
  Boolean(process.env.TEST_DATABASE_URL) || process.env.REQUIRE_PG_SERVER === '1' || process.env.TEST_ENGINES === 'server';

async function serverReachable(): Promise<boolean> {
  const sql = postgres(SERVER_ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}

const pglite: Engine = {
  name: 'pglite',
  create: async () => ({
    target: { kind: 'memory' },
    url: undefined,
    // In memory: each open() is a fresh, empty database, so tests that
    // reopen use the embedded data-directory form instead.
    open: () => openDatabase({ kind: 'memory' }),
    drop: async () => {},
  }),
};

const server: Engine = {
  name: 'server',
  create: async () => {
    const name = `prs_test_${randomBytes(6).toString('hex')}`;
    const admin = postgres(SERVER_ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const u = new URL(SERVER_ADMIN_URL);
    u.pathname = `/${name}`;
    const url = u.toString();
    return {
      target: parseDatabaseUrl(url),
      url,
      open: () => openDatabase(parseDatabaseUrl(url), { max: 20 }),
      drop: async () => {
        const a = postgres(SERVER_ADMIN_URL, { max: 1, onnotice: () => {} });
        await a.unsafe(`drop database if exists ${name} with (force)`);
        await a.end();
      },
    };
  },
};

let engines: Promise<Engine[]> | undefined;

/**
 * PGlite always; the server when one was named (SERVER_REQUESTED) and
 * answers, or a failure when REQUIRE_PG_SERVER=1 (CI).
 */
export function testEngines(): Promise<Engine[]> {
  engines ??= (async () => {
    if (process.env.TEST_ENGINES === 'pglite' || !SERVER_REQUESTED) return [pglite];
    if (await serverReachable()) return process.env.TEST_ENGINES === 'server' ? [server] : [pglite, server];
    if (process.env.REQUIRE_PG_SERVER === '1') {
      throw new Error(`REQUIRE_PG_SERVER=1 but no PostgreSQL server answers at ${SERVER_ADMIN_URL}`);
    }
    return [pglite];
  })();
  return engines;
}

/** Engines resolved before collection, so `describe.each` can use them. */

