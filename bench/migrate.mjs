// Wall time of the migrate CLI as an engineer feels it: a whole process,
// start-up included, measured from outside. Node's own start-up (`node -e 0`)
// runs interleaved with the commands so the ratio survives a noisy machine.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'dist', 'src', 'cli', 'migrate.js');
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RUNS = Math.max(7, Number(process.env.BENCH_RUNS) || 9);
const GOAL_MS = 100;

/** Runs a command once; returns its wall time in ms, or throws with its stderr. */
function timed(args, env) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return ms;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], runs: s.length };
}

function databaseUrl(name) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function serverAdmin() {
  const sql = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return sql;
  } catch (e) {
    await sql.end({ timeout: 0 }).catch(() => {});
    console.log(`  (no PostgreSQL server at ${ADMIN_URL.replace(/:[^:@/]*@/, ':***@')}: ${e.code ?? e.message}; server figures skipped)`);
    return undefined;
  }
}

/** A database of the bench's own, dropped by the returned function. */
async function scratchDatabase(admin) {
  const name = `bench_migrate_${randomBytes(5).toString('hex')}`;
  await admin.unsafe(`create database ${name}`);
  return { url: databaseUrl(name), drop: () => admin.unsafe(`drop database if exists ${name} with (force)`) };
}

const fmt = (ms) => `${ms.toFixed(1).padStart(6)} ms`;

function report(label, samples, baseline) {
  const s = stats(samples);
  const ratio = baseline ? `  ${(s.median / baseline.median).toFixed(2)}x node -e 0 (+${(s.median - baseline.median).toFixed(1)} ms)` : '';
  console.log(`  ${label.padEnd(36)} median ${fmt(s.median)}  min ${fmt(s.min)}  max ${fmt(s.max)}${ratio}`);
  return s;
}

/**
 * Prints and returns the medians (with min and max) of `migrate current` on a
 * server database at head, `upgrade head` on an empty server database (a
 * fresh one per run), `current` on the embedded database, and `node -e 0`.
 */
export async function runMigrateBench() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  console.log(`migrate CLI bench: ${RUNS} runs each, interleaved (set BENCH_RUNS for more)`);
  const samples = { node: [], current: [], upgrade: [], embedded: [] };
  const admin = await serverAdmin();
  const dataRoot = mkdtempSync(join(tmpdir(), 'bench-migrate-'));
  // An empty DATABASE_URL overrides a developer's .env: the embedded database it is.
  const embedded = { DATABASE_URL: '', DATA_DIR: join(dataRoot, 'pglite') };
  let atHead;
  try {
    if (admin) {
      atHead = await scratchDatabase(admin);
      timed([CLI, 'upgrade', 'head'], { DATABASE_URL: atHead.url });
    }
    // Creating a data directory costs seconds; it is set up once, untimed.
    timed([CLI, 'upgrade', 'head'], embedded);
    // One untimed round warms the file cache and the compiled-revision cache.
    timed(['-e', '0'], {});
    if (atHead) timed([CLI, 'current'], { DATABASE_URL: atHead.url });
    for (let i = 0; i < RUNS; i++) {
      samples.node.push(timed(['-e', '0'], {}));
      if (admin) {
        samples.current.push(timed([CLI, 'current'], { DATABASE_URL: atHead.url }));
        const empty = await scratchDatabase(admin);
        try {
          samples.upgrade.push(timed([CLI, 'upgrade', 'head'], { DATABASE_URL: empty.url }));
        } finally {
          await empty.drop();
        }
      }
      samples.embedded.push(timed([CLI, 'current'], embedded));
    }
  } finally {
    await atHead?.drop();
    await admin?.end({ timeout: 5 });
    rmSync(dataRoot, { recursive: true, force: true });
  }
  const result = { node: report('node -e 0 (baseline)', samples.node) };
  if (admin) {
    result.current = report('current (server, at head)', samples.current, result.node);
    result.upgrade = report('upgrade head (server, empty db)', samples.upgrade, result.node);
  }
  result.embedded = report('current (embedded, for information)', samples.embedded, result.node);
  if (result.current) {
    const ok = result.current.median < GOAL_MS;
    console.log(`  goal: current under ${GOAL_MS} ms on the server: ${ok ? 'met' : 'NOT met'} (${result.current.median.toFixed(1)} ms)`);
  }
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runMigrateBench();
