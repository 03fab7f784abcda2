import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ResolutionError, ScriptError, StateError, UsageError } from '../errors.js';
import { planOperations, type PlannedOp, type Rename } from '../autogen/plan.js';
import { renderBody } from '../autogen/render.js';
import { describeObject, inspectOp, type ObjectRef } from '../ops/inspect.js';
import { reverseOps } from '../ops/reverse.js';
import { resolveTarget } from '../revisions/targets.js';
import type { Migrator } from '../runtime/migrator.js';
import { recordStep } from '../runtime/offline.js';
import { verifyChecksums, type ChecksumReport } from '../safety/checksum.js';
import { lintScript, type LintFinding } from '../safety/lint.js';
import { databaseCatalog, ignoredTables, modelCatalog } from '../schema/compare.js';
import { describeDifference, diffCatalogs, type Difference } from '../schema/diff.js';
import { loadScriptDirectory, MAX_ID_LENGTH, type Script, type ScriptDirectory } from '../script/loader.js';
import type { CommandContext } from './context.js';

/**
 * Authoring commands: `check` (is the database at head and equal to the
 * model?), `revision --autogenerate` and `merge`. They compare catalogs and
 * write files; they never change a database.
 */

export interface CheckResult {
  database: string;
  current: string[];
  heads: string[];
  atHead: boolean;
  /** Each difference between the database and the model, in words. */
  differences: string[];
  /** Applied revisions whose code changed since they ran (refused by upgrade and downgrade too). */
  changedChecksums: ChecksumReport['changed'];
  /** Lint findings no revision accepts. */
  lint: LintFinding[];
  clean: boolean;
}

function requireModel(ctx: CommandContext) {
  const model = ctx.config.model;
  if (!model) throw new UsageError('this project gives the migration engine no model to compare with');
  return model;
}

