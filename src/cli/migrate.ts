#!/usr/bin/env node
import { runCli } from '../migrate/cli/index.js';
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

const code = await runCli(process.argv.slice(2), {
  versionsDir: VERSIONS_DIR,
  typesImport: '../../src/migrate/index.js',
  invocation: 'npm run migrate --',
  version: PACKAGE_VERSION,
  databaseHelp:
    'Database: DATABASE_URL names a PostgreSQL server (postgres://, postgresql:// or postgresql+asyncpg://);\n' +
    'unset, the embedded database in DATA_DIR (default ./.data/pglite). A .env file in the working directory is read too.',
  // Loaded on first use: commands that never touch the database (heads,
  // history, show, revision, --sql, --help) skip the config and driver modules.
  connect: async () => {
    const [{ databaseTarget, readEnv }, { openDatabase }] = await Promise.all([
      import('../config/index.js'),
      import('../db/index.js'),
    ]);
    return openDatabase(databaseTarget(readEnv()), { max: 1, fetchTypes: false });
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
