import { relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import * as commands from '../commands/index.js';
import { CommandContext, type MigrateConfig } from '../commands/context.js';
import type { RevisionSummary } from '../commands/index.js';
import { errorText, LintError, MigrateError, oneLine, StateError, UsageError } from '../errors.js';
import type { LintFinding } from '../safety/lint.js';
import { DEPLOY_POLICY } from '../runtime/policy.js';
import { describeStep, unknownRevisionError, type MigrationEvent } from '../runtime/migrator.js';
import { MAX_ID_LENGTH } from '../script/loader.js';

/** What the host project supplies: its versions folder, how to reach its database, and how it names things. */
export interface CliEnvironment extends Omit<MigrateConfig, 'onEvent'> {
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** How a user types the command, for usage lines and help examples (e.g. `npm run migrate --`); default `migrate`. */
  invocation?: string;
  /** The host's version, for `--version`. */
  version?: string;
  /** The host's words on which database the CLI uses (its own variables), shown at the end of --help. */
  databaseHelp?: string;
  /** Asks a yes/no question (adopt --apply without --yes); default: on a terminal, stdin; elsewhere there is no one to ask. */
  confirm?: (question: string) => Promise<boolean>;
}

/** A yes/no on the terminal. */
async function askOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

const EXIT_CODES = `
Exit codes:
  0  success
  1  failure or refusal (unknown revision, failed step, unreachable database); nothing half-done
  2  usage error (unknown command or option, missing argument); for adopt also: the database holds no schema to adopt`;

const baseLabel = (ids: readonly string[]): string => (ids.length ? ids.join(', ') : '<base>');
const headMark = (heads: readonly string[], id: string): string => (heads.includes(id) ? ' (head)' : '');

function line(s: RevisionSummary): string {
  const marks = [s.isHead && 'head', s.isBranchPoint && 'branchpoint', s.isMergePoint && 'mergepoint', s.isCurrent && 'current'].filter(Boolean);
  return `${baseLabel(s.downRevisions)} -> ${s.revision}${marks.length ? ` (${marks.join(') (')})` : ''}, ${s.message}`;
}

function full(s: RevisionSummary): string {
  const marks = [s.isHead && '(head)', s.isCurrent && '(current)'].filter(Boolean).join(' ');
  return [
    `Rev: ${s.revision}${marks ? ` ${marks}` : ''}`,
    `Parent: ${baseLabel(s.downRevisions)}`,
    ...(s.children.length ? [`Children: ${s.children.join(', ')}`] : []),
    `Path: ${s.path ?? '?'}`,
    '',
    `    ${s.message}`,
    ...(s.description ? ['', ...s.description.split('\n').map((l) => `    ${l}`)] : []),
    '',
    `    Revision ID: ${s.revision}`,
    `    Revises: ${s.downRevisions.join(', ')}`,
    `    Create Date: ${s.createDate ?? 'unknown'}`,
    ...(s.transactional ? [] : ['    Transactional: no (runs outside a transaction; written to be resumable)']),
  ].join('\n');
}

/** The JSON shape the CLI has always given for a revision (without the fields only text output uses). */
function json({ children: _c, isMergePoint: _m, ...s }: RevisionSummary): Omit<RevisionSummary, 'children' | 'isMergePoint'> {
  return s;
}

/** What adopt found, for a reviewer: the match, each difference, the null counts and the statements --apply runs. */
function printAdoption(r: commands.AdoptResult, out: (s: string) => void): void {
  out(`Database: ${r.database}`);
  out(`Version table: ${r.recorded.length ? `records ${r.recorded.join(', ')}` : 'none (never stamped)'}`);
  const others = r.candidates.filter((c) => c.revision !== r.revision).map((c) => `${c.revision}: ${c.differences}`);
  if (r.exact) {
    out(`Exact match: revision ${r.revision}`);
    out(r.action === 'none' ? 'Nothing to do: it is stamped with that revision.' : `Not stamped with it: 'adopt --apply' stamps ${r.revision} (no statement runs).`);
    return;
  }
  out(`Closest revision: ${r.revision}, ${r.differences.length} difference${r.differences.length === 1 ? '' : 's'}${others.length ? ` (others: ${others.join(', ')})` : ''}`);
  for (const d of r.differences) out(`  - ${d}`);
  for (const n of r.nulls) out(`Null check: ${n.table}.${n.column} is null in ${n.rows} row${n.rows === 1 ? '' : 's'}`);
  if (r.refused.length) {
    out(`Not repaired by adopt (a person decides): ${r.refused.length}`);
    for (const d of r.refused) out(`  - ${d}`);
    return;
  }
  out(`Alignment (${r.blocked ? "'adopt --apply' refuses it as things are: see the error" : `'adopt --apply' runs it, then stamps ${r.revision}`}):`);
  for (const s of r.steps) out(`  ${s.transactional ? '' : '(outside a transaction) '}${s.sql.replace(/\n/g, '\n    ')};`);
}

/** `--lock-wait 30` (seconds, fractions allowed) as milliseconds; a bad value is a usage error. */
export function secondsToMs(raw: string, what: string): number {
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${what} must be a number of seconds, 0 or more (got '${raw}')`);
  return Math.round(n * 1000);
}

/** `001_add_version_column upgrade: index-not-concurrent: index ... is built without CONCURRENTLY`. */
function finding(f: LintFinding): string {
  return `${f.revision} ${f.direction}: ${f.rule}: ${f.message}`;
}

const lintHint = (f: LintFinding): string => `change it, or accept it in the revision: lint: { accept: { '${f.rule}': '<why it is safe here>' } }`;

/** Findings of a revision just written, as warnings: it is a draft, its author decides. */
function lintWarnings(r: commands.WrittenLint, err: (s: string) => void): void {
  if (r.notLinted !== null) err(`WARNING: not linted: ${r.notLinted}`);
  for (const f of r.lint) err(`WARNING: lint: ${finding(f)} (${f.statement}); ${lintHint(f)}`);
}

/** The one-line refusal of `check`: what is wrong, and the way out of each. */
function checkProblems(r: commands.CheckResult): string {
  const parts: string[] = [];
  const n = r.differences.length;
  const differences = `${n} difference${n === 1 ? '' : 's'} between the database and the model`;
  if (!r.atHead) parts.push(`not at head${n ? `, ${differences}` : ''}; upgrade first`);
  else if (n) parts.push(`${differences}: the model changed without a revision (revision --autogenerate writes one)`);
  const changed = r.changedChecksums.map((c) => c.revision);
  if (changed.length) parts.push(`applied revision${changed.length === 1 ? '' : 's'} changed since ${changed.length === 1 ? 'it' : 'they'} ran: ${changed.join(', ')}`);
  if (r.lint.length) parts.push(lintSummary(r.lint));
  return parts.join('; ');
}

function lintSummary(unaccepted: readonly LintFinding[]): string {
  const revs = [...new Set(unaccepted.map((f) => f.revision))];
  return `${unaccepted.length} lint finding${unaccepted.length === 1 ? '' : 's'} not accepted, in ${revs.join(', ')}`;
}

function ms(n: number): string {
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`;
}

/**
 * The command line: parses arguments, calls the engine's command functions,
 * prints what they return as text or `--json`, and maps errors to exit codes
 * once. It decides nothing about migrations itself.
 */
export async function runCli(argv: readonly string[], env: CliEnvironment): Promise<number> {
  const out = env.out ?? ((s: string) => process.stdout.write(s + '\n'));
  const err = env.err ?? ((s: string) => process.stderr.write(s + '\n'));
  const cmd = env.invocation ?? 'migrate';
  const examples = (...lines: string[]): string =>
    `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${cmd} ${l}`).join('\n')}`;
  const progress = (e: MigrationEvent): void => {
    switch (e.type) {
      case 'waiting-for-lock':
        err(`waiting for another migration to finish (advisory lock held; ${Math.round(e.waitedMs / 1000)} s so far${e.limitMs === null ? '' : `, giving up after ${Math.round(e.limitMs / 1000)} s`})...`);
        break;
      case 'step-done':
        out(`  ${e.step.direction} ${describeStep(e.step, e.script.downRevisions)}, ${e.script.message} ... ${ms(e.ms)}`);
        break;
      case 'warning':
        err(`WARNING ${e.revision}: ${e.message}`);
        break;
      case 'retry':
        err(`  ${e.revision}: lock timeout (${oneLine(e.reason, 80)}); retry ${e.attempt} of ${e.of} in ${ms(e.waitMs)}`);
        break;
      case 'resume':
        err(`resuming ${e.step.direction} of ${e.step.revision}, interrupted on ${e.since.toISOString()}: ${e.done} of its operations stand and are skipped`);
        break;
      case 'progress':
        err(`  ${e.revision}: ${e.message}`);
        break;
      case 'run-start':
        err(`${e.direction} on ${e.database} to ${e.target}`);
        break;
      case 'step-start':
        break;
    }
  };
  const config: MigrateConfig = { ...env, policy: { ...DEPLOY_POLICY, ...env.policy }, onEvent: progress };
  const ctx = new CommandContext(config);
  /** A per-command `--lock-wait`, over the host's setting. */
  const lockWait = (o: { lockWait?: string }): void => {
    if (o.lockWait !== undefined) config.policy = { ...config.policy, lockWaitMs: secondsToMs(o.lockWait, '--lock-wait') };
  };
  const lockWaitOption = (): Option => new Option('--lock-wait <seconds>', 'give up (exit 1) after waiting this long for another migration; default: wait');

  const program = new Command(cmd)
    .description('Alembic-grade schema migrations for PostgreSQL (server or embedded).')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `${EXIT_CODES}${env.databaseHelp ? `\n\n${env.databaseHelp}` : ''}`)
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) });
  if (env.version) program.version(env.version, '-V, --version', 'print the version and exit');

  const moveAction = (direction: 'upgrade' | 'downgrade') =>
    async (target: string, o: { sql?: boolean; allowDataLoss?: boolean; lockWait?: string }): Promise<void> => {
      if (o.sql) {
        out(await commands.sql(ctx, direction, target));
        return;
      }
      lockWait(o);
      const r = await commands[direction](ctx, target, { allowDataLoss: o.allowDataLoss === true });
      const at = r.current.length ? r.current.map((h) => h + headMark(r.heads, h)).join(', ') : '<base>';
      out(
        r.steps.length === 0
          ? `nothing to do: already at ${at}`
          : `${direction} done: ${r.steps.length} step${r.steps.length === 1 ? '' : 's'} in ${ms(r.ms)}, now at ${at}`,
      );
    };

  program
    .command('upgrade')
    .description('apply revisions up to a target (each in its own transaction)')
    .argument('[target]', "head, heads, +N, <rev>, <rev>+N; with --sql also <from>:<to>", 'heads')
    .option('--sql', 'print the SQL instead of running it (offline; no database needed)')
    .option('--allow-data-loss', 'run steps that drop a column or table holding data (refused otherwise)')
    .addOption(lockWaitOption())
    .addHelpText('after', examples('upgrade head', 'upgrade +1', 'upgrade 001', 'upgrade --sql base:head > upgrade.sql'))
    .action(moveAction('upgrade'));

  program
    .command('downgrade')
    .description('undo revisions down to a target (each in its own transaction)')
    .argument('<target>', '-N, base, <rev>, <rev>-N; with --sql <from>:<to>')
    .option('--sql', 'print the SQL instead of running it (offline; no database needed)')
    .option('--allow-data-loss', 'run steps that drop a column or table holding data (refused otherwise)')
    .addOption(lockWaitOption())
    .addHelpText('after', examples('downgrade -1', 'downgrade 000_initial_schema', 'downgrade base', 'downgrade --sql head:001'))
    .action(moveAction('downgrade'));

  program
    .command('current')
    .description("show the database's current revision")
    .option('-v, --verbose', 'show each revision in full and the database used')
    .option('--check-heads', 'exit 1 unless the database is at every head')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('current', 'current --json', 'current --check-heads   # in a deploy script'))
    .action(async (o: { json?: boolean; verbose?: boolean; checkHeads?: boolean }) => {
      const r = await commands.current(ctx);
      if (o.json) out(JSON.stringify({ database: r.database, current: r.current, heads: r.heads, atHead: r.atHead, unknown: r.unknown, interrupted: r.interrupted }));
      else {
        if (o.verbose) out(`Database: ${r.database}`);
        if (r.current.length === 0) out('<base> (no revision applied)');
        r.revisions.forEach((s, i) => {
          if (!s) out(`${r.current[i]} (unknown: no script defines it)`);
          else out(o.verbose ? full(s) : `${s.revision}${headMark(r.heads, s.revision)}`);
        });
        for (const p of r.interrupted) {
          out(`${p.revision} ${p.direction} interrupted on ${p.updatedAt.toISOString()} with ${p.done} of its operations done: the next '${p.direction}' resumes it`);
        }
      }
      if (r.unknown.length) throw unknownRevisionError(r.unknown, env.versionsDir);
      if (o.checkHeads && !r.atHead) {
        throw new StateError(`the database is at ${r.current.length ? r.current.join(', ') : 'base'}, not at every head (${r.heads.join(', ')})`);
      }
    });

  program
    .command('history')
    .description('list revisions, newest first')
    .option('-r, --rev-range <range>', 'only <lower>:<upper> (either side may be empty; base, head, current, +N/-N)')
    .option('-v, --verbose', 'show each revision in full')
    .option('-i, --indicate-current', 'mark the database’s current revision (connects to it)')
    .option('--applied', 'list the steps applied to the database, from its history table (connects to it)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('history', 'history -r 000:head -v', 'history -i --json', 'history --applied'))
    .action(async (o: { json?: boolean; revRange?: string; verbose?: boolean; indicateCurrent?: boolean; applied?: boolean }) => {
      if (o.applied) {
        const h = await commands.appliedHistory(ctx);
        if (o.json) return out(JSON.stringify(h.rows));
        if (h.rows.length === 0) return err(`no steps recorded in ${h.table} on ${h.database}`);
        for (const r of h.rows) {
          out(`${r.startedAt.toISOString()}  ${r.direction.padEnd(9)} ${r.revision.padEnd(32)} ${r.checksum.slice(0, 12)}  ${ms(r.durationMs).padStart(8)}  ${r.dbUser} / ${r.runBy}`);
        }
        return;
      }
      const revs = await commands.history(ctx, { ...(o.revRange !== undefined ? { range: o.revRange } : {}), indicateCurrent: o.indicateCurrent === true });
      if (o.json) out(JSON.stringify(revs.map(json)));
      else for (const s of revs) out(o.verbose ? full(s) + '\n' : line(s));
    });

  program
    .command('heads')
    .description('show the head revisions of the scripts')
    .option('-v, --verbose', 'show each revision in full')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('heads'))
    .action(async (o: { json?: boolean; verbose?: boolean }) => {
      const revs = await commands.heads(ctx);
      if (o.json) return out(JSON.stringify(revs.map(json)));
      if (revs.length > 1) err(`note: ${revs.length} heads; merge them, or upgrade with 'heads'`);
      for (const s of revs) out(o.verbose ? full(s) : `${s.revision} (head)`);
    });

  program
    .command('branches')
    .description('show revisions where history branches')
    .option('-v, --verbose', 'show each revision in full')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('branches'))
    .action(async (o: { json?: boolean; verbose?: boolean }) => {
      const revs = await commands.branches(ctx);
      if (o.json) return out(JSON.stringify(revs.map((s) => ({ ...json(s), children: s.children }))));
      if (revs.length === 0) err('no branch points: history is linear');
      const all = new Map((await commands.history(ctx)).map((s) => [s.revision, s]));
      for (const s of revs) {
        out(o.verbose ? full(s) : `${s.revision} (branchpoint), ${s.message}`);
        for (const c of s.children) out(`  -> ${c}${all.get(c)!.isHead ? ' (head)' : ''}, ${all.get(c)!.message}`);
      }
    });

  program
    .command('show')
    .description('show one revision in full')
    .argument('<rev>', 'an id, a unique prefix, head, base-relative (<rev>+N) ...')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('show 001', 'show head --json'))
    .action(async (rev: string, o: { json?: boolean }) => {
      const revs = await commands.show(ctx, rev);
      if (o.json) out(JSON.stringify(revs.length === 1 ? json(revs[0]!) : revs.map(json)));
      else out(revs.map(full).join('\n\n'));
    });

  program
    .command('stamp')
    .description('record a revision as current without running any migration')
    .argument('<rev>', 'an id, head, heads or base')
    .option('--purge', 'empty the version table first (when it holds a revision no script knows)')
    .addOption(lockWaitOption())
    .addHelpText('after', `${examples('stamp head', 'stamp --purge 002_add_rejection_reason')}\n  (stamp head adopts a database built by other means)`)
    .action(async (rev: string, o: { purge?: boolean; lockWait?: string }) => {
      lockWait(o);
      const r = await commands.stamp(ctx, rev, { purge: o.purge === true });
      err(`stamp on ${r.database}`);
      out(`stamped ${baseLabel(r.from)} -> ${baseLabel(r.to)} (no migration ran)`);
    });

  program
    .command('accept-checksum')
    .description('accept, after review, the changed code of an applied revision (recorded in the history table)')
    .argument('<rev>', 'the applied revision whose new checksum to record')
    .addOption(lockWaitOption())
    .addHelpText('after', examples('accept-checksum 001_add_version_column'))
    .action(async (rev: string, o: { lockWait?: string }) => {
      lockWait(o);
      const r = await commands.acceptChecksum(ctx, rev);
      out(
        r.replaced === null
          ? `${r.revision}: checksum ${r.checksum.slice(0, 12)} already recorded, nothing to accept`
          : `${r.revision}: accepted checksum ${r.checksum.slice(0, 12)} (was ${r.replaced.slice(0, 12)})`,
      );
    });

  program
    .command('revision')
    .description('write a new revision file from the template (migrations/script.ts.tmpl), on top of the head')
    .requiredOption('-m, --message <message>', 'what the revision does (also names the file)')
    .option('--autogenerate', 'compare the model with the database (at head) and write the operations that bring it there, with their exact reverse')
    .option('--rename <old=new>', 'with --autogenerate: a table (old=new) or column (table.old=new) that was renamed, not dropped and added; repeatable', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--allow-empty', 'with --autogenerate: write the file even when nothing changed')
    .option('--rev-id <id>', `the revision id (letters, digits, _; at most ${MAX_ID_LENGTH}); default: next number`)
    .addOption(new Option('--head <rev>', 'the revision to build on, when there are several heads'))
    .option('--splice', 'with --head: allow building on a revision that is not a head (starts a branch)')
    .addHelpText(
      'after',
      examples(
        'revision --autogenerate -m "add notes to candidates"',
        'revision --autogenerate -m "rename notes" --rename candidates.notes=remarks',
        'revision -m "add provider index"',
        'revision -m "hotfix" --head 001 --splice',
      ),
    )
    .action(async (o: { message: string; autogenerate?: boolean; rename: string[]; allowEmpty?: boolean; revId?: string; head?: string; splice?: boolean }) => {
      const revId = o.revId ? { revId: o.revId } : {};
      if (!o.autogenerate) {
        if (o.rename.length || o.allowEmpty) throw new UsageError('--rename and --allow-empty go with --autogenerate');
        const r = await commands.revision(ctx, { message: o.message, ...revId, ...(o.head ? { head: o.head } : {}), splice: o.splice === true });
        out(`created ${relative(process.cwd(), r.path) || r.path} (revises ${baseLabel(r.downRevisions)})`);
        lintWarnings(r, err);
        return;
      }
      if (o.head || o.splice) throw new UsageError('--autogenerate builds on the head the database is at; --head and --splice are for hand-written revisions');
      const { parseRename } = await import('../autogen/plan.js');
      const r = await commands.autogenerate(ctx, { message: o.message, ...revId, renames: o.rename.map(parseRename), allowEmpty: o.allowEmpty === true });
      if (!r.path) {
        out('no changes detected: the database already matches the model (no file written; --allow-empty writes one anyway)');
        return;
      }
      for (const c of r.changes) out(`  detected ${c}`);
      for (const d of r.dataLoss) err(`WARNING: the upgrade drops ${d} and its data (marked DATA LOSS in the file); if it was renamed, use --rename`);
      out(`created ${relative(process.cwd(), r.path) || r.path} (revises ${baseLabel(r.downRevisions)}): review it, then upgrade head`);
      lintWarnings(r, err);
    });

  program
    .command('check')
    .description('exit 0 when the database is at head, its schema equals the model and no applied revision changed; 1 with each problem otherwise')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('check', 'check --json   # in CI'))
    .action(async (o: { json?: boolean }) => {
      const r = await commands.check(ctx);
      if (o.json) out(JSON.stringify(r));
      else {
        if (!r.atHead) out(`not at head: the database is at ${baseLabel(r.current)}, head is ${r.heads.join(', ')}`);
        for (const d of r.differences) out(d);
        for (const f of r.lint) out(`lint: ${finding(f)}; ${lintHint(f)}`);
        for (const c of r.changedChecksums) {
          out(`changed since applied: ${c.revision} (recorded ${c.recorded.slice(0, 12)}, now ${c.actual.slice(0, 12)}): restore the file, or review it and run 'accept-checksum ${c.revision}'`);
        }
        if (r.clean) out(`ok: the database is at ${r.heads.join(', ')} and matches the model`);
      }
      if (!r.clean) throw new StateError(checkProblems(r));
    });

  program
    .command('lint')
    .description('check every revision for lock-unsafe statements; exit 1 on a finding the revision does not accept with a reason')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('lint', 'lint --json   # in CI'))
    .action(async (o: { json?: boolean }) => {
      const r = await commands.lint(ctx);
      if (o.json) out(JSON.stringify(r.findings));
      else {
        for (const f of r.findings) {
          out(`${finding(f)}\n    ${f.statement || '(no statement)'}\n    ${f.accepted === null ? lintHint(f) : `accepted: ${f.accepted}`}`);
        }
        if (r.unaccepted.length === 0) out(`ok: ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}, every one accepted with a reason`);
      }
      if (r.unaccepted.length) throw new LintError(lintSummary(r.unaccepted));
    });

  program
    .command('adopt')
    .description('find the revision a database built by other means matches (exit 0 exactly, 1 with drift, 2 without the schema), and with --apply align and stamp it')
    .option('--apply', 'run the alignment shown (after a yes, or with --yes), then stamp the revision')
    .option('--yes', 'with --apply: do not ask')
    .option('--fill-nulls', 'set nulls that block a NOT NULL from the sibling timestamp or the default, instead of refusing')
    .option('--sql', 'print the alignment and the stamp as SQL to review and run by hand (reads the database, changes nothing)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', examples('adopt', 'adopt --sql > align.sql', 'adopt --apply', 'adopt --apply --yes --fill-nulls'))
    .action(async (o: { apply?: boolean; yes?: boolean; fillNulls?: boolean; sql?: boolean; json?: boolean }) => {
      const opts = { fillNulls: o.fillNulls === true };
      if (o.sql && (o.apply || o.json)) throw new UsageError('--sql prints a script; it goes with neither --apply nor --json');
      if (o.yes && !o.apply) throw new UsageError('--yes goes with --apply');
      const confirm = env.confirm ?? (process.stdin.isTTY ? askOnTerminal : undefined);
      // Said before the database is read: off a terminal nobody can answer, however the survey turns out.
      if (o.apply && !o.yes && !confirm) throw new UsageError('adopt --apply asks before it changes anything: not on a terminal, so add --yes to confirm');
      if (o.sql) return out(await commands.adoptSql(ctx, opts));
      const r = await commands.adopt(ctx, opts);
      if (o.json && !o.apply) out(JSON.stringify(r));
      if (!o.json) printAdoption(r, out);
      if (!o.apply) {
        if (!r.exact) {
          throw new StateError(
            `${r.differences.length} difference${r.differences.length === 1 ? '' : 's'} from revision ${r.revision}` +
              (r.blocked ? `; 'adopt --apply' refuses: ${r.blocked}` : ": 'adopt --apply' aligns the database with it and stamps it"),
          );
        }
        return;
      }
      if (r.blocked) throw new StateError(r.blocked);
      if (r.action === 'none') {
        if (o.json) out(JSON.stringify({ ...r, applied: null }));
        return;
      }
      const what = r.action === 'stamp' ? `stamp ${r.revision}` : `run these ${r.steps.length} statements on ${r.database} and stamp ${r.revision}`;
      if (!o.yes && !(await confirm!(`${what[0]!.toUpperCase()}${what.slice(1)}?`))) throw new StateError('not applied: nothing was changed');
      const a = await commands.applyAdoption(ctx, { ...opts, reviewed: r.steps });
      if (o.json) return out(JSON.stringify({ ...r, applied: a }));
      out(`${a.steps.length ? `aligned: ${a.steps.length} statement${a.steps.length === 1 ? '' : 's'} in ${ms(a.ms)}; ` : ''}stamped ${baseLabel(a.from)} -> ${baseLabel(a.to)}`);
    });

  program
    .command('merge')
    .description('write a revision that joins several heads into one')
    .argument('[revisions...]', "the revisions to join (default: heads)")
    .requiredOption('-m, --message <message>', 'what the merge is (also names the file)')
    .option('--rev-id <id>', 'the revision id; default: next number')
    .addHelpText('after', examples('merge -m "join billing and reporting branches" heads', 'merge -m "merge" 003_a 003_b --rev-id 004_merge'))
    .action(async (revisions: string[], o: { message: string; revId?: string }) => {
      const r = await commands.merge(ctx, { message: o.message, revisions, ...(o.revId ? { revId: o.revId } : {}) });
      for (const c of r.conflicts) err(`WARNING: both branches touch ${c}: check that the two changes compose`);
      out(`created ${relative(process.cwd(), r.path) || r.path} (merges ${r.downRevisions.join(', ')})`);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return 0;
      return 2;
    }
    const code = e instanceof MigrateError ? e.exitCode : 1;
    err(`error: ${oneLine(errorText(e), 600)}`);
    if (process.env.MIGRATE_DEBUG && e instanceof Error && e.stack) err(e.stack);
    return code;
  } finally {
    await ctx.close();
  }
}
