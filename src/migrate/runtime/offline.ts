import { createOperations, OfflineQueryError, type OperationSink } from '../ops/operations.js';
import type { Step } from '../revisions/plan.js';
import type { ScriptDirectory } from '../script/loader.js';
import { describeStep } from './migrator.js';
import { CREATE_VERSION_TABLE, inline, transition } from './version-table.js';

/**
 * The SQL a plan would run, rendered without a database: each step's
 * statements between BEGIN and COMMIT, with its version-table change.
 */
export async function renderSql(dir: ScriptDirectory, steps: readonly Step[]): Promise<string> {
  const out: string[] = [`${CREATE_VERSION_TABLE};`, ''];
  for (const step of steps) {
    const script = dir.scripts.get(step.revision)!;
    out.push(`-- Running ${step.direction} ${describeStep(step, script.downRevisions)}: ${script.message}`);
    if (script.transactional) out.push('BEGIN;');
    const sink: OperationSink = {
      offline: true,
      execute: async (sql) => {
        out.push(`${sql.trim().replace(/;\s*$/, '')};`);
      },
      query: async () => {
        throw new OfflineQueryError(`${step.revision} reads data, which --sql cannot render`);
      },
      warn: (message) => out.push(`-- WARNING: ${message}`),
    };
    await script.module[step.direction](createOperations(sink));
    for (const st of transition(step.from, step.to)) out.push(`${inline(st)};`);
    if (script.transactional) out.push('COMMIT;');
    out.push('');
  }
  return out.join('\n');
}