async function compareWithModel(
  ctx: CommandContext,
): Promise<{ database: string; current: string[]; heads: string[]; diffs: Difference[]; migrator: Migrator }> {
  const model = requireModel(ctx);
  const { migrator, database } = await ctx.migrator();
  const ignore = ignoredTables(migrator.versions, ctx.config.ignoreTables);
  const current = await migrator.current();
  const unknown = migrator.unknown(current);
  if (unknown.length) throw new StateError(`the database is at revision ${unknown.join(', ')}, which no script defines`);
  const client = await ctx.connect();
  const [actual, wanted] = await Promise.all([databaseCatalog(client, ignore), modelCatalog(model, ignore)]);
  return { database, current, heads: migrator.heads(), diffs: diffCatalogs(actual, wanted), migrator };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

export async function check(ctx: CommandContext): Promise<CheckResult> {
  const { database, current, heads, diffs, migrator } = await compareWithModel(ctx);
  const atHead = sameSet(current, heads);
  const differences = diffs.map((d) => describeDifference(d));
  const { changed } = await verifyChecksums(await ctx.connect(), migrator.scripts, { versionTable: migrator.versions.table, current });
  const { unaccepted } = await lintDirectory(migrator.scripts);
  return {
    database,
    current,
    heads,
    atHead,
    differences,
    changedChecksums: changed,
    lint: unaccepted,
    clean: atHead && differences.length === 0 && changed.length === 0 && unaccepted.length === 0,
  };
}

export interface LintResult {
  /** Every finding, oldest revision first; accepted ones carry their reason. */
  findings: LintFinding[];
  unaccepted: LintFinding[];
}

async function lintDirectory(dir: ScriptDirectory): Promise<LintResult> {
  const findings: LintFinding[] = [];
  for (const id of dir.map.topo(new Set(dir.scripts.keys()))) findings.push(...(await lintScript(dir.scripts.get(id)!)));
  return { findings, unaccepted: findings.filter((f) => f.accepted === null) };
}

/** Every revision's SQL checked for lock-unsafe operations; needs no database. */
export async function lint(ctx: CommandContext): Promise<LintResult> {
  return lintDirectory(await ctx.scripts());
}

export interface AutogenerateOptions {
  message: string;
  revId?: string;
  renames?: readonly Rename[];
  /** Write a revision even when nothing changed (Alembic's default; ours is to write nothing). */
  allowEmpty?: boolean;
}

export interface AutogenerateResult extends WrittenLint {
  /** Null when nothing changed and no file was written. */
  path: string | null;
  revision: string | null;
  downRevisions: string[];
  /** What the upgrade does, one line per operation. */
  changes: string[];
  /** Operations that drop data (marked in the file). */
  dataLoss: string[];
}

function templateFor(ctx: CommandContext): string | undefined {
  const file = join(dirname(ctx.config.versionsDir), 'script.ts.tmpl');
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

export async function writeRevision(
  ctx: CommandContext,
  dir: ScriptDirectory,
  o: { message: string; revId?: string; down: readonly string[]; upgradeBody?: string; downgradeBody?: string },
): Promise<{ id: string; path: string } & WrittenLint> {
  const message = o.message.trim();
  if (!message) throw new UsageError('--message must not be empty');
  const { nextRevisionId, renderRevision } = await import('../script/template.js');
  const id = o.revId ?? nextRevisionId([...dir.scripts.keys()], message);
  if (!/^[A-Za-z0-9_]+$/.test(id) || id.length > MAX_ID_LENGTH) {
    throw new UsageError(`--rev-id must be letters, digits and _, at most ${MAX_ID_LENGTH} characters (got '${id}')`);
  }
  if (dir.map.has(id)) throw new ResolutionError(`revision ${id} already exists (${dir.scripts.get(id)!.path})`);
  const path = join(ctx.config.versionsDir, `${id}.ts`);
  if (existsSync(path)) throw new ResolutionError(`${path} already exists`);
  const createDate = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
  const text = renderRevision(
    {
      id,
      downRevisions: o.down,
      message,
      createDate,
      typesFrom: ctx.config.typesImport,
      ...(o.upgradeBody !== undefined ? { upgradeBody: o.upgradeBody } : {}),
      ...(o.downgradeBody !== undefined ? { downgradeBody: o.downgradeBody } : {}),
    },
    templateFor(ctx),
  );
  writeFileSync(path, text);
  return { id, path, ...(await lintWritten(ctx, id)) };
}

export interface WrittenLint {
  /** Lint findings of the written file (none accepted yet: that is for its author to decide). */
  lint: LintFinding[];
  /** Why the written file could not be read back and linted (a template that does not make a module), or null. */
  notLinted: string | null;
}

/**
 * The new file read back as the engine will run it, so its findings show
 * while it is being written. A file that does not load is still written
 * (as Alembic does); the author hears why it was not linted.
 */
async function lintWritten(ctx: CommandContext, id: string): Promise<WrittenLint> {
  let written: Script | undefined;
  try {
    written = (await loadScriptDirectory(ctx.config.versionsDir)).scripts.get(id);
  } catch (e) {
    if (e instanceof ScriptError) return { lint: [], notLinted: e.message };
    throw e;
  }
  if (!written) return { lint: [], notLinted: `no file in ${ctx.config.versionsDir} defines revision ${id}` };
  return { lint: (await lintScript(written)).filter((f) => f.accepted === null), notLinted: null };
}

/** The revisions a new one may build on: the single head, or the one named (a non-head only with `splice`). */
export function parentsFor(dir: ScriptDirectory, o: { head?: string; splice?: boolean }): readonly string[] {
  if (!o.head) {
    if (dir.map.heads.length > 1) {
      throw new ResolutionError(`several heads (${dir.map.heads.join(', ')}): pick one with --head <rev>, or merge them with 'merge heads'`);
    }
    return dir.map.heads;
  }
  const down = resolveTarget(dir.map, o.head, []);
  const inner = down.filter((id) => !dir.map.heads.includes(id));
  if (inner.length && !o.splice) {
    throw new ResolutionError(`${inner.join(', ')} is not a head: add --splice to start a new branch from it`);
  }
  return down;
}

const noteAll = (ops: PlannedOp['op'][]): PlannedOp[] =>
  ops.map((op) => ({ op, notes: inspectOp(op).dropsData.map((l) => `DATA LOSS: drops ${describeObject(l)} and every value in it`) }));

export async function autogenerate(ctx: CommandContext, o: AutogenerateOptions): Promise<AutogenerateResult> {
  const dir = await ctx.scripts();
  const down = parentsFor(dir, {});
  const { current, heads, diffs } = await compareWithModel(ctx);
  if (!sameSet(current, heads)) {
    const at = current.length ? current.join(', ') : 'base';
    throw new StateError(`the database is at ${at}, not at head: run 'upgrade ${heads.length > 1 ? 'heads' : 'head'}' first, so the new revision starts from ${heads.join(', ')}`);
  }
  const up = planOperations(diffs, o.renames ?? []);
  const changes = up.map((p) => describeOp(p.op));
  const dataLoss = up.flatMap((p) => inspectOp(p.op).dropsData.map(describeObject));
  if (up.length === 0 && !o.allowEmpty) return { path: null, revision: null, downRevisions: [...down], changes, dataLoss, lint: [], notLinted: null };
  const downOps = noteAll(reverseOps(up.map((p) => p.op)));
  const { id, path, ...linted } = await writeRevision(ctx, dir, {
    message: o.message,
    ...(o.revId ? { revId: o.revId } : {}),
    down,
    ...(up.length ? { upgradeBody: renderBody(up), downgradeBody: renderBody(downOps) } : {}),
  });
  return { path, revision: id, downRevisions: [...down], changes, dataLoss, ...linted };
}

function describeOp(op: PlannedOp['op']): string {
  const touched = inspectOp(op).touches.map(describeObject);
  return `${op.op} ${touched.join(', ') || '(raw SQL)'}`;
}

export interface MergeResult {
  revision: string;
  path: string;
  downRevisions: string[];
  /** Objects both branches touch: a merge compiles, but the two changes may not compose. */
  conflicts: string[];
}

const refKey = (r: ObjectRef): string => describeObject(r);

/** What each revision of a branch touches, keyed by object. */
async function touchedBy(dir: ScriptDirectory, ids: Iterable<string>): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const id of ids) {
    const { ops } = await recordStep(dir.scripts.get(id)!, 'upgrade').catch(() => ({ ops: [] }));
    for (const op of ops) {
      for (const ref of inspectOp(op).touches) {
        const k = refKey(ref);
        if (!out.has(k)) out.set(k, new Set());
        out.get(k)!.add(id);
      }
    }
  }
  return out;
}

