import { ResolutionError, UsageError } from '../errors.js';
import { downgradePlan, upgradePlan, type Step } from '../revisions/plan.js';
import { resolveRange, resolveTarget, type Heads } from '../revisions/targets.js';
import type { HistoryRow } from '../runtime/history.js';
import type { Progress } from '../runtime/progress.js';
import { describeStep, type RunOptions } from '../runtime/migrator.js';
import type { Script, ScriptDirectory } from '../script/loader.js';
import { parentsFor, writeRevision, type WrittenLint } from './authoring.js';
import type { CommandContext } from './context.js';

/**
 * The engine's commands, as Alembic's command.py has them: functions that
 * take a context and return data. They print nothing; the CLI (or any other
 * host) decides how to show what they return.
 */

export interface RevisionSummary {
  revision: string;
  downRevisions: string[];
  message: string;
  description: string | null;
  createDate: string | null;
  path: string | null;
  isHead: boolean;
  isBranchPoint: boolean;
  isMergePoint: boolean;
  transactional: boolean;
  children: string[];
  /** Present when the command looked at the database. */
  isCurrent?: boolean;
}

export function summarize(s: Script, dir: ScriptDirectory, current?: Heads): RevisionSummary {
  const children = dir.map.childrenOf(s.id);
  return {
    revision: s.id,
    downRevisions: [...s.downRevisions],
    message: s.message,
    description: s.description ?? null,
    createDate: s.createDate ?? null,
    path: s.path ?? null,
    isHead: dir.map.heads.includes(s.id),
    isBranchPoint: children.length > 1,
    isMergePoint: s.downRevisions.length > 1,
    transactional: s.transactional,
    children: [...children],
    ...(current ? { isCurrent: current.includes(s.id) } : {}),
  };
}

export interface StepReport {
  revision: string;
  direction: 'upgrade' | 'downgrade';
  /** Alembic's `<from> -> <to>` wording. */
  label: string;
  message: string;
  ms: number;
  warnings: string[];
}

export interface MoveResult {
  direction: 'upgrade' | 'downgrade';
  database: string;
  target: string;
  steps: StepReport[];
  /** The revisions recorded after the run. */
  current: string[];
  heads: string[];
  ms: number;
}

const RELATIVE = /^([+-])\d+$/;

/** Alembic refuses a relative step that points the other way (`upgrade -1`). */
function checkDirection(direction: 'upgrade' | 'downgrade', target: string): void {
  const rel = RELATIVE.exec(target.trim());
  if (!rel) return;
  const up = rel[1] === '+';
  if (up !== (direction === 'upgrade')) {
    const other = direction === 'upgrade' ? 'downgrade' : 'upgrade';
    throw new ResolutionError(`'${direction} ${target}' would move ${up ? 'up' : 'down'}: use '${other} ${target.trim().replace(/^[+-]/, up ? '+' : '-')}'`);
  }
}

async function move(ctx: CommandContext, direction: 'upgrade' | 'downgrade', target: string, o: RunOptions): Promise<MoveResult> {
  checkDirection(direction, target);
  const started = performance.now();
  const { migrator, database } = await ctx.migrator();
  ctx.config.onEvent?.({ type: 'run-start', direction, target, database });
  const results = await migrator[direction](target, o);
  const scripts = migrator.scripts.scripts;
  return {
    direction,
    database,
    target,
    steps: results.map((r) => {
      const s = scripts.get(r.step.revision)!;
      return { revision: s.id, direction: r.step.direction, label: describeStep(r.step, s.downRevisions), message: s.message, ms: r.ms, warnings: r.warnings };
    }),
    current: await migrator.current(),
    heads: migrator.heads(),
    ms: performance.now() - started,
  };
}

export function upgrade(ctx: CommandContext, target = 'heads', o: RunOptions = {}): Promise<MoveResult> {
  return move(ctx, 'upgrade', target, o);
}

export function downgrade(ctx: CommandContext, target: string, o: RunOptions = {}): Promise<MoveResult> {
  return move(ctx, 'downgrade', target, o);
}

/** Every step the engine recorded in the database, oldest first. */
export async function appliedHistory(ctx: CommandContext): Promise<{ database: string; table: string; rows: HistoryRow[] }> {
  const { migrator, database } = await ctx.migrator();
  return { database, table: migrator.history.qualified, rows: await migrator.applied() };
}

/** Accepts, after review, the new checksum of an applied revision that changed. */
export async function acceptChecksum(ctx: CommandContext, rev: string): Promise<{ database: string; revision: string; replaced: string | null; checksum: string }> {
  const { migrator, database } = await ctx.migrator();
  return { database, ...(await migrator.acceptChecksum(rev)) };
}

/** A target offline: there is no database, so nothing may be relative to what it records. */
function offlineTarget(dir: ScriptDirectory, spec: string): Heads {
  const s = spec.trim();
  if (s === 'current' || RELATIVE.test(s)) {
    throw new UsageError(`'${s}' is relative to the database's current revision, which --sql does not read: name a revision (e.g. 001:head)`);
  }
  return resolveTarget(dir.map, s, []);
}

