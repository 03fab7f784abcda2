import { existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { errorText, MigrateError, oneLine, ResolutionError, UsageError } from '../errors.js';
import { resolveRange, resolveTarget } from '../revisions/targets.js';
import type { Step } from '../revisions/plan.js';
import { downgradePlan, upgradePlan } from '../revisions/plan.js';
import type { SqlClient } from '../runtime/client.js';
import { describeStep, Migrator, type MigrationEvent } from '../runtime/migrator.js';
import { loadScriptDirectory, MAX_ID_LENGTH, type Script, type ScriptDirectory } from '../script/loader.js';


/** A connection the CLI opens for commands that need the database, and closes after. */
export interface CliConnection extends SqlClient {
  readonly description: string;
  close(): Promise<void>;
}

/** What the host project supplies: its versions folder and how to reach its database. */
export interface CliEnvironment {
  versionsDir: string;
  connect(): Promise<CliConnection>;
  /** Import specifier of the engine's types as seen from a file in versionsDir. */
  typesImport: string;
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** Program name in help and messages. */
  name?: string;
}

const EXIT_CODES = `
Exit codes:
  0  success
  1  failure or refusal (unknown revision, failed step, unreachable database); nothing half-done
  2  usage error (unknown command or option, missing argument)`;

interface JsonOpt {
  json?: boolean;
}

function headMark(s: ScriptDirectory, id: string): string {
  return s.map.heads.includes(id) ? ' (head)' : '';
}

function baseLabel(ids: readonly string[]): string {
  return ids.length ? ids.join(', ') : '<base>';
}

function summary(s: Script, map: ScriptDirectory['map'], current: readonly string[] | undefined): string {
  const marks = [
    map.heads.includes(s.id) ? 'head' : '',
    map.branchPoints().includes(s.id) ? 'branchpoint' : '',
    s.downRevisions.length > 1 ? 'mergepoint' : '',
    current?.includes(s.id) ? 'current' : '',
  ].filter(Boolean);
  return `${baseLabel(s.downRevisions)} -> ${s.id}${marks.length ? ` (${marks.join(') (')})` : ''}, ${s.message}`;
}

function verbose(s: Script, dir: ScriptDirectory, current: readonly string[] | undefined): string {
  const marks = [headMark(dir, s.id).trim(), current?.includes(s.id) ? '(current)' : ''].filter(Boolean).join(' ');
  const lines = [
    `Rev: ${s.id}${marks ? ` ${marks}` : ''}`,
    `Parent: ${baseLabel(s.downRevisions)}`,
    ...(dir.map.childrenOf(s.id).length ? [`Children: ${dir.map.childrenOf(s.id).join(', ')}`] : []),
    `Path: ${s.path ?? '?'}`,
    '',
    `    ${s.message}`,
    ...(s.description ? ['', ...s.description.split('\n').map((l) => `    ${l}`)] : []),
    '',
    `    Revision ID: ${s.id}`,
    `    Revises: ${s.downRevisions.join(', ')}`,
    `    Create Date: ${s.createDate ?? 'unknown'}`,
    ...(s.transactional ? [] : ['    Transactional: no (runs outside a transaction; written to be resumable)']),
  ];
  return lines.join('\n');
}

function scriptJson(s: Script, dir: ScriptDirectory, current?: readonly string[]): Record<string, unknown> {
  return {
    revision: s.id,
    downRevisions: s.downRevisions,
    message: s.message,
    description: s.description ?? null,
    createDate: s.createDate ?? null,
    path: s.path ?? null,
    isHead: dir.map.heads.includes(s.id),
    isBranchPoint: dir.map.childrenOf(s.id).length > 1,
    transactional: s.transactional,
    ...(current ? { isCurrent: current.includes(s.id) } : {}),
  };
}

function ms(n: number): string {
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`;
}

/** Parses `[from:]to` for offline rendering. */
function offlineRange(spec: string, dir: ScriptDirectory, direction: 'upgrade' | 'downgrade'): Step[] {
  const parts = spec.split(':');
  if (parts.length > 2) throw new UsageError(`'${spec}' must be <to> or <from>:<to>`);
  const [fromSpec, toSpec] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (direction === 'downgrade' && fromSpec === undefined) {
    throw new UsageError('downgrade --sql needs a starting point: <from>:<to>, e.g. head:base');
  }
  const from = fromSpec ? resolveTarget(dir.map, fromSpec, []) : [];
  const to = resolveTarget(dir.map, toSpec ?? '', from);
  return direction === 'upgrade' ? upgradePlan(dir.map, from, to) : downgradePlan(dir.map, from, to);
}

export async function runCli(argv: readonly string[], env: CliEnvironment): Promise<number> {
  const out = env.out ?? ((s: string) => process.stdout.write(s + '\n'));
  const err = env.err ?? ((s: string) => process.stderr.write(s + '\n'));
  const name = env.name ?? 'migrate';
  let scripts: Promise<ScriptDirectory> | undefined;
  const load = (): Promise<ScriptDirectory> => (scripts ??= loadScriptDirectory(env.versionsDir));
  const open: CliConnection[] = [];
  const connect = async (): Promise<CliConnection> => {
    const c = await env.connect();
    open.push(c);
    return c;
  };
  const progress = (e: MigrationEvent): void => {
    switch (e.type) {
      case 'waiting-for-lock':
        err('waiting for another migration to finish (advisory lock held)...');
        break;
      case 'step-done':
        out(`  ${e.step.direction} ${describeStep(e.step, e.script.downRevisions)}, ${e.script.message} ... ${ms(e.ms)}`);
        break;
      case 'warning':
        err(`WARNING ${e.revision}: ${e.message}`);
        break;
      case 'step-start':
        break;
    }
  };
  const migratorOnline = async (): Promise<{ m: Migrator; c: CliConnection }> => {
    const dir = await load();
    const c = await connect();
    return { m: new Migrator({ client: c, scripts: dir, onEvent: progress }), c };
  };

  const program = new Command(name)
    .description('Alembic-grade schema migrations for PostgreSQL (server or embedded).')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `${EXIT_CODES}\n\nDatabase: DATABASE_URL names a server; unset, the embedded database in DATA_DIR (default ./.data/pglite).`)
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) });

  const move = (direction: 'upgrade' | 'downgrade') =>
    async (target: string, o: { sql?: boolean }): Promise<void> => {
      if (o.sql) {
        const dir = await load();
        // Only --sql renders offline: the renderer is not loaded otherwise.
        const { renderSql } = await import('../runtime/offline.js');
        out(await renderSql(dir, offlineRange(target, dir, direction)));
        return;
      }
      const { m, c } = await migratorOnline();
      err(`${direction} on ${c.description} to ${target}`);
      const started = performance.now();
      const steps = await m[direction](target);
      const now = await m.current();
      const at = now.length ? now.map((h) => h + headMark(m.scripts, h)).join(', ') : '<base>';
      out(
        steps.length === 0
          ? `nothing to do: already at ${at}`
          : `${direction} done: ${steps.length} step${steps.length === 1 ? '' : 's'} in ${ms(performance.now() - started)}, now at ${at}`,
      );
    };

  program
    .command('upgrade')
    .description('apply revisions up to a target (each in its own transaction)')
    .argument('[target]', "head, heads, +N, <rev>, <rev>+N; with --sql also <from>:<to>", 'heads')
    .option('--sql', 'print the SQL instead of running it (offline; no database needed)')
    .addHelpText('after', `\nExamples:\n  $ ${name} upgrade head\n  $ ${name} upgrade +1\n  $ ${name} upgrade 001\n  $ ${name} upgrade --sql base:head > upgrade.sql`)
    .action(move('upgrade'));

  program
    .command('downgrade')
    .description('undo revisions down to a target (each in its own transaction)')
    .argument('<target>', '-N, base, <rev>, <rev>-N; with --sql <from>:<to>')
    .option('--sql', 'print the SQL instead of running it (offline; no database needed)')
    .addHelpText('after', `\nExamples:\n  $ ${name} downgrade -1\n  $ ${name} downgrade 000_initial_schema\n  $ ${name} downgrade base\n  $ ${name} downgrade --sql head:001`)
    .action(move('downgrade'));

  program
    .command('current')
    .description("show the database's current revision")
    .option('-v, --verbose', 'show each revision in full and the database used')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `\nExamples:\n  $ ${name} current\n  $ ${name} current --json`)
    .action(async (o: JsonOpt & { verbose?: boolean }) => {
      const dir = await load();
      const c = await connect();
      const m = new Migrator({ client: c, scripts: dir });
      const current = await m.current();
      if (o.json) {
        out(JSON.stringify({ database: c.description, current, heads: dir.map.heads, atHead: sameSet(current, dir.map.heads) }));
        return;
      }
      if (o.verbose) out(`Database: ${c.description}`);
      if (current.length === 0) out('<base> (no revision applied)');
      for (const id of current) {
        const s = dir.scripts.get(id);
        if (!s) out(`${id} (unknown: no script defines it)`);
        else out(o.verbose ? verbose(s, dir, current) : `${id}${headMark(dir, id)}`);
      }
    });

  program
    .command('history')
    .description('list revisions, newest first')
    .option('-r, --rev-range <range>', 'only <lower>:<upper> (either side may be empty; base, head, current, +N/-N)')
    .option('-v, --verbose', 'show each revision in full')
    .option('-i, --indicate-current', 'mark the database’s current revision (connects to it)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `\nExamples:\n  $ ${name} history\n  $ ${name} history -r 000:head -v\n  $ ${name} history -i --json`)
    .action(async (o: JsonOpt & { revRange?: string; verbose?: boolean; indicateCurrent?: boolean }) => {
      const dir = await load();
      const needsDb = o.indicateCurrent || /current|(^|:)[+-]\d/.test(o.revRange ?? '');
      const current = needsDb ? await new Migrator({ client: await connect(), scripts: dir }).current() : undefined;
      const ids = resolveRange(dir.map, o.revRange, current ?? []);
      const shown = o.indicateCurrent ? current : undefined;
      if (o.json) {
        out(JSON.stringify(ids.map((id) => scriptJson(dir.scripts.get(id)!, dir, shown))));
        return;
      }
      for (const id of ids) {
        const s = dir.scripts.get(id)!;
        out(o.verbose ? verbose(s, dir, shown) + '\n' : summary(s, dir.map, shown));
      }
    });

  program
    .command('heads')
    .description('show the head revisions of the scripts')
    .option('-v, --verbose', 'show each revision in full')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `\nExample:\n  $ ${name} heads`)
    .action(async (o: JsonOpt & { verbose?: boolean }) => {
      const dir = await load();
      if (o.json) {
        out(JSON.stringify(dir.map.heads.map((id) => scriptJson(dir.scripts.get(id)!, dir))));
        return;
      }
      if (dir.map.heads.length > 1) err(`note: ${dir.map.heads.length} heads; merge them, or upgrade with 'heads'`);
      for (const id of dir.map.heads) out(o.verbose ? verbose(dir.scripts.get(id)!, dir, undefined) : `${id} (head)`);
    });

  program
    .command('branches')
    .description('show revisions where history branches')
    .option('-v, --verbose', 'show each revision in full')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `\nExample:\n  $ ${name} branches`)
    .action(async (o: JsonOpt & { verbose?: boolean }) => {
      const dir = await load();
      const points = dir.map.branchPoints();
      if (o.json) {
        out(JSON.stringify(points.map((id) => ({ ...scriptJson(dir.scripts.get(id)!, dir), children: dir.map.childrenOf(id) }))));
        return;
      }
      if (points.length === 0) err('no branch points: history is linear');
      for (const id of points) {
        const s = dir.scripts.get(id)!;
        out(o.verbose ? verbose(s, dir, undefined) : `${id} (branchpoint), ${s.message}`);
        for (const c of dir.map.childrenOf(id)) out(`  -> ${c}${headMark(dir, c)}, ${dir.scripts.get(c)!.message}`);
      }
    });

  program
    .command('show')
    .description('show one revision in full')
    .argument('<rev>', 'an id, a unique prefix, head, base-relative (<rev>+N) ...')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `\nExamples:\n  $ ${name} show 001\n  $ ${name} show head --json`)
    .action(async (rev: string, o: JsonOpt) => {
      const dir = await load();
      const ids = resolveTarget(dir.map, rev, []);
      if (ids.length === 0) throw new ResolutionError(`'${rev}' is base, which is not a revision`);
      if (o.json) {
        out(JSON.stringify(ids.length === 1 ? scriptJson(dir.scripts.get(ids[0]!)!, dir) : ids.map((id) => scriptJson(dir.scripts.get(id)!, dir))));
        return;
      }
      out(ids.map((id) => verbose(dir.scripts.get(id)!, dir, undefined)).join('\n\n'));
    });

  program
    .command('stamp')
    .description('record a revision as current without running any migration')
    .argument('<rev>', 'an id, head, heads or base')
    .option('--purge', 'empty the version table first (when it holds a revision no script knows)')
    .addHelpText('after', `\nExamples:\n  $ ${name} stamp head          # adopt a database built by other means\n  $ ${name} stamp --purge 002_add_rejection_reason`)
    .action(async (rev: string, o: { purge?: boolean }) => {
      const { m, c } = await migratorOnline();
      err(`stamp on ${c.description}`);
      const r = await m.stamp(rev, o);
      out(`stamped ${baseLabel(r.from)} -> ${baseLabel(r.to)} (no migration ran)`);
    });

  program
    .command('revision')
    .description('write a new revision file from the template, on top of the current head')
    .requiredOption('-m, --message <message>', 'what the revision does (also names the file)')
    .option('--rev-id <id>', `the revision id (letters, digits, _; at most ${MAX_ID_LENGTH}); default: next number`)
    .addOption(new Option('--head <rev>', 'the revision to build on, when there are several heads'))
    .addHelpText('after', `\nExamples:\n  $ ${name} revision -m "add provider index"\n  $ ${name} revision -m "merge" --rev-id 004_merge`)
    .action(async (o: { message: string; revId?: string; head?: string }) => {
      const dir = await load();
      const message = o.message.trim();
      if (!message) throw new UsageError('--message must not be empty');
      let down: readonly string[];
      if (o.head) down = resolveTarget(dir.map, o.head, []);
      else if (dir.map.heads.length > 1) {
        throw new ResolutionError(`several heads (${dir.map.heads.join(', ')}): pick one with --head <rev>`);
      } else down = dir.map.heads;
      // Only `revision` writes files: the template is not loaded otherwise.
      const { nextRevisionId, renderRevision } = await import('../script/template.js');
      const id = o.revId ?? nextRevisionId([...dir.scripts.keys()], message);
      if (!/^[A-Za-z0-9_]+$/.test(id) || id.length > MAX_ID_LENGTH) {
        throw new UsageError(`--rev-id must be letters, digits and _, at most ${MAX_ID_LENGTH} characters (got '${id}')`);
      }
      if (dir.map.has(id)) throw new ResolutionError(`revision ${id} already exists (${dir.scripts.get(id)!.path})`);
      const file = join(env.versionsDir, `${id}.ts`);
      if (existsSync(file)) throw new ResolutionError(`${file} already exists`);
      const createDate = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
      writeFileSync(file, renderRevision({ id, downRevisions: down, message, createDate, typesFrom: env.typesImport }));
      out(`created ${relative(process.cwd(), file) || file} (revises ${baseLabel(down)})`);
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
    await Promise.all(open.map((c) => c.close().catch(() => {})));
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
