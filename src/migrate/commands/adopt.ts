import { errorText, NoSchemaError, oneLine, StateError, UsageError } from '../errors.js';
import type { SqlSession } from '../runtime/client.js';
import type { Executor } from '../runtime/executor.js';
import type { Migrator } from '../runtime/migrator.js';
import { inline } from '../runtime/version-table.js';
import { alignmentStatements, nullCountSql, planAlignment, type AlignStatement, type NullGuard } from '../schema/align.js';
import { databaseCatalog, ignoredTables } from '../schema/compare.js';
import { describeDifference, diffCatalogs } from '../schema/diff.js';
import { revisionCatalogs } from '../schema/revisions.js';
import type { CommandContext } from './context.js';

/**
 * `adopt`: which revision does a database that no migration tool built
 * match, exactly or most closely, and what would align it? And, on request,
 * the alignment itself, followed by the stamp. The comparison is the one
 * `check` uses (introspect, diffCatalogs), against the schema each revision
 * builds in a scratch database.
 */

export interface NullCheck {
  table: string;
  column: string;
  /** Rows that hold a null now: each blocks the NOT NULL. */
  rows: number;
  /** What `--fill-nulls` sets them to; null when nothing can. */
  fill: string | null;
}

export interface AdoptResult {
  database: string;
  /** What the version table records ([] when it is absent or empty). */
  recorded: string[];
  /** The revision the schema matches exactly, or the closest one. */
  revision: string;
  exact: boolean;
  /** Each difference from that revision, in words. */
  differences: string[];
  /** Every revision with its count of differences, closest first. */
  candidates: { revision: string; differences: number }[];
  /** The differences adopt does not repair (hand edits beyond the revision), in words. */
  refused: string[];
  nulls: NullCheck[];
  /** What `--apply` runs before it stamps, in order. */
  steps: AlignStatement[];
  /** What `--apply` would do. */
  action: 'align' | 'stamp' | 'none' | 'refuse';
  /** Why `--apply` refuses; null when it would not. */
  blocked: string | null;
}

