import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorText, oneLine, ScriptError } from '../errors.js';
import type { Operations } from '../ops/operations.js';
import { RevisionMap, type RevisionInfo } from '../revisions/map.js';
import { isLintRule, LINT_RULES, type LintRule } from '../safety/lint-rules.js';

/** What a revision module exports (as its default export, or as named exports). */
export interface RevisionModule {
  revision: string;
  downRevision: string | readonly string[] | null;
  message: string;
  branchLabels?: readonly string[];
  createDate?: string;
  /** Longer explanation, shown by `show` and `history -v`. */
  description?: string;
  /**
   * False for a revision whose every statement runs outside a transaction.
   * It is then not atomic, so it must be written to be resumable (IF NOT
   * EXISTS / IF EXISTS). A transactional revision (the default) may still
   * hold operations that cannot run inside one (CREATE/DROP INDEX
   * CONCURRENTLY, `execute` marked `transactional: false`): the engine
   * commits before each, runs it alone, records how far the revision got and
   * begins again, so an interrupted run resumes where it stopped.
   */
  transactional?: boolean;
  /**
   * What this revision needs of the run's policy, beyond it: a `lock_timeout`
   * for its DDL (the shorter of this and the run's wins) and how many times
   * a statement that timed out is retried (the larger wins). For a revision
   * that takes strong locks on a busy table, so that a wait for its lock
   * never queues the application's queries for long.
   */
  policy?: RevisionPolicy;
  /**
   * Checksums of earlier versions of this revision that an applied database
   * may have recorded, each with the reason the change is safe there (for a
   * reviewed edit that leaves the schema it builds the same, such as an
   * index now built CONCURRENTLY): such a database is accepted, and the new
   * checksum recorded, instead of refused.
   */
  checksum?: { accept?: Readonly<Record<string, string>> };
  /**
   * Lint findings this revision accepts, each rule with the reason it is
   * safe here (reviewed, like a code comment that silences a linter):
   * `lint: { accept: { 'index-not-concurrent': 'the table is empty at this point' } }`.
   */
  lint?: { accept?: Readonly<Partial<Record<LintRule, string>>> };
  upgrade(op: Operations): Promise<void> | void;
  downgrade(op: Operations): Promise<void> | void;
}

export interface RevisionPolicy {
  lockTimeoutMs?: number;
  retries?: number;
}

export interface Script extends RevisionInfo {
  readonly transactional: boolean;
  readonly module: RevisionModule;
}

export interface ScriptDirectory {
  readonly dir: string;
  readonly map: RevisionMap;
  readonly scripts: ReadonlyMap<string, Script>;
}

/** Revision ids must fit Alembic's `version_num varchar(32)`. */
export const MAX_ID_LENGTH = 32;
const ID_PATTERN = /^[A-Za-z0-9_]+$/;
const SOURCE = /\.(ts|mts|js|mjs)$/;

export function revisionFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new ScriptError(`versions folder ${dir} does not exist`);
  return readdirSync(dir)
    .filter((f) => SOURCE.test(f) && !f.endsWith('.d.ts') && !f.startsWith('.') && !f.startsWith('_'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Compiled revisions are cached by content under the project's
 * node_modules/.cache, so a bare package a revision imports still resolves
 * and an unchanged folder costs no compiler start-up.
 */
function cacheDirFor(dir: string): string {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return join(d, 'node_modules', '.cache', 'migrate-revisions');
    if (dirname(d) === d) return join(tmpdir(), 'migrate-revisions');
  }
}

async function compile(file: string, cacheDir: string): Promise<string> {
  const source = readFileSync(file, 'utf8');
  const key = createHash('sha1').update(file).update('\0').update(source).digest('hex').slice(0, 16);
  const out = join(cacheDir, `${key}.mjs`);
  if (existsSync(out)) return out;
  const { transform } = await import('esbuild');
  let code: string;
  try {
    ({ code } = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: file }));
  } catch (e) {
    throw new ScriptError(`${file}: does not compile: ${oneLine(errorText(e), 300)}`);
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(out, code);
  return out;
}