export async function merge(ctx: CommandContext, o: { message: string; revisions?: readonly string[]; revId?: string }): Promise<MergeResult> {
  const dir = await ctx.scripts();
  const specs = o.revisions?.length ? o.revisions : ['heads'];
  const down = [...new Set(specs.flatMap((s) => resolveTarget(dir.map, s, [])))];
  if (down.length < 2) throw new ResolutionError(`nothing to merge: ${specs.join(' ')} is one revision (${down.join(', ') || 'base'})`);
  const closures = down.map((id) => dir.map.closure([id]));
  const common = new Set([...closures[0]!].filter((id) => closures.every((c) => c.has(id))));
  const touched = await Promise.all(closures.map((c) => touchedBy(dir, [...c].filter((id) => !common.has(id)))));
  const conflicts: string[] = [];
  for (let i = 0; i < touched.length; i++) {
    for (let j = i + 1; j < touched.length; j++) {
      for (const [obj, revs] of touched[i]!) {
        const other = touched[j]!.get(obj);
        if (other) conflicts.push(`${obj}: changed by ${[...revs].join(', ')} and by ${[...other].join(', ')}`);
      }
    }
  }
  const { id, path } = await writeRevision(ctx, dir, { message: o.message, ...(o.revId ? { revId: o.revId } : {}), down });
  return { revision: id, path, downRevisions: down, conflicts };
}
