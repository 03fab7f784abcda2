// The HTTP bench: the built service (`node dist/src/main.js`) in its own
// process against a fresh database on the PostgreSQL server, loaded over
// loopback by autocannon from this process, next to pgbench running the same
// SQL with the same number of connections (the database's ceiling).
//
// Run alone with `node bench/http.mjs` (after `npm run build`), or through
// `npm run bench`. BENCH_DATABASE_URL names the server (an admin database);
// BENCH_SECONDS the length of each phase.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import postgres from 'postgres';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 10; // autocannon connections = pgbench clients = the service's pool size
const SEEDED = 10_000; // candidates with predictable ids, for GET by id from both sides
const RSS_AFTER = 100_000;
const GOALS = { getShare: 0.6, listP99Ms: 20, rssMb: 150, getsPerSecond: 3300 };

const dist = (p) => pathToFileURL(join(ROOT, 'dist', 'src', p)).href;

/** The same id on both sides: md5(n) read as a UUID, in SQL and here. */
const seededId = (n) => createHash('md5').update(String(n)).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function createDatabase() {
  const name = `prs_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** Brings the database to head with the service's own migrator, then seeds the rows GETs read. */
async function prepare(url) {
  const [{ openDatabase }, { parseDatabaseUrl }, { migratorFor }] = await Promise.all([
    import(dist('db/index.js')),
    import(dist('config/index.js')),
    import(dist('migrations.js')),
  ]);
  const db = await openDatabase(parseDatabaseUrl(url), { max: 1 });
  try {
    await (await migratorFor(db)).upgrade('heads');
    await db.exec(`
      INSERT INTO candidates (id, company_name, contact_email, phone, products, truck_count, capacity_tons_per_day, location, status, created_at)
      SELECT md5(n::text)::uuid, 'Seeded Farm ' || n, 'seed-' || n || '@bench.example.com', '+972-4-000' || n,
             (ARRAY['["apples"]', '["grapes","oranges"]', '["bananas","grapes"]', '["mangoes"]'])[1 + n % 4]::jsonb,
             1 + n % 40, 10 + n % 900, 'Galilee',
             CASE n % 10 WHEN 0 THEN 'approved' WHEN 1 THEN 'rejected' ELSE 'pending' END,
             localtimestamp - n * interval '1 minute'
      FROM generate_series(1, ${SEEDED}) AS n;
      ANALYZE candidates;`);
  } finally {
    await db.close();
  }
}

/** Back to the seeded rows only, so every phase reads the same data whatever the writes before it. */
async function resetToSeed(url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DELETE FROM candidates WHERE contact_email NOT LIKE 'seed-%'`);
    // FULL: a table of the seeded size, not one with the pages of every row written before.
    await sql.unsafe('VACUUM FULL ANALYZE candidates');
  } finally {
    await sql.end();
  }
}

