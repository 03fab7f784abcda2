import type { CliEnvironment } from '../migrate/cli/index.js';
import { VERSIONS_DIR } from '../migrations.js';

/**
 * The engine's CLI bound to this service: its revisions, its database
 * (DATABASE_URL, or the embedded one in DATA_DIR) and its model. Apart from
 * the entry point (src/cli/migrate.ts), so the tests can run the same CLI in
 * process on a database they opened.
 */
export const SERVICE_CLI: CliEnvironment = {
  versionsDir: VERSIONS_DIR,
  typesImport: '../../src/migrate/index.js',
  invocation: 'npm run migrate --',
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
    // Not bundled into the CLI (a computed specifier): the model pulls in
    // drizzle-orm and drizzle-kit, which only check and autogenerate need.
    ddl: async () => {
      const { modelDdl } = (await import(new URL('../model/ddl.js', import.meta.url).href)) as typeof import('../model/ddl.js');
      return modelDdl();
    },
    scratch: async () => (await import('../db/index.js')).openDatabase({ kind: 'memory' }),
  },
};
