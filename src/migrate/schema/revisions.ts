import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Connection } from '../commands/context.js';
import { Migrator } from '../runtime/migrator.js';
import type { VersionTableName } from '../runtime/version-table.js';
import { revisionFiles, type ScriptDirectory } from '../script/loader.js';
import type { CatalogSnapshot } from './catalog.js';
import { introspect } from './introspect.js';

export interface RevisionCatalogOptions {
  /** A new, empty database each call (the host's scratch database). */
  scratch(): Promise<Connection>;
  ignore: readonly string[];
  versionTable?: VersionTableName;
}

/** Built once per process for each content of a versions folder: each build runs every revision. */
const cache = new Map<string, Promise<ReadonlyMap<string, CatalogSnapshot>>>();

function fingerprint(dir: ScriptDirectory, o: RevisionCatalogOptions): string {
  const h = createHash('sha1');
  for (const file of revisionFiles(dir.dir)) h.update(file).update('\0').update(readFileSync(file)).update('\0');
  return h.update(JSON.stringify([o.ignore, o.versionTable ?? null])).digest('hex');
}

/**
 * The schema every revision builds, read back from a scratch database where
 * the revisions themselves ran, so what a database is compared with is the
 * truth of the revisions, not a hand-kept copy. Revisions are visited
 * parents first; each one whose parents are exactly what the scratch holds
 * is one step up, any other (after a branch) starts from a new scratch.
 */
export function revisionCatalogs(dir: ScriptDirectory, o: RevisionCatalogOptions): Promise<ReadonlyMap<string, CatalogSnapshot>> {
  const key = fingerprint(dir, o);
  let built = cache.get(key);
  if (!built) {
    built = build(dir, o);
    // A failed build (a revision that does not run) is not remembered: the next call reports it again.
    built.catch(() => cache.delete(key));
    cache.set(key, built);
  }
  return built;
}

async function build(dir: ScriptDirectory, o: RevisionCatalogOptions): Promise<ReadonlyMap<string, CatalogSnapshot>> {
  const map = dir.map;
  const out = new Map<string, CatalogSnapshot>();
  let scratch: Connection | undefined;
  let holds = new Set<string>();
  try {
    for (const id of map.topo(new Set(map.all().map((r) => r.id)))) {
      const below = map.closure(map.get(id).downRevisions);
      const oneStep = scratch !== undefined && below.size === holds.size && [...below].every((r) => holds.has(r));
      if (!oneStep) {
        await scratch?.close();
        scratch = await o.scratch();
      }
      const migrator = new Migrator({ client: scratch!, scripts: dir, ...(o.versionTable ? { versionTable: o.versionTable } : {}) });
      await migrator.upgrade(id);
      holds = map.closure([id]);
      out.set(id, await introspect(scratch!, { exclude: o.ignore }));
    }
  } finally {
    await scratch?.close();
  }
  return out;
}