async function startService(url, port) {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, HOST: '127.0.0.1', PORT: String(port), ENVIRONMENT: 'development', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`service exited: ${stderr}`);
    try {
      if ((await fetch(`${base}/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 200) throw new Error('service did not become healthy');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, base };
}

function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** autocannon for SECONDS, with the share of a core the service and this load generator used meanwhile. */
async function load(pid, opts) {
  const [service, own, started] = [cpuSeconds(pid), process.cpuUsage(), performance.now()];
  const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
  const wall = (performance.now() - started) / 1000;
  const ownUsed = process.cpuUsage(own);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    bad: r.non2xx + r.errors + r.timeouts,
    serviceCpu: (cpuSeconds(pid) - service) / wall,
    clientCpu: (ownUsed.user + ownUsed.system) / 1e6 / wall,
  };
}

/**
 * Requests at an even pace (open loop), over CONNECTIONS keep-alive
 * connections, each latency counted from when it was due. autocannon's own
 * rate limit sends each second's quota as fast as it can and then waits, so
 * "half the peak rate" would be the peak for half of each second.
 */
async function paced(url, headers, rate, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies = [];
  let failed = 0;
  const one = (due) =>
    new Promise((resolve) => {
      const req = http.get(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) failed++;
          latencies.push(performance.now() - due);
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
    });
  const pending = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) pending.push(one(start + (sent * 1000) / rate));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), total: latencies.length, bad: failed };
}

/** pgbench with a custom script: same SQL, same connection count; transactions per second. */
function pgbench(url, script) {
  const dir = mkdtempSync(join(tmpdir(), 'prs-pgbench-'));
  try {
    const file = join(dir, 'script.sql');
    writeFileSync(file, script);
    const out = execFileSync('pgbench', ['-n', '-M', 'prepared', '-c', String(CONNECTIONS), '-j', '2', '-T', String(SECONDS), '-f', file, url], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return {
      tps: Number(/tps = ([\d.]+)/.exec(out)?.[1]),
      latency: Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The repository's statement with its parameters replaced by pgbench
 * expressions. pgbench would read the colons of the timestamp format as
 * variables, so they are spelt chr(58), which the planner folds to a constant.
 */
const bind = (sql, values) =>
  `${sql
    .replaceAll('HH24:MI:SS', "HH24' || chr(58) || 'MI' || chr(58) || 'SS")
    .replace(/\$(\d+)/g, (_, n) => values[Number(n) - 1])
    .replace(/\s+/g, ' ')};\n`;

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export async function runHttpBench() {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  const { STATEMENTS } = await import(dist('candidates/repository.js'));
  console.log(`HTTP bench: ${CONNECTIONS} connections, ${SECONDS} s per phase, PostgreSQL at ${ADMIN_URL.replace(/\/\/[^@]*@/, '//')}`);
  const database = await createDatabase();
  let service;
  try {
    await prepare(database.url);
    service = await startService(database.url, await freePort());
    const { base, child } = service;
    const login = await fetch(`${base}/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'admin@example.com', password: 'admin123' }) });
    const token = (await login.json()).access_token;
    const auth = { authorization: `Bearer ${token}` };
    let served = 0;
    const rows = [];

    // POST /candidates: each request a new e-mail address.
    let serial = 0;
    const post = await load(child.pid, {
        url: base,
        requests: [
          {
            method: 'POST',
            path: '/candidates',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({
                company_name: `Bench Farm ${++serial}`,
                contact_email: `bench-${process.pid}-${serial}@bench.example.com`,
                phone: '+972-4-0000000',
                products: ['apples', 'grapes'],
                truck_count: 10,
                capacity_tons_per_day: 500,
                location: 'Galilee',
              }),
            }),
          },
        ],
    });
    served += post.total;
    const insert = pgbench(
      database.url,
      bind(STATEMENTS.insert, [
        `'Bench Farm'`,
        `gen_random_uuid()::text || '@pgbench.example.com'`,
        `'+972-4-0000000'`,
        `'["apples","grapes"]'`,
        '10',
        '500',
        `'Galilee'`,
      ]),
    );
    rows.push(['POST /candidates', post, insert]);
    await resetToSeed(database.url);

    // GET /candidates/{id}: a random seeded candidate each time.
    const get = await load(child.pid, {
      url: base,
      headers: auth,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/candidates/${seededId(1 + Math.floor(Math.random() * SEEDED))}` }) }],
    });
    served += get.total;
    const byId = pgbench(database.url, `\\set n random(1, ${SEEDED})\n${bind(STATEMENTS.byId, ['md5(:n::text)::uuid'])}`);
    rows.push(['GET /candidates/{id}', get, byId]);

    // A filtered list: pending candidates supplying grapes, first page.
    const listPath = '/candidates?status=pending&product=grapes&limit=20';
    const list = await load(child.pid, { url: `${base}${listPath}`, headers: auth });
    served += list.total;
    const listDb = pgbench(database.url, bind(STATEMENTS.list(true, true), [`'pending'`, `'["grapes"]'`, '20', '0']));
    rows.push(['GET /candidates?status&product', list, listDb]);

    // The same list at half the peak rate: the latency a client sees under normal load.
    const half = await paced(`${base}${listPath}`, auth, Math.max(1, Math.floor(list.rps / 2)), SECONDS);
    served += half.total;

    // Enough further GETs for the RSS reading to follow RSS_AFTER requests.
    if (served < RSS_AFTER) {
      const more = await autocannon({
        url: base,
        connections: CONNECTIONS,
        amount: RSS_AFTER - served,
        headers: auth,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/candidates/${seededId(1 + Math.floor(Math.random() * SEEDED))}` }) }],
      });
      served += more.requests.total;
    }
    const rss = rssMb(child.pid);

    console.log('');
    console.log('endpoint                          req/s    p50 ms  p99 ms  errors  pgbench tps  ratio  service CPU  autocannon CPU');
    for (const [name, r, db] of rows) {
      console.log(
        `${name.padEnd(32)} ${fmt(r.rps).padStart(7)} ${fmt(r.p50, 1).padStart(8)} ${fmt(r.p99, 1).padStart(7)} ${String(r.bad).padStart(7)} ${fmt(db.tps).padStart(12)} ${fmt((100 * r.rps) / db.tps).padStart(5)} %` +
          `${fmt(100 * r.serviceCpu).padStart(11)} %${fmt(100 * r.clientCpu).padStart(14)} %`,
      );
    }
    console.log(
      `${'list at half of peak'.padEnd(32)} ${fmt(half.rps).padStart(7)} ${fmt(half.p50, 1).padStart(8)} ${fmt(half.p99, 1).padStart(7)} ${String(half.bad).padStart(7)}`,
    );
    console.log(`RSS of the service after ${fmt(served)} requests: ${fmt(rss, 1)} MB`);
    const checks = [
      [`GET by id at >= ${GOALS.getShare * 100} % of pgbench`, get.rps / byId.tps >= GOALS.getShare],
      [`GET by id >= ${fmt(GOALS.getsPerSecond)} req/s (3x the FastAPI service)`, get.rps >= GOALS.getsPerSecond],
      [`list p99 < ${GOALS.listP99Ms} ms at half of peak`, half.p99 < GOALS.listP99Ms],
      [`RSS < ${GOALS.rssMb} MB`, rss < GOALS.rssMb],
      ['no errors or non-2xx answers', [post, get, list, half].every((r) => r.bad === 0)],
    ];
    console.log('');
    for (const [goal, met] of checks) console.log(`${met ? 'met ' : 'MISS'}  ${goal}`);
    return { rows, half, rss, served, met: checks.every(([, m]) => m) };
  } finally {
    if (service) {
      service.child.kill('SIGTERM');
      await new Promise((r) => service.child.once('exit', r));
    }
    await database.drop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runHttpBench();
}
