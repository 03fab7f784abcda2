import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './db/index.js';
import { loadScriptDirectory, Migrator, type MigrationEvent, type RunPolicy, type ScriptDirectory } from './migrate/index.js';

/**
 * This service's use of the engine (what Alembic's env.py is): where its
 * revisions live and how a migrator reaches its database.
 */
function findVersionsDir(): string {
  if (process.env.MIGRATIONS_DIR) return process.env.MIGRATIONS_DIR;
  // Same answer from src/ (tests) and dist/src/ (compiled): walk up to the project root.
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    const candidate = join(d, 'migrations', 'versions');
    if (existsSync(candidate)) return candidate;
    if (dirname(d) === d) return join(process.cwd(), 'migrations', 'versions');
  }
}

export const VERSIONS_DIR = findVersionsDir();

let scripts: Promise<ScriptDirectory> | undefined;

export function loadRevisions(): Promise<ScriptDirectory> {
  scripts ??= loadScriptDirectory(VERSIONS_DIR);
  return scripts;
}

export async function migratorFor(db: Database, onEvent?: (e: MigrationEvent) => void, policy?: Partial<RunPolicy>): Promise<Migrator> {
  return new Migrator({ client: db, scripts: await loadRevisions(), ...(onEvent ? { onEvent } : {}), ...(policy ? { policy } : {}) });
}
