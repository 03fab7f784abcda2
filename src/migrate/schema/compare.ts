import { errorText, StateError } from '../errors.js';
import type { ModelSource } from '../commands/context.js';
import type { SqlSession } from '../runtime/client.js';
import { historyTableFor } from '../runtime/history.js';
import type { VersionTable } from '../runtime/version-table.js';
import type { CatalogSnapshot } from './catalog.js';
import { introspect } from './introspect.js';

/** The schema the model describes: built in a scratch database and read back, so both sides are PostgreSQL's own rendering. */
export async function modelCatalog(model: ModelSource, ignore: readonly string[]): Promise<CatalogSnapshot> {
  const [ddl, scratch] = await Promise.all([model.ddl(), model.scratch()]);
  try {
    for (const statement of ddl) {
      try {
        await scratch.exec(statement);
      } catch (e) {
        throw new StateError(`the model does not build: ${errorText(e)} (in: ${statement.replace(/\s+/g, ' ').slice(0, 120)})`);
      }
    }
    return await introspect(scratch, { exclude: ignore });
  } finally {
    await scratch.close();
  }
}

/** The engine's own tables (the version table and its history beside it) are never part of a schema comparison. */
export function ignoredTables(versions: VersionTable, extra: readonly string[] = []): string[] {
  return [versions.table.name, historyTableFor(versions.table).name, ...extra];
}

export function databaseCatalog(q: Pick<SqlSession, 'query'>, ignore: readonly string[], schema = 'public'): Promise<CatalogSnapshot> {
  return introspect(q, { schema, exclude: ignore });
}
