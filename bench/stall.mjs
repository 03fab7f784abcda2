// What an upgrade costs the application while it runs: 1,000,000 candidates
// at 000_initial_schema, a steady insert+update load through the driver, and
// `migrate upgrade head` (the CLI, as a deploy runs it). The longest write
// stall is the slowest single write of the load while the upgrade runs.
// Measured beside the plain transactional path: the same revisions with 001's
// index built inside its transaction, as the Python service built it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'dist', 'src', 'cli', 'migrate.js');
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.env.BENCH_STALL_ROWS) || 1_000_000;
/** Writers of the load, each one write after the other: a stall shows as one slow write. */
const WRITERS = 2;
const GOAL_MS = 60;
const CEILING_MS = 250;

const urlOf = (name) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

function run(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`migrate ${args.slice(1).join(' ')} exited ${code}: ${out.trim()}`))));
  });
}

/** The repo's revisions with 001's index built in the transaction (no CONCURRENTLY). */
function plainVersions(dir) {
  cpSync(join(root, 'migrations', 'versions'), dir, { recursive: true });
  const file = join(dir, '001_add_version_column.ts');
  const source = readFileSync(file, 'utf8');
  const plain = source.replace("['id', 'version'], { concurrently: true })", "['id', 'version'])");
  if (plain === source) throw new Error('bench/stall.mjs: 001 no longer builds its index as this bench expects; update plainVersions()');
  writeFileSync(file, plain);
  return dir;
}

/**
 * Writes as fast as `WRITERS` sessions can, one after the other each: a new
 * candidate, then an update of an existing one. Returns a stop function that
 * resolves with [start, latency] of every write.
 */
function startLoad(url) {
  const sql = postgres(url, { max: WRITERS, onnotice: () => {} });
  const samples = [];
  let running = true;
  let n = 0;
  const writer = async (w) => {
    while (running) {
      const i = `${w}-${n++}`;
      let t = performance.now();
      await sql`INSERT INTO candidates (company_name, contact_email, status) VALUES (${'Load ' + i}, ${'load-' + i + '@bench.example'}, 'pending')`;
      samples.push([t, performance.now() - t]);
      t = performance.now();
      await sql`UPDATE candidates SET location = ${'row ' + i} WHERE contact_email = ${'farm' + (1 + ((n * 7919) % ROWS)) + '@example.com'}`;
      samples.push([t, performance.now() - t]);
    }
  };
  const done = Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  return async () => {
    running = false;
    await done;
    await sql.end();
    return samples;
  };
}

const within = (samples, from, to) => samples.filter(([t]) => t >= from && t < to).map(([, ms]) => ms);

async function measure(label, url, versionsDir) {
  const stop = startLoad(url);
  const loadStart = performance.now();
  // The load settles, and its own floor is measured, before the upgrade starts.
  await new Promise((r) => setTimeout(r, 2500));
  const from = performance.now();
  await run([CLI, 'upgrade', 'head'], { DATABASE_URL: url, MIGRATIONS_DIR: versionsDir });
  const to = performance.now();
  const samples = await stop();
  const during = within(samples, from, to);
  const floor = within(samples, loadStart + 500, from);
  return { label, upgradeMs: to - from, writes: during.length, longest: Math.max(...during), p99: pct(during, 0.99), floorLongest: Math.max(...floor) };
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

export async function runStallBench() {
  const admin = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await admin`select 1`;
  } catch {
    console.log(`write-stall bench skipped: no PostgreSQL server at ${ADMIN_URL} (set BENCH_DATABASE_URL)`);
    await admin.end({ timeout: 0 });
    return;
  }
  const tag = randomBytes(4).toString('hex');
  const seed = `prs_bench_stall_${tag}`;
  const copies = [];
  const work = mkdtempSync(join(tmpdir(), 'bench-stall-'));
  try {
    console.log(`write-stall bench: ${ROWS.toLocaleString('en')} candidates at 000_initial_schema, ${WRITERS} writers (insert + update), upgrade head`);
    let t = performance.now();
    await admin.unsafe(`CREATE DATABASE ${seed}`);
    await run([CLI, 'upgrade', '000'], { DATABASE_URL: urlOf(seed) });
    const s = postgres(urlOf(seed), { max: 1, onnotice: () => {} });
    await s.unsafe(
      `INSERT INTO candidates (company_name, contact_email, phone, status, products) ` +
        `SELECT 'Farm ' || g, 'farm' || g || '@example.com', '050-' || g, (ARRAY['pending','approved','rejected'])[1 + g % 3], '["apples"]' ` +
        `FROM generate_series(1, ${ROWS}) g`,
    );
    await s.unsafe('VACUUM ANALYZE candidates');
    await s.end();
    console.log(`  prepared in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const results = [];
    for (const [label, dir] of [
      ['plain (index in the transaction)', plainVersions(join(work, 'plain'))],
      ['ours (CONCURRENTLY, 200 ms locks)', join(root, 'migrations', 'versions')],
    ]) {
      const name = `${seed}_${copies.length}`;
      t = performance.now();
      await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${seed}`);
      copies.push(name);
      results.push(await measure(label, urlOf(name), dir));
    }
    for (const r of results) {
      console.log(
        `  ${r.label.padEnd(36)} upgrade ${(r.upgradeMs / 1000).toFixed(2)} s; longest write stall ${r.longest.toFixed(0)} ms ` +
          `(p99 ${r.p99.toFixed(1)} ms, ${r.writes} writes; load alone: longest ${r.floorLongest.toFixed(0)} ms)`,
      );
    }
    const [plain, ours] = results;
    console.log(`  longest stall, ours against plain       ${(ours.longest / plain.longest).toFixed(3)}x`);
    console.log(
      `  ours: longest stall ${ours.longest.toFixed(0)} ms (goal <= ${GOAL_MS} ms: ${ours.longest <= GOAL_MS ? 'met' : 'NOT met'}; ` +
        `never above ${CEILING_MS} ms: ${ours.longest <= CEILING_MS ? 'met' : 'NOT met'})`,
    );
  } finally {
    for (const name of [...copies, seed]) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runStallBench();
