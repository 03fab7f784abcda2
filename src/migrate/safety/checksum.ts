import { createHash } from 'node:crypto';
import { ChecksumError } from '../errors.js';
import { renderOp } from '../ops/render.js';
import type { Heads } from '../revisions/targets.js';
import type { Script, ScriptDirectory } from '../script/loader.js';
import type { SqlSession } from '../runtime/client.js';
import { HistoryTable, historyTableFor } from '../runtime/history.js';
import { recordStep } from '../runtime/offline.js';
import { DEFAULT_VERSION_TABLE, VersionTable, type VersionTableName } from '../runtime/version-table.js';

/**
 * The checksum of what a revision runs: the SQL its operations render to, in
 * both directions. Comments, formatting and refactoring of the file leave it
 * alone; any change to a statement it sends changes it. A revision that
 * cannot be recorded offline (it reads the database to decide, or its code
 * fails) is summed by the source of its two functions instead.
 */
export async function revisionChecksum(script: Script): Promise<string> {
  const h = createHash('sha256');
  for (const direction of ['upgrade', 'downgrade'] as const) {
    h.update(`-- ${direction}\n`);
    try {
      for (const op of (await recordStep(script, direction)).ops) h.update(`${renderOp(op).trim()}\n`);
    } catch {
      h.update(`source:${String(script.module[direction])}\n`);
    }
  }
  return h.digest('hex');
}

export interface ChecksumReport {
  /** Applied revisions whose code changed since they ran. */
  changed: { revision: string; recorded: string; actual: string }[];
  /** Applied revisions with no recorded checksum yet (applied by Alembic, or stamped). */
  unrecorded: { revision: string; checksum: string }[];
  /** Applied revisions that recorded an earlier checksum the revision itself accepts (`checksum.accept`), with why. */
  superseded: { revision: string; recorded: string; checksum: string; reason: string }[];
}

/**
 * Compares every applied revision (those recorded in the version table and
 * all they stand on) with the checksum recorded when it ran. Reads only.
 */
export async function verifyChecksums(
  s: Pick<SqlSession, 'query'>,
  scripts: ScriptDirectory,
  o: { versionTable?: VersionTableName; current?: Heads } = {},
): Promise<ChecksumReport> {
  const table = o.versionTable ?? DEFAULT_VERSION_TABLE;
  const current = o.current ?? (await new VersionTable(table).read(s));
  const recorded = await new HistoryTable(historyTableFor(table)).checksums(s);
  const report: ChecksumReport = { changed: [], unrecorded: [], superseded: [] };
  for (const id of scripts.map.topo(scripts.map.closure(current.filter((c) => scripts.map.has(c))))) {
    const script = scripts.scripts.get(id)!;
    const actual = await revisionChecksum(script);
    const was = recorded.get(id);
    const reason = was === undefined ? undefined : script.module.checksum?.accept?.[was];
    if (was === undefined) report.unrecorded.push({ revision: id, checksum: actual });
    else if (was === actual) continue;
    else if (reason !== undefined) report.superseded.push({ revision: id, recorded: was, checksum: actual, reason });
    else report.changed.push({ revision: id, recorded: was, actual });
  }
  return report;
}

/** The refusal for a report with changed revisions, naming each and the way out. */
export function checksumError(changed: ChecksumReport['changed']): ChecksumError {
  const list = changed.map((c) => `${c.revision} (recorded ${c.recorded.slice(0, 12)}, now ${c.actual.slice(0, 12)})`).join(', ');
  return new ChecksumError(
    `applied revision${changed.length === 1 ? '' : 's'} changed since ${changed.length === 1 ? 'it' : 'they'} ran: ${list}; ` +
      `nothing was changed: restore the file, or review the change and run 'accept-checksum <rev>'`,
  );
}