/** The steps `--sql` renders for `[from:]to`; an empty range is an error, not an empty script. */
export async function offlinePlan(ctx: CommandContext, direction: 'upgrade' | 'downgrade', range: string): Promise<Step[]> {
  const dir = await ctx.scripts();
  const parts = range.split(':');
  if (parts.length > 2) throw new UsageError(`'${range}' must be <to> or <from>:<to>`);
  const [fromSpec, toSpec] = parts.length === 2 ? parts : [undefined, parts[0]!];
  if (direction === 'downgrade' && fromSpec === undefined) {
    throw new UsageError('downgrade --sql needs a starting point: <from>:<to>, e.g. head:base');
  }
  const from = fromSpec ? offlineTarget(dir, fromSpec) : [];
  const to = offlineTarget(dir, toSpec!);
  const steps = direction === 'upgrade' ? upgradePlan(dir.map, from, to) : downgradePlan(dir.map, from, to);
  if (steps.length === 0) {
    const other = direction === 'upgrade' ? 'downgrade' : 'upgrade';
    throw new ResolutionError(`${direction} --sql ${range}: the range holds no ${direction} step (did you mean '${other} --sql ${range}'?)`);
  }
  return steps;
}

/** The SQL `upgrade`/`downgrade` would run over a range, rendered without a database. */
export async function sql(ctx: CommandContext, direction: 'upgrade' | 'downgrade', range: string): Promise<string> {
  const steps = await offlinePlan(ctx, direction, range);
  // Only --sql renders offline: the renderer is not loaded otherwise.
  const { renderSql } = await import('../runtime/offline.js');
  return renderSql(await ctx.scripts(), steps, {
    ...(ctx.config.versionTable ? { versionTable: ctx.config.versionTable } : {}),
    ...(ctx.config.policy?.transactionMode ? { transactionMode: ctx.config.policy.transactionMode } : {}),
  });
}

export interface CurrentResult {
  database: string;
  current: string[];
  /** Recorded revisions, each described; null where no script defines it. */
  revisions: (RevisionSummary | null)[];
  /** Recorded revisions no script defines. */
  unknown: string[];
  heads: string[];
  atHead: boolean;
  /** A revision interrupted between its transactions, which the next run resumes. */
  interrupted: Progress[];
}

export async function current(ctx: CommandContext): Promise<CurrentResult> {
  const { migrator, database } = await ctx.migrator();
  const dir = migrator.scripts;
  const now = await migrator.current();
  const heads = migrator.heads();
  return {
    database,
    current: now,
    revisions: now.map((id) => {
      const s = dir.scripts.get(id);
      return s ? summarize(s, dir, now) : null;
    }),
    unknown: migrator.unknown(now),
    heads,
    atHead: now.length === heads.length && now.every((h) => heads.includes(h)),
    interrupted: await migrator.interrupted(),
  };
}

export async function history(ctx: CommandContext, o: { range?: string; indicateCurrent?: boolean } = {}): Promise<RevisionSummary[]> {
  const dir = await ctx.scripts();
  const needsDb = o.indicateCurrent || /current|(^|:)[+-]\d/.test(o.range ?? '');
  const now = needsDb ? await (await ctx.migrator()).migrator.current() : [];
  return resolveRange(dir.map, o.range, now).map((id) => summarize(dir.scripts.get(id)!, dir, o.indicateCurrent ? now : undefined));
}

export async function heads(ctx: CommandContext): Promise<RevisionSummary[]> {
  const dir = await ctx.scripts();
  return dir.map.heads.map((id) => summarize(dir.scripts.get(id)!, dir));
}

export async function branches(ctx: CommandContext): Promise<RevisionSummary[]> {
  const dir = await ctx.scripts();
  return dir.map.branchPoints().map((id) => summarize(dir.scripts.get(id)!, dir));
}

export async function show(ctx: CommandContext, rev: string): Promise<RevisionSummary[]> {
  const dir = await ctx.scripts();
  const ids = resolveTarget(dir.map, rev, []);
  if (ids.length === 0) throw new ResolutionError(`'${rev}' is base, which is not a revision`);
  return ids.map((id) => summarize(dir.scripts.get(id)!, dir));
}

export async function stamp(ctx: CommandContext, rev: string, o: { purge?: boolean } = {}): Promise<{ database: string; from: string[]; to: string[] }> {
  const { migrator, database } = await ctx.migrator();
  return { database, ...(await migrator.stamp(rev, o)) };
}

export interface NewRevisionResult extends WrittenLint {
  revision: string;
  downRevisions: string[];
  path: string;
}

/** A new, empty revision on top of the head (or of `head`; a non-head only with `splice`, starting a branch). */
export async function revision(ctx: CommandContext, o: { message: string; revId?: string; head?: string; splice?: boolean }): Promise<NewRevisionResult> {
  const dir = await ctx.scripts();
  const down = parentsFor(dir, o);
  const { id, path, ...linted } = await writeRevision(ctx, dir, { message: o.message, ...(o.revId ? { revId: o.revId } : {}), down });
  return { revision: id, downRevisions: [...down], path, ...linted };
}

export { check, autogenerate, merge, lint, type WrittenLint, type CheckResult, type AutogenerateOptions, type AutogenerateResult, type MergeResult, type LintResult } from './authoring.js';
export { adopt, applyAdoption, adoptSql, type AdoptOptions, type AdoptResult, type AppliedAdoption, type NullCheck } from './adopt.js';
export { CommandContext, type Connection, type MigrateConfig } from './context.js';
