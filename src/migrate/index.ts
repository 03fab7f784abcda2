/**
 * An Alembic-grade migration engine for PostgreSQL. It knows nothing of the
 * application: give it a versions folder and an SqlClient.
 */
export * from './errors.js';
export type { Operations, OperationSink } from './ops/operations.js';
export type { ColumnSpec, IndexOptions } from './ops/render.js';
export { RevisionMap, type RevisionInfo } from './revisions/map.js';
export { resolveTarget, resolveRange, type Heads } from './revisions/targets.js';
export { upgradePlan, downgradePlan, type Step } from './revisions/plan.js';
export { loadScriptDirectory, type RevisionModule, type Script, type ScriptDirectory } from './script/loader.js';
export type { SqlClient, SqlSession } from './runtime/client.js';
export { Migrator, describeStep, type MigrationEvent, type StepResult } from './runtime/migrator.js';
export { VERSION_TABLE } from './runtime/version-table.js';
export { renderSql } from './runtime/offline.js';
