import { describeObject, inspectOp } from '../ops/inspect.js';
import { createOperations, OfflineQueryError, recordingSink, type OperationSink } from '../ops/operations.js';
import { renderOp } from '../ops/render.js';
import type { Op } from '../ops/types.js';
import type { Step } from '../revisions/plan.js';
import { opDataLoss } from '../safety/data-loss.js';
import type { Script, ScriptDirectory } from '../script/loader.js';
import { describeStep } from './migrator.js';
import type { RunPolicy } from './policy.js';
import { DEFAULT_VERSION_TABLE, inline, VersionTable, type VersionTableName } from './version-table.js';

export interface OfflineOptions {
  versionTable?: VersionTableName;
  transactionMode?: RunPolicy['transactionMode'];
}

/** What a step would do, as data, without a database: its operations and warnings. */
export async function recordStep(script: Script, direction: Step['direction']): Promise<{ ops: Op[]; warnings: string[] }> {
  const sink = recordingSink();
  await script.module[direction](createOperations(sink));
  return { ops: sink.ops, warnings: sink.warnings };
}

/**
 * The SQL a plan would run, rendered without a database through the same
 * descriptors the online run executes: each transactional step between
 * BEGIN and COMMIT with its version-table change (or the whole run in one
 * transaction), a step that must run outside a transaction marked so, and
 * an operation that must (CREATE INDEX CONCURRENTLY) between transactions.
 */
export async function renderSql(dir: ScriptDirectory, steps: readonly Step[], o: OfflineOptions = {}): Promise<string> {
  const versions = new VersionTable(o.versionTable ?? DEFAULT_VERSION_TABLE);
  const whole = o.transactionMode === 'whole-run';
  const out: string[] = [];
  let open = false;
  const begin = (): void => {
    if (!open) out.push('BEGIN;');
    open = true;
  };
  const commit = (): void => {
    if (open) out.push('COMMIT;');
    open = false;
  };
  if (whole) begin();
  out.push(`${versions.createSql};`, '');
  for (const step of steps) {
    const script = dir.scripts.get(step.revision)!;
    if (!script.transactional) commit();
    out.push(`-- Running ${step.direction} ${describeStep(step, script.downRevisions)}: ${script.message}`);
    if (script.transactional) begin();
    else out.push('-- (outside a transaction: this revision cannot run inside one)');
    const sink: OperationSink = {
      offline: true,
      run: async (op) => {
        // Ends the revision's transaction and takes up a new one after it, as the online run does.
        const alone = script.transactional && inspectOp(op).autocommit;
        if (alone) {
          commit();
          out.push('-- (outside a transaction: this operation cannot run inside one)');
        }
        for (const loss of await opDataLoss(op, script.path ?? step.revision)) out.push(`-- DATA LOSS: drops ${describeObject(loss)} and every value in it`);
        out.push(`${renderOp(op).trim().replace(/;\s*$/, '')};`);
        if (alone) begin();
      },
      query: async () => {
        throw new OfflineQueryError(`${step.revision} reads data, which --sql cannot render`);
      },
      warn: (message) => out.push(`-- WARNING: ${message}`),
    };
    await script.module[step.direction](createOperations(sink));
    for (const st of versions.transition(step.from, step.to)) out.push(`${inline(st)};`);
    if (!whole) commit();
    out.push('');
  }
  commit();
  return out.join('\n');
}
