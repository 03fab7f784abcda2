// A longer, bounded fuzz pass than the suite's property test: the compiled
// service on an in-memory PGlite and a billing stand-in, both on 127.0.0.1,
// and N requests (FUZZ_REQUESTS, default 20,000) built from a seeded random
// mix of valid, mutated and hostile requests over real sockets. It counts
// 5xx answers, errors without {"detail"}, answers a standard JSON decoder
// could not read (nesting past 100 levels), and stored rows that break the
// contract; it exits 1 if any count is not zero.
import { createServer, request } from 'node:http';
import { createHmac } from 'node:crypto';

const N = Number(process.env.FUZZ_REQUESTS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? 10);
const CONCURRENCY = 16;

const { buildApp } = await import('../dist/src/http/app.js');
const { loadConfig } = await import('../dist/src/config/index.js');
const { openDatabase } = await import('../dist/src/db/index.js');
const { migratorFor } = await import('../dist/src/migrations.js');

let state = SEED >>> 0;
const rnd = () => ((state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const int = (n) => Math.floor(rnd() * n);

let nextProvider = 1;
const billing = createServer((req, res) => {
  req.resume();
  // Billing always succeeds here: its failures are 502s by contract, and the suite tests them.
  req.on('end', () => {
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: nextProvider++ }));
  });
});
await new Promise((r) => billing.listen(0, '127.0.0.1', r));

const SECRET = 'fuzz-secret-of-at-least-32-bytes!!';
const { hashSync } = await import('bcryptjs');
const config = loadConfig({
  ENVIRONMENT: 'test',
  LOG_LEVEL: 'silent',
  JWT_SECRET_KEY: SECRET,
  BILLING_SERVICE_URL: `http://127.0.0.1:${billing.address().port}`,
  LOGIN_RATE_LIMIT: '1000000/60',
  // A cheap hash: a login costs a bcrypt comparison, and the fuzz is about input, not hashing.
  ADMIN_PASSWORD_HASH: hashSync('fuzz-admin-password', 4),
});
const db = await openDatabase({ kind: 'memory' });
const migrator = await migratorFor(db);
await migrator.upgrade('heads');
const app = await buildApp({ config, db, schema: migrator });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = app.server.address().port;

const b64 = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'admin@example.com', role: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 })}`;
const TOKEN = `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;

const ids = [];
// Every byte percent-encoded: encodeURIComponent throws on a lone surrogate.
const enc = (text) => [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const weird = () =>
  pick([
    '', 'a', '\u0000', 'x\ud800y', '\udc00', '\u{1F34E}', 'é', '\u202e', ' ', 'apples', '9'.repeat(400), 'Infinity', '-Infinity', '1e400', 'NaN',
    '-1', '0', '1.5', '0x10', '2147483648', '%00', '<script>', "'; DROP TABLE candidates; --", 'a'.repeat(300),
  ]);
const value = (d = 0) => {
  const r = rnd();
  if (d > 3 || r < 0.3) return pick([null, true, false, 0, -1, 1.5, 2 ** 31, 1e308, weird(), int(100)]);
  if (r < 0.6) return Array.from({ length: int(4) }, () => value(d + 1));
  return Object.fromEntries(Array.from({ length: int(4) }, () => [weird(), value(d + 1)]));
};
const candidate = () => ({
  company_name: `Fuzz ${int(1e6)}`,
  contact_email: `f${int(1e9)}@fuzz-example.com`,
  phone: '+1-555-0100',
  products: ['apples'],
  truck_count: 1 + int(10),
  capacity_tons_per_day: 1 + int(100),
  location: 'Haifa',
});
const mutate = (o) => {
  const c = { ...o };
  const key = pick([...Object.keys(c), 'extra', 'reason', 'approved', 'rejection_reason']);
  c[key] = pick([value(), weird(), `${'['.repeat(5000)}`, undefined]);
  return c;
};
const deep = (n) => '['.repeat(n) + ']'.repeat(n);

function makeRequest() {
  const id = ids.length && rnd() < 0.7 ? pick(ids) : pick(['not-a-uuid', '%ff', '%c3%28', 'a'.repeat(int(3000)), '00000000-0000-4000-8000-000000000000', enc(weird())]);
  const kind = int(10);
  const auth = rnd() < 0.9 ? { authorization: `Bearer ${TOKEN}` } : rnd() < 0.5 ? { authorization: 'Bearer x.y.z' } : {};
  const json = { 'content-type': 'application/json' };
  switch (kind) {
    case 0:
    case 1:
      return { method: 'POST', path: '/candidates', headers: json, body: JSON.stringify(candidate()) };
    case 2:
      return { method: 'POST', path: '/candidates', headers: json, body: rnd() < 0.2 ? JSON.stringify(candidate()).replace(/"Haifa"/, deep(3000 + int(3000))) : JSON.stringify(mutate(candidate())) ?? '' };
    case 3:
      return { method: 'POST', path: '/candidates', headers: rnd() < 0.5 ? json : { 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) }, body: rnd() < 0.3 ? Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) : JSON.stringify(value()) ?? 'x' };
    case 4: {
      const q = Array.from({ length: int(4) }, () => `${pick(['limit', 'offset', 'page', 'page_size', 'status', 'product', 'x'])}=${enc(weird())}`).join('&');
      return { method: 'GET', path: `/candidates?${q}`, headers: auth };
    }
    case 5:
      return { method: 'GET', path: `/${pick(['', 'api/providers/'])}candidates/${id}`, headers: auth };
    case 6:
      return { method: 'POST', path: `/candidates/${id}/approve`, headers: { ...auth, ...json }, body: rnd() < 0.5 ? '' : JSON.stringify(pick([{}, { approved: true }, { approved: false, rejection_reason: 'x' }, value()])) ?? '' };
    case 7:
      return { method: 'POST', path: `/candidates/${id}/reject`, headers: { ...auth, ...json }, body: JSON.stringify(pick([{}, { reason: weird() }, value(), { reason: deep(40) }])) ?? '' };
    case 8:
      return { method: 'POST', path: `/auth/login?password=${enc(weird())}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=${enc(weird())}&password=${enc(weird())}` };
    default:
      return { method: pick(['GET', 'PUT', 'DELETE', 'PATCH']), path: pick(['/', '/health', '/metrics', '/nope', `/candidates/${id}/%`, '/candidates/%ff/approve']), headers: auth };
  }
}

