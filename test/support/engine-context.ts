import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/index.js';
import { CommandContext, type Connection, type MigrateConfig, type ModelSource } from '../../src/migrate/commands/context.js';
import { modelDdl, MODEL, type ModelParts } from '../../src/model/ddl.js';
import { SERVICE_CLI } from '../../src/cli/environment.js';
import { runCli } from '../../src/migrate/cli/index.js';
import { ROOT, type Run } from './cli.js';

/** A database handed to the engine's commands without letting them close it. */
export function borrowed(db: Database): Connection {
  return { description: db.description, query: db.query, exec: db.exec, session: db.session, close: async () => {} };
}

/** A copy of migrations/versions the test may add revisions to. */
export function scratchVersions(): string {
  const root = mkdtempSync(join(tmpdir(), 'migrate-authoring-'));
  cpSync(join(ROOT, 'migrations'), root, { recursive: true });
  // As in the project: revision files are ES modules (for tsc).
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  return join(root, 'versions');
}

let scratch: Promise<Database> | undefined;

/**
 * One in-memory PGlite per test file to build models in, emptied before each
 * use: creating a new one for every comparison would cost seconds each.
 */
async function scratchDatabase(): Promise<Connection> {
  const db = await (scratch ??= openDatabase({ kind: 'memory' }));
  await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  return borrowed(db);
}

/** The model as SQL, built in this file's scratch database. */
export function modelSource(model: ModelParts = MODEL): ModelSource {
  return { ddl: () => modelDdl(model), scratch: scratchDatabase };
}

export function contextFor(db: Database, versionsDir: string, model: ModelParts = MODEL, extra: Partial<MigrateConfig> = {}): CommandContext {
  return new CommandContext({
    versionsDir,
    typesImport: join(ROOT, 'src/migrate/index.js'),
    connect: async () => borrowed(db),
    model: modelSource(model),
    ...extra,
  });
}

/**
 * The service's CLI (src/cli/environment.ts) run in this process on a
 * database the test opened and keeps open: what a command prints and its
 * exit code, without a process and a database opening per command (0.3 s
 * each on PGlite). The model is built in the file's scratch database. What
 * only the process does (environment variables, opening the database,
 * --version, the exit status) is tested through `migrate` (./cli.ts).
 */
export async function migrateInProcess(args: string[], versionsDir: string, db: Database): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    ...SERVICE_CLI,
    versionsDir,
    connect: async () => borrowed(db),
    model: modelSource(),
    out: (s) => (stdout += `${s}\n`),
    err: (s) => (stderr += `${s}\n`),
  });
  return { code, stdout, stderr };
}
