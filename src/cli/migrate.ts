#!/usr/bin/env node
import { runCli, secondsToMs } from '../migrate/cli/index.js';
import { errorText } from '../migrate/errors.js';
import { VERSIONS_DIR } from '../migrations.js';

/**
 * `npm run migrate -- <command>`: the engine's CLI bound to this service's
 * revisions and database (DATABASE_URL, or the embedded one in DATA_DIR).
 */
// A reader that stops early (`migrate history | head -1`) is not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

/** MIGRATE_LOCK_WAIT / MIGRATE_LOCK_TIMEOUT (seconds) over the CLI's defaults; a bad value ends here with one line. */
function policyFromEnv(): { lockWaitMs?: number; lockTimeoutMs?: number } | undefined {
  try {
    const wait = process.env.MIGRATE_LOCK_WAIT;
    const timeout = process.env.MIGRATE_LOCK_TIMEOUT;
    return {
      ...(wait ? { lockWaitMs: secondsToMs(wait, 'MIGRATE_LOCK_WAIT') } : {}),
      ...(timeout ? { lockTimeoutMs: secondsToMs(timeout, 'MIGRATE_LOCK_TIMEOUT') } : {}),
    };
  } catch (e) {
    process.stderr.write(`error: ${errorText(e)}\n`);
    process.exit(2);
  }
}

const code = await runCli(process.argv.slice(2), {
  versionsDir: VERSIONS_DIR,
  typesImport: '../../src/migrate/index.js',
  invocation: 'npm run migrate --',
  version: PACKAGE_VERSION,
  policy: policyFromEnv(),
  databaseHelp:
    'Database: DATABASE_URL names a PostgreSQL server (postgres://, postgresql:// or postgresql+asyncpg://);\n' +
    'unset, the embedded database in DATA_DIR (default ./.data/pglite). A .env file in the working directory is read too.\n' +
    'DIRECT_DATABASE_URL, when set, is used instead: point it past a transaction-mode pooler (PgBouncer),\n' +
    'which cannot keep the migration lock. MIGRATE_LOCK_WAIT (s) gives up waiting for another migration;\n' +
    'MIGRATE_LOCK_TIMEOUT (s, default 2) is the lock_timeout each DDL statement runs under before a retry.',
  // Loaded on first use: commands that never touch the database (heads,
  // history, show, revision, --sql, --help) skip the config and driver modules.
  connect: async () => {
    const [{ databaseTarget, readEnv }, { openDatabase }] = await Promise.all([
      import('../config/index.js'),
      import('../db/index.js'),
    ]);
    const env = readEnv();
    // Migrations need one real server session for the advisory lock: past the pooler when one is in between.
    const direct = env.DIRECT_DATABASE_URL?.trim();
    return openDatabase(databaseTarget(direct ? { ...env, DATABASE_URL: direct } : env), { max: 1, fetchTypes: false });
  },
  // A database without it holds no schema of this service: adopt exits 2 there.
  markerTable: 'candidates',
  model: {
    // Not bundled into this file (a computed specifier): the model pulls in
    // drizzle-orm and drizzle-kit, which only check and autogenerate need.
    ddl: async () => {
      const { modelDdl } = (await import(new URL('../model/ddl.js', import.meta.url).href)) as typeof import('../model/ddl.js');
      return modelDdl();
    },
    scratch: async () => (await import('../db/index.js')).openDatabase({ kind: 'memory' }),
  },
});
process.exitCode = code;
