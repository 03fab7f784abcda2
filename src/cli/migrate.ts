#!/usr/bin/env node
import { databaseTarget, readEnv } from '../config/index.js';
import { openDatabase } from '../db/index.js';
import { runCli } from '../migrate/cli/index.js';
import { VERSIONS_DIR } from '../migrations.js';

/**
 * `npm run migrate -- <command>`: the engine's CLI bound to this service's
 * revisions and database (DATABASE_URL, or the embedded one in DATA_DIR).
 */
const code = await runCli(process.argv.slice(2), {
  versionsDir: VERSIONS_DIR,
  typesImport: '../../src/migrate/index.js',
  name: 'migrate',
  connect: async () => openDatabase(databaseTarget(readEnv()), { max: 1 }),
});
process.exitCode = code;
