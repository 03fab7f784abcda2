/**
 * An Alembic-grade migration engine for PostgreSQL. It knows nothing of the
 * application: give it a versions folder and an SqlClient. See README.md.
 */
export * from './errors.js';
export * from './ops/types.js';
export { createOperations, recordingSink, OfflineQueryError, type Operations, type OperationSink } from './ops/operations.js';
export { renderOp, columnDefinition, constraintDefinition } from './ops/render.js';
export { reverseOp, reverseOps, IrreversibleError } from './ops/reverse.js';
export { inspectOp, describeObject, type OpInfo, type ObjectRef, type DataLoss } from './ops/inspect.js';
export { ident, qualified, literal } from './ops/ident.js';
export { RevisionMap, type RevisionInfo } from './revisions/map.js';
export { resolveTarget, resolveRange, type Heads } from './revisions/targets.js';
export { upgradePlan, downgradePlan, type Step } from './revisions/plan.js';
export { loadScriptDirectory, type RevisionModule, type RevisionPolicy, type Script, type ScriptDirectory } from './script/loader.js';
export type { SqlClient, SqlSession, Clock } from './runtime/client.js';
export { Migrator, describeStep, type MigrationEvent, type MigratorOptions, type StepResult } from './runtime/migrator.js';
export { resolvePolicy, lockKeyFor, DEPLOY_POLICY, type RunPolicy } from './runtime/policy.js';
export { VersionTable, DEFAULT_VERSION_TABLE, type VersionTableName } from './runtime/version-table.js';
export { renderSql, recordStep } from './runtime/offline.js';
export { HistoryTable, historyTableFor, type HistoryDirection, type HistoryEntry, type HistoryRow } from './runtime/history.js';
export { ProgressTable, progressTableFor, type Progress } from './runtime/progress.js';
export { revisionChecksum, verifyChecksums, checksumError, type ChecksumReport } from './safety/checksum.js';
export { opDataLoss, countLoss, describeLoss, type CountedLoss } from './safety/data-loss.js';
export { parseStatements, statementDataLoss, sqlDataLoss } from './safety/sql.js';
export { lintScript, lintSql, statementFindings, type LintFinding } from './safety/lint.js';
export { LINT_RULES, isLintRule, type LintRule } from './safety/lint-rules.js';
export * as commands from './commands/index.js';
export { CommandContext, type Connection, type MigrateConfig } from './commands/context.js';