function send({ method, path, headers, body }) {
  return new Promise((resolve) => {
    let req;
    try {
      req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
    });
    } catch (e) {
      throw new Error(`the fuzzer built a request Node cannot send: ${method} ${path.slice(0, 80)}: ${e.message}`);
    }
    req.on('error', (e) => resolve({ status: 0, type: '', body: String(e) }));
    req.end(body);
  });
}

const depthOf = (v) => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
const counts = { requests: 0, byStatus: {}, fiveXX: 0, noDetail: 0, unreadable: 0, transport: 0 };
const examples = [];
const started = Date.now();
let sent = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (sent < N) {
      sent++;
      const r = makeRequest();
      const res = await send(r);
      counts.requests++;
      counts.byStatus[res.status] = (counts.byStatus[res.status] ?? 0) + 1;
      if (res.status === 0) counts.transport++;
      if (res.status >= 500) counts.fiveXX++;
      if (res.status === 201) {
        try { ids.push(JSON.parse(res.body).candidate_id); } catch {}
      }
      if (res.status >= 500 && examples.length < 5) examples.push(`${r.method} ${r.path.slice(0, 80)} ${String(r.body ?? '').slice(0, 80)} -> ${res.status} ${res.body.slice(0, 120)}`);
      if (res.status >= 400) {
        let parsed;
        try { parsed = JSON.parse(res.body); } catch { parsed = undefined; }
        if (!parsed || !('detail' in parsed)) counts.noDetail++;
        else if (depthOf(parsed) > 100) counts.unreadable++;
        else continue;
        if (examples.length < 5) examples.push(`${r.method} ${r.path.slice(0, 80)} -> ${res.status} ${res.body.slice(0, 120)}`);
      }
    }
  }),
);

const [{ invalid }] = await db.query(`SELECT count(*)::int AS invalid FROM candidates WHERE
  char_length(company_name) NOT BETWEEN 1 AND 255
  OR strpos(company_name || coalesce(location, '') || coalesce(phone, '') || contact_email, U&'\\FFFD') > 0
  OR jsonb_typeof(products) <> 'array' OR jsonb_array_length(products) NOT BETWEEN 1 AND 20
  OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(products) p WHERE p NOT IN ('apples', 'oranges', 'grapes', 'bananas', 'mangoes'))
  OR truck_count < 1 OR capacity_tons_per_day < 1 OR status NOT IN ('pending', 'approved', 'rejected')`);
const [{ stored }] = await db.query('SELECT count(*)::int AS stored FROM candidates');

await app.close();
await db.close();
billing.close();

console.log(`fuzz: ${counts.requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED}), by status ${JSON.stringify(counts.byStatus)}`);
console.log(`fuzz: ${counts.fiveXX} 5xx, ${counts.noDetail} errors without {"detail"}, ${counts.unreadable} unreadable bodies, ${counts.transport} transport errors`);
console.log(`fuzz: ${stored} rows stored, ${invalid} invalid`);
for (const e of examples) console.log(`  e.g. ${e}`);
const bad = counts.fiveXX + counts.noDetail + counts.unreadable + counts.transport + invalid;
console.log(bad === 0 ? 'fuzz: passed' : 'fuzz: FAILED');
process.exit(bad === 0 ? 0 : 1);
