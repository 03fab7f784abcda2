import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseTarget } from '../config/index.js';
import { lockDataDir } from './lock.js';
import { freshDataDir } from './template.js';
import { DatabaseConnectError, type Database, type Queryable } from './types.js';

export * from './types.js';

export interface OpenOptions {
  /** Pool size for a server; the embedded database is one session. */
  max?: number;
  /** Connect timeout for a server, seconds. */
  connectTimeout?: number;
  /**
   * Whether postgres.js asks the server for its type catalog on connect
   * (needed to send arrays of non-builtin types, which nothing here sends).
   * Off by default: that query is the driver's own, and a connection killed
   * while it runs rejects a promise nobody awaits, which ends the process.
   */
  fetchTypes?: boolean;
}

interface PgErrorLike {
  code?: string;
  message?: string;
  address?: string;
  port?: number;
}

/** One line, no password, naming what went wrong and where. */
export function describeConnectError(e: unknown, where: string): string {
  const err = e as PgErrorLike;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `cannot reach PostgreSQL at ${where}: connection refused (is the server running?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach PostgreSQL at ${where}: host not found`;
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return `cannot reach PostgreSQL at ${where}: connection timed out`;
    case '28P01':
    case '28000':
      return `PostgreSQL at ${where} refused the login: ${err.message ?? 'authentication failed'}`;
    case '3D000':
      return `PostgreSQL at ${where}: ${err.message ?? 'database does not exist'}`;
    default:
      return `cannot connect to PostgreSQL at ${where}: ${(err.message ?? String(e)).split('\n')[0]}`;
  }
}

async function openServer(target: Extract<DatabaseTarget, { kind: 'server' }>, opts: OpenOptions): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const sql = postgres(target.url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeout ?? 10,
    fetch_types: opts.fetchTypes ?? false,
    // The columns are `timestamp without time zone` filled by CURRENT_TIMESTAMP,
    // which follows the session's zone: pin it so stored times are UTC, as the
    // contract says, whatever the server's default.
    connection: { TimeZone: 'UTC' },
    onnotice: () => {},
  });
  const where = target.display.replace(/^postgres:\/\/([^@]*@)?/, '');
  try {
    await sql`select 1`;
  } catch (e) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw new DatabaseConnectError(describeConnectError(e, where));
  }
  const on = (q: { unsafe: typeof sql.unsafe }): Queryable => ({
    query: async <R>(text: string, params?: readonly unknown[]) =>
      Array.from(await q.unsafe(text, (params ?? []) as never[])) as R[],
    exec: async (text: string) => {
      await q.unsafe(text).simple();
    },
  });
  return {
    kind: 'server',
    description: target.display,
    driver: { kind: 'server', sql },
    ...on(sql),
    session: async (fn) => {
      const reserved = await sql.reserve();
      try {
        return await fn(on(reserved));
      } finally {
        reserved.release();
      }
    },
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) =>
      (await sql.begin((tx) => fn(on(tx as unknown as typeof sql)))) as T,
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * initdb's 128MB of shared buffers are all written at start-up, so each
 * instance cost 250 MB of RSS and 75 ms before its first query; an embedded
 * database (development, tests, the CLI) holds a few MB, and with 16MB one
 * opens in 120 MB (measured on this 2-core machine).
 */
const EMBEDDED_SHARED_BUFFERS = '16MB';

async function openEmbedded(target: Exclude<DatabaseTarget, { kind: 'server' }>): Promise<Database> {
  // V8's baseline WebAssembly tier only, set before PGlite's module is first
  // compiled: optimising PostgreSQL's hot functions in the background took
  // half the CPU of a `migrate current` and made the first statements of a
  // new database 4-7x slower on two busy cores (CREATE TABLE 223 ms against
  // 50 ms, measured), for a speed-up the embedded database (development,
  // tests, the CLI) never waits long enough to collect.
  // (node:v8 is loaded here, not at the top: a CLI run on a server never needs it.)
  (await import('node:v8')).setFlagsFromString('--liftoff-only');
  const { PGlite } = await import('@electric-sql/pglite');
  const lock = target.kind === 'embedded' ? lockDataDir(target.dataDir) : undefined;
  let pg: InstanceType<typeof PGlite>;
  try {
    // A new database starts from the prepared template instead of running initdb.
    const isNew = target.kind === 'memory' || !existsSync(join(target.dataDir, 'PG_VERSION'));
    const options = {
      ...(isNew ? { loadDataDir: await freshDataDir() } : {}),
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`],
    };
    pg = target.kind === 'embedded' ? await PGlite.create(target.dataDir, options) : await PGlite.create(options);
    // PGlite keeps its options for the instance's life, and with them the
    // template's 40 MB once it is unpacked: dropped here, so an open database
    // does not hold a second copy of its files.
    delete options.loadDataDir;
  } catch (e) {
    lock?.release();
    throw new DatabaseConnectError(
      `cannot open embedded database ${target.kind === 'embedded' ? target.dataDir : '(memory)'}: ${(e as Error).message}`,
    );
  }
  const on = (q: Pick<typeof pg, 'query' | 'exec'>): Queryable => ({
    query: async <R>(text: string, params?: readonly unknown[]) =>
      (await q.query<R>(text, params as unknown[] | undefined)).rows,
    exec: async (text: string) => {
      await q.exec(text);
    },
  });
  const self = on(pg);
  return {
    kind: 'embedded',
    description: target.kind === 'embedded' ? `embedded PostgreSQL in ${target.dataDir}` : 'embedded PostgreSQL in memory',
    driver: { kind: 'embedded', pg },
    ...self,
    // One process, one backend: the instance itself is the session.
    session: (fn) => fn(self),
    transaction: (fn) => pg.transaction((tx) => fn(on(tx))),
    close: async () => {
      try {
        await pg.close();
      } finally {
        lock?.release();
      }
    },
  };
}

export async function openDatabase(target: DatabaseTarget, opts: OpenOptions = {}): Promise<Database> {
  return target.kind === 'server' ? openServer(target, opts) : openEmbedded(target);
}