export interface AdoptOptions {
  /** Set nulls that block a NOT NULL from the column's siblings or default instead of refusing. */
  fillNulls?: boolean;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function requireScratch(ctx: CommandContext) {
  const model = ctx.config.model;
  if (!model) throw new UsageError('this project gives the migration engine no scratch database to build its revisions in');
  return model;
}

/** Everything adopt knows about a database, read through `q` (the pool, or the locked session when applying). */
async function survey(ctx: CommandContext, migrator: Migrator, q: Pick<SqlSession, 'query'>, database: string, o: AdoptOptions): Promise<AdoptResult> {
  const model = requireScratch(ctx);
  const ignore = ignoredTables(migrator.versions, ctx.config.ignoreTables);
  const actual = await databaseCatalog(q, ignore);
  const marker = ctx.config.markerTable;
  if (marker ? !actual.tables.some((t) => t.name === marker) : actual.tables.length === 0) {
    throw new NoSchemaError(`${database} has no ${marker ? `table ${marker}` : 'tables'} in schema public: nothing to adopt ('upgrade head' builds the schema)`);
  }
  const recorded = await migrator.versions.read(q);
  const catalogs = await revisionCatalogs(migrator.scripts, {
    scratch: () => model.scratch(),
    ignore,
    ...(ctx.config.versionTable ? { versionTable: ctx.config.versionTable } : {}),
  });
  // Closest: the fewest differences adopt cannot repair (what the database has beyond the revision), then
  // the fewest differences; on a tie the revision recorded, then the later one (catalogs are parents first).
  const ranked = [...catalogs]
    .map(([revision, wanted], order) => {
      const diffs = diffCatalogs(actual, wanted);
      return { revision, order, diffs, alignment: planAlignment(diffs) };
    })
    .sort(
      (a, b) =>
        a.alignment.refused.length - b.alignment.refused.length ||
        a.diffs.length - b.diffs.length ||
        Number(recorded.includes(b.revision)) - Number(recorded.includes(a.revision)) ||
        b.order - a.order,
    );
  const best = ranked[0];
  if (!best) throw new StateError(`${migrator.scripts.dir} holds no revisions to compare the database with`);
  const sides = { actual: 'the database', wanted: `revision ${best.revision}` };
  const alignment = best.alignment;
  const nulls: NullCheck[] = [];
  for (const g of alignment.guards) {
    const [row] = await q.query<{ n: number }>(nullCountSql(g));
    nulls.push({ ...g, rows: Number(row?.n ?? 0) });
  }
  const fill: NullGuard[] = o.fillNulls ? nulls.filter((n) => n.rows > 0) : [];
  const enabled = fill.length ? await enabledTriggers(q) : [];
  const steps = alignmentStatements(alignment, { fill, triggersOf: (table) => enabled.filter((t) => t.table === table).map((t) => t.name) });
  const refused = alignment.refused.map((d) => describeDifference(d, sides));
  const exact = best.diffs.length === 0;
  const blocked = refused.length
    ? `${plural(refused.length, 'difference')} from revision ${best.revision} ${refused.length === 1 ? 'is' : 'are'} not adopt's to repair ` +
      `(${refused.join('; ')}): change the database by hand or write a revision for it; nothing was changed`
    : blockingNulls(nulls, o);
  const stamped = recorded.length === 1 && recorded[0] === best.revision;
  return {
    database,
    recorded,
    revision: best.revision,
    exact,
    differences: best.diffs.map((d) => describeDifference(d, sides)),
    candidates: ranked.map((r) => ({ revision: r.revision, differences: r.diffs.length })),
    refused,
    nulls,
    steps,
    action: exact ? (stamped ? 'none' : 'stamp') : blocked ? 'refuse' : 'align',
    blocked: exact ? null : blocked,
  };
}

function blockingNulls(nulls: readonly NullCheck[], o: AdoptOptions): string | null {
  const blocking = nulls.filter((n) => n.rows > 0 && (!o.fillNulls || n.fill === null));
  if (!blocking.length) return null;
  const what = blocking.map((n) => `${n.table}.${n.column} is null in ${plural(n.rows, 'row')}`).join(', ');
  const fills = blocking.filter((n) => n.fill !== null);
  const way = fills.length && !o.fillNulls ? ` (--fill-nulls sets ${fills.map((n) => `${n.column} to ${n.fill}`).join(', ')})` : ' and nothing can fill it';
  return `${what}, so NOT NULL cannot be set; nothing was changed${way}`;
}

/** Triggers that fire now, by table: those a fill switches off for its UPDATE and back on after it. */
async function enabledTriggers(q: Pick<SqlSession, 'query'>): Promise<{ table: string; name: string }[]> {
  return q.query<{ table: string; name: string }>(
    `SELECT c.relname AS "table", t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgenabled <> 'D' ORDER BY 1, 2`,
  );
}

/** Read only: the revision the database matches, its differences, and the alignment `--apply` would run. */
export async function adopt(ctx: CommandContext, o: AdoptOptions = {}): Promise<AdoptResult> {
  const { migrator, database } = await ctx.migrator();
  return survey(ctx, migrator, await ctx.connect(), database, o);
}

export interface AppliedAdoption {
  database: string;
  revision: string;
  /** The statements that ran (none for a stamp alone). */
  steps: AlignStatement[];
  /** The version table before and after the stamp. */
  from: string[];
  to: string[];
  ms: number;
}

const sameSteps = (a: readonly AlignStatement[], b: readonly AlignStatement[]): boolean =>
  a.length === b.length && a.every((s, i) => s.sql === b[i]!.sql && s.transactional === b[i]!.transactional);

/**
 * Aligns the database with its closest revision and stamps it, under the
 * migration lock. Everything is read again under the lock: when `reviewed`
 * (the steps a person approved) is given and the steps differ, nothing runs.
 * The transactional steps run in one transaction, so a failure among them
 * (a null that appeared since the count) changes nothing; the concurrent
 * index builds follow, one by one, and an interrupted one is dropped again
 * so that running adopt again finishes the work.
 */
export async function applyAdoption(ctx: CommandContext, o: AdoptOptions & { reviewed?: readonly AlignStatement[] } = {}): Promise<AppliedAdoption> {
  const started = performance.now();
  const { migrator, database } = await ctx.migrator();
  const first = await adopt(ctx, o);
  if (first.action === 'none') return { database, revision: first.revision, steps: [], from: first.recorded, to: first.recorded, ms: performance.now() - started };
  const { result, from, to } = await migrator.align(async (x) => {
    const now = await survey(ctx, migrator, x, database, o);
    if (now.blocked) throw new StateError(now.blocked);
    if (o.reviewed && !sameSteps(now.steps, o.reviewed)) {
      throw new StateError('the schema changed since the alignment was shown: nothing was changed; run adopt again and review the new steps');
    }
    if (now.revision !== first.revision) throw new StateError(`the database now matches ${now.revision} most closely, not ${first.revision}: nothing was changed; run adopt again`);
    await run(x, now.steps);
    return now;
  }, first.revision);
  return { database, revision: result.revision, steps: result.steps, from, to, ms: performance.now() - started };
}

async function run(x: Executor, steps: readonly AlignStatement[]): Promise<void> {
  const inTx = steps.filter((s) => s.transactional);
  if (inTx.length) {
    await x.begin();
    try {
      for (const s of inTx) await x.ddl(s.sql);
      await x.commit();
    } catch (e) {
      await x.rollback();
      throw failure(x, e, 'nothing was changed');
    }
  }
  const done = inTx.length ? 'the steps before it committed; run adopt again to finish' : 'run adopt again to finish';
  for (const s of steps.filter((t) => !t.transactional)) {
    try {
      await x.ddl(s.sql);
    } catch (e) {
      if (s.cleanup) await x.ddl(s.cleanup).catch(() => {});
      throw failure(x, e, done);
    }
  }
}

function failure(x: Executor, e: unknown, outcome: string): StateError {
  const at = x.failedStatement ? ` at: ${oneLine(x.failedStatement, 160)}` : '';
  return new StateError(`the alignment failed${at}: ${oneLine(errorText(e), 300)}; ${outcome}`);
}

/** The alignment and the stamp as a script a DBA reviews and runs, from what the database holds now. */
export async function adoptSql(ctx: CommandContext, o: AdoptOptions = {}): Promise<string> {
  const r = await adopt(ctx, o);
  if (r.blocked) throw new StateError(r.blocked);
  const { migrator } = await ctx.migrator();
  const out = [`-- adopt: aligns ${r.database} with revision ${r.revision}, then stamps it`];
  for (const n of r.nulls) out.push(`-- ${n.table}.${n.column}: ${plural(n.rows, 'row')} held a null when this was written (SET NOT NULL fails, and the transaction with it, on any null)`);
  const inTx = r.steps.filter((s) => s.transactional);
  if (inTx.length) out.push('', 'BEGIN;', ...inTx.map((s) => `${s.sql};`), 'COMMIT;');
  const concurrent = r.steps.filter((s) => !s.transactional);
  if (concurrent.length) {
    out.push('', '-- Outside a transaction, one at a time (CONCURRENTLY does not block writes). If a build fails, drop the invalid index it leaves and run these again.');
    out.push(...concurrent.map((s) => `${s.sql};`));
  }
  const v = migrator.versions;
  const stamp = v.transition(r.recorded, [r.revision]);
  if (stamp.length) out.push('', 'BEGIN;', `${v.createSql};`, ...stamp.map((s) => `${inline(s)};`), 'COMMIT;');
  return out.join('\n') + '\n';
}
