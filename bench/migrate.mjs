// Wall time of the migrate CLI as an engineer feels it: a whole process,
// start-up included, measured from outside, side by side with Alembic on the
// same server. Node's own start-up (`node -e 0`) and Alembic's commands run
// interleaved with ours so the ratios survive a noisy machine. Then the
// embedded database's first uses: `migrate current` and `npm start` on a
// data directory that does not exist yet.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { alembicProject, PYTHON } from './alembic.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'dist', 'src', 'cli', 'migrate.js');
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RUNS = Math.max(7, Number(process.env.BENCH_RUNS) || 9);
const FIRST_RUNS = 3;
/** Ours against Alembic's wall time, on the same server. */
const GOAL_RATIO = 0.3;
/** The embedded database's `current` against the server's. */
const EMBEDDED_GOAL_RATIO = 2;
const FIRST_USE_GOAL_MS = 5000;

/** Runs a command once; returns its wall time in ms, or throws with its stderr. */
function timed(args, env, command = process.execPath) {
  const started = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return ms;
}

/** `npm start` until the service says it listens, then SIGTERM to the whole group. */
function timedStart(env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('npm', ['start'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let listening;
    const onData = (chunk) => {
      out += chunk;
      if (listening !== undefined || !/Server listening at/.test(out)) return;
      listening = Number(process.hrtime.bigint() - started) / 1e6;
      process.kill(-child.pid, 'SIGTERM');
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.once('exit', (code) =>
      listening === undefined ? reject(new Error(`npm start exited ${code} before listening: ${out.trim()}`)) : resolve(listening),
    );
  });
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

/** `ours` against `theirs` (medians), against the goal. */
function ratio(label, ours, theirs, goal) {
  const r = ours.median / theirs.median;
  console.log(`  ${label.padEnd(36)} ${r.toFixed(2)}x (goal <= ${goal}x: ${r <= goal ? 'met' : 'NOT met'})`);
}

/**
 * Prints and returns the medians (with min and max) of `migrate current` on a
 * server database at head and `upgrade head` on an empty server database (a
 * fresh one per run), ours and Alembic's; `current` on the embedded database;
 * the first `current` and the first `npm start` on a new data directory; and
 * `node -e 0`.
 */
export async function runMigrateBench() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  console.log(`migrate CLI bench: ${RUNS} runs each, interleaved (set BENCH_RUNS for more)`);
  const samples = { node: [], current: [], upgrade: [], alembicCurrent: [], alembicUpgrade: [], embedded: [], firstCurrent: [], firstStart: [] };
  const admin = await serverAdmin();
  const dataRoot = mkdtempSync(join(tmpdir(), 'bench-migrate-'));
  const alembic = admin ? alembicProject(join(dataRoot, 'alembic')) : undefined;
  // An empty DATABASE_URL overrides a developer's .env: the embedded database it is.
  const embedded = (name) => ({ DATABASE_URL: '', DATA_DIR: join(dataRoot, name) });
  // Side by side with Alembic, ours runs the same three revisions the Python service had.
  const pythonEra = join(dataRoot, 'python-era-versions');
  cpSync(join(root, 'migrations', 'versions'), pythonEra, { recursive: true, filter: (source) => !/\/0(0[3-9]|[1-9]\d)_[^/]*$/.test(source) });
  const server = (url) => ({ DATABASE_URL: url, MIGRATIONS_DIR: pythonEra });
  let atHead;
  try {
    if (admin) {
      atHead = await scratchDatabase(admin);
      timed([CLI, 'upgrade', 'head'], server(atHead.url));
    }
    timed([CLI, 'upgrade', 'head'], embedded('pglite'));
    // One untimed round warms the file cache and the compiled-revision cache.
    timed(['-e', '0'], {});
    if (atHead) timed([CLI, 'current'], server(atHead.url));
    if (alembic) timed(alembic.args.concat('current'), { DATABASE_URL: atHead.url }, PYTHON);
    for (let i = 0; i < RUNS; i++) {
      samples.node.push(timed(['-e', '0'], {}));
      if (admin) {
        samples.current.push(timed([CLI, 'current'], server(atHead.url)));
        if (alembic) samples.alembicCurrent.push(timed(alembic.args.concat('current'), { DATABASE_URL: atHead.url }, PYTHON));
        for (const [list, args, command] of [
          [samples.upgrade, [CLI, 'upgrade', 'head'], process.execPath],
          ...(alembic ? [[samples.alembicUpgrade, alembic.args.concat('upgrade', 'head'), PYTHON]] : []),
        ]) {
          const empty = await scratchDatabase(admin);
          try {
            list.push(timed(args, command === PYTHON ? { DATABASE_URL: empty.url } : server(empty.url), command));
          } finally {
            await empty.drop();
          }
        }
      }
      samples.embedded.push(timed([CLI, 'current'], embedded('pglite')));
    }
    for (let i = 0; i < FIRST_RUNS; i++) {
      samples.firstCurrent.push(timed([CLI, 'current'], embedded(`first-current-${i}`)));
      samples.firstStart.push(await timedStart(embedded(`first-start-${i}`)));
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
  if (alembic) {
    result.alembicCurrent = report(`alembic ${alembic.version} current`, samples.alembicCurrent, result.node);
    result.alembicUpgrade = report(`alembic ${alembic.version} upgrade head`, samples.alembicUpgrade, result.node);
  }
  result.embedded = report('current (embedded, at head)', samples.embedded, result.node);
  result.firstCurrent = report('first current (new data directory)', samples.firstCurrent);
  result.firstStart = report('first npm start (new data directory)', samples.firstStart);
  console.log('  ratios of medians:');
  if (alembic) {
    ratio('current: ours / Alembic', result.current, result.alembicCurrent, GOAL_RATIO);
    ratio('upgrade head: ours / Alembic', result.upgrade, result.alembicUpgrade, GOAL_RATIO);
  }
  if (result.current) ratio('current: embedded / server', result.embedded, result.current, EMBEDDED_GOAL_RATIO);
  for (const [label, s] of [['first current', result.firstCurrent], ['first npm start', result.firstStart]]) {
    console.log(`  ${`${label}: under ${FIRST_USE_GOAL_MS / 1000} s`.padEnd(36)} ${s.max < FIRST_USE_GOAL_MS ? 'met' : 'NOT met'} (slowest ${(s.max / 1000).toFixed(2)} s)`);
  }
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runMigrateBench();
