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
  name: 'migrate',
  // Loaded on first use: commands that never touch the database (heads,
  // history, show, revision, --sql, --help) skip the config and driver modules.
  connect: async () => {
    const [{ databaseTarget, readEnv }, { openDatabase }] = await Promise.all([
      import('../config/index.js'),
      import('../db/index.js'),
    ]);
    return openDatabase(databaseTarget(readEnv()), { max: 1, fetchTypes: false });
  },
});
process.exitCode = code;