function asModule(ns: Record<string, unknown>): Record<string, unknown> {
  const d = ns.default;
  return d && typeof d === 'object' ? (d as Record<string, unknown>) : ns;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `lint` is optional; when present, `accept` maps known rules to non-empty reasons. */
function lintProblems(lint: unknown): string[] {
  if (lint === undefined) return [];
  if (!isRecord(lint) || Object.keys(lint).some((k) => k !== 'accept')) return ['`lint` must be { accept: { <rule>: <reason> } }'];
  const accept = lint.accept;
  if (accept === undefined) return [];
  if (!isRecord(accept)) return ['`lint.accept` must map rules to reasons'];
  return Object.entries(accept).flatMap(([rule, reason]) => [
    ...(isLintRule(rule) ? [] : [`\`lint.accept\` names an unknown rule '${rule}' (rules: ${Object.keys(LINT_RULES).join(', ')})`]),
    ...(typeof reason === 'string' && reason.trim() ? [] : [`\`lint.accept['${rule}']\` must give the reason, a non-empty string`]),
  ]);
}

function policyProblems(policy: unknown): string[] {
  if (policy === undefined) return [];
  if (!isRecord(policy) || Object.keys(policy).some((k) => k !== 'lockTimeoutMs' && k !== 'retries')) {
    return ['`policy` must be { lockTimeoutMs?: <ms>, retries?: <count> }'];
  }
  return (['lockTimeoutMs', 'retries'] as const).flatMap((k) => {
    const v = policy[k];
    return v === undefined || (Number.isInteger(v) && (v as number) >= 0) ? [] : [`\`policy.${k}\` must be a whole number, 0 or more`];
  });
}

function checksumProblems(checksum: unknown): string[] {
  if (checksum === undefined) return [];
  if (!isRecord(checksum) || Object.keys(checksum).some((k) => k !== 'accept') || (checksum.accept !== undefined && !isRecord(checksum.accept))) {
    return ['`checksum` must be { accept: { <sha256>: <reason> } }'];
  }
  return Object.entries(checksum.accept ?? {}).flatMap(([sum, reason]) => [
    ...(/^[0-9a-f]{64}$/.test(sum) ? [] : [`\`checksum.accept\` key '${sum}' is not a sha256 checksum (64 hex digits)`]),
    ...(typeof reason === 'string' && reason.trim() ? [] : [`\`checksum.accept['${sum.slice(0, 12)}']\` must give the reason, a non-empty string`]),
  ]);
}

function validate(raw: Record<string, unknown>, where: string): RevisionModule {
  const problems: string[] = [];
  const id = raw.revision;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) problems.push('`revision` must be a string of letters, digits and _');
  else if (id.length > MAX_ID_LENGTH) problems.push(`\`revision\` is longer than ${MAX_ID_LENGTH} characters`);
  const down = raw.downRevision;
  const downOk =
    down === null || typeof down === 'string' || (Array.isArray(down) && down.every((d) => typeof d === 'string'));
  if (!downOk) problems.push('`downRevision` must be null, a revision id or a list of them');
  if (typeof raw.message !== 'string') problems.push('`message` must be a string');
  if (typeof raw.upgrade !== 'function') problems.push('`upgrade` must be a function');
  if (typeof raw.downgrade !== 'function') problems.push('`downgrade` must be a function');
  problems.push(...lintProblems(raw.lint), ...policyProblems(raw.policy), ...checksumProblems(raw.checksum));
  if (problems.length) throw new ScriptError(`${where}: not a revision module: ${problems.join('; ')}`);
  return raw as unknown as RevisionModule;
}

export async function loadScriptDirectory(dir: string): Promise<ScriptDirectory> {
  const files = revisionFiles(dir);
  const cacheDir = cacheDirFor(dir);
  const loaded = await Promise.all(
    files.map(async (file) => {
      const where = relative(process.cwd(), file) || file;
      const target = /\.m?ts$/.test(file) ? await compile(file, cacheDir) : file;
      let ns: Record<string, unknown>;
      try {
        ns = (await import(pathToFileURL(target).href)) as Record<string, unknown>;
      } catch (e) {
        throw new ScriptError(`${where}: does not load: ${oneLine(errorText(e), 300)}`);
      }
      const m = validate(asModule(ns), where);
      const down = m.downRevision;
      const script: Script = {
        id: m.revision,
        downRevisions: down === null ? [] : typeof down === 'string' ? [down] : [...down],
        message: m.message,
        branchLabels: m.branchLabels ?? [],
        createDate: m.createDate,
        description: m.description,
        path: where,
        transactional: m.transactional !== false,
        module: m,
      };
      return script;
    }),
  );
  const map = new RevisionMap(loaded);
  return { dir, map, scripts: new Map(loaded.map((s) => [s.id, s])) };
}
