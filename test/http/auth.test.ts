import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { hashSync } from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSecrets } from '../../src/auth/credentials.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { migratorFor } from '../../src/migrations.js';
import { testEngines } from '../support/databases.js';
import { ADMIN, json, register, startService, TEST_SECRET, type Service } from '../support/service.js';

const engines = await testEngines();

const b64 = (x: object | string): string => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

/** A token minted the way python-jose did (HS256, no iat), so old tokens are known to work. */
function mint(payload: object, secret = TEST_SECRET, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
const inSeconds = (s: number): number => Math.floor(Date.now() / 1000) + s;

const form = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

describe.each(engines)('authentication on $name', (engine) => {
  let s: Service;
  let id: string;
  const logs: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    s = await startService(engine, { env: { LOGIN_RATE_LIMIT: '4/60' }, logger: createLogger('info', sink) });
    id = (await register(s)).candidate_id;
  });
  afterAll(async () => s.close());

  const login = (fields: Record<string, string>, remoteAddress = '10.0.0.1') =>
    s.app.inject({ method: 'POST', url: '/auth/login', remoteAddress, ...form(fields) });
  const approveWith = (authorization?: string, url = `/candidates/${id}/approve`) =>
    s.app.inject({ method: 'POST', url, headers: authorization === undefined ? {} : { authorization } });

  describe('POST /auth/login', () => {
    it('gives an HS256 bearer token with sub, role and a 30-minute exp', async () => {
      const res = await login(ADMIN, '10.0.1.1');
      expect(res.statusCode, res.body).toBe(200);
      const body = json<{ access_token: string; token_type: string }>(res);
      expect(body.token_type).toBe('bearer');
      const [header, payload] = body.access_token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
      expect(header).toMatchObject({ alg: 'HS256' });
      expect(payload).toMatchObject({ sub: ADMIN.username, role: 'admin' });
      expect(Math.abs(Number(payload?.exp) - inSeconds(1800))).toBeLessThan(60);
      expect((await approveWith(`Bearer ${body.access_token}`)).statusCode).toBe(200);
    });

    it.each([
      ['a wrong password', { username: ADMIN.username, password: 'wrong' }],
      ['an unknown user', { username: 'eve@example.com', password: ADMIN.password }],
    ])('401 for %s, the same answer either way', async (_what, fields) => {
      const res = await login(fields, '10.0.2.1');
      expect(res.statusCode).toBe(401);
      expect(json(res)).toEqual({ detail: 'Incorrect username or password' });
    });

    it('422 for missing or empty fields, and for a body that is not a form', async () => {
      const missing = await login({ username: ADMIN.username }, '10.0.3.1');
      expect(missing.statusCode).toBe(422);
      expect(json<{ detail: unknown[] }>(missing).detail).toMatchObject([{ type: 'missing', loc: ['body', 'password'], msg: 'Field required' }]);
      const empty = await login({ username: '', password: 'x' }, '10.0.3.2');
      expect(json<{ detail: unknown[] }>(empty).detail).toMatchObject([{ type: 'missing', loc: ['body', 'username'] }]);
      const asJson = await s.app.inject({ method: 'POST', url: '/auth/login', remoteAddress: '10.0.3.3', payload: ADMIN });
      expect(asJson.statusCode).toBe(422);
      expect(json<{ detail: { loc: string[] }[] }>(asJson).detail.map((d) => d.loc)).toEqual([
        ['body', 'username'],
        ['body', 'password'],
      ]);
    });

    it('limits attempts per username and client address: 429 with Retry-After; other addresses and users unaffected', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await login({ username: ADMIN.username, password: 'guess' }, '10.0.4.1')).statusCode);
      expect(codes).toEqual([401, 401, 401, 401, 429]);
      expect((await login({ username: 'someone@else.com', password: 'guess' }, '10.0.4.1')).statusCode, 'another user from that address').toBe(401);
      const limited = await login(ADMIN, '10.0.4.1');
      expect(limited.statusCode, 'even the right password waits').toBe(429);
      expect(json<{ detail: string }>(limited).detail).toMatch(/^Too many login attempts/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect((await login(ADMIN, '10.0.4.2')).statusCode, 'the admin from another address').toBe(200);
    });

    it('the limit is in the database: another replica on it counts the same attempts', async () => {
      const other = await buildApp({
        config: loadConfig({ ENVIRONMENT: 'test', LOG_LEVEL: 'silent', JWT_SECRET_KEY: TEST_SECRET }),
        db: s.db,
        schema: await migratorFor(s.db),
      });
      try {
        const on = (app: typeof other) =>
          app.inject({ method: 'POST', url: '/auth/login', remoteAddress: '10.0.6.1', ...form({ username: ADMIN.username, password: 'guess' }) });
        const codes: number[] = [];
        for (let i = 0; i < 5; i++) codes.push((await on(i % 2 ? other : s.app)).statusCode);
        expect(codes).toEqual([401, 401, 401, 401, 429]);
      } finally {
        await other.close();
      }
    });

    it('never logs passwords or tokens', async () => {
      const res = await login({ username: ADMIN.username, password: 'admin123' }, '10.0.5.1');
      const token = json<{ access_token: string }>(res).access_token;
      await approveWith(`Bearer ${token}`, `/candidates/${id}/reject`);
      await s.app.inject({ method: 'POST', url: `/auth/login?username=${ADMIN.username}&password=admin123&client_secret=hush`, remoteAddress: '10.0.5.2' });
      const all = logs.join('');
      expect(all).toContain('/auth/login');
      expect(all).not.toContain('admin123');
      expect(all).not.toContain('hush');
      expect(all).not.toContain(token);
      expect(all).not.toContain(token.split('.')[2]);
    });
  });

  describe('admin endpoints', () => {
    it('no Authorization header, or another scheme: 401 Not authenticated with WWW-Authenticate: Bearer', async () => {
      for (const header of [undefined, 'Basic YWRtaW46YWRtaW4xMjM=', mint({ sub: 'x', role: 'admin', exp: inSeconds(60) })]) {
        const res = await approveWith(header);
        expect(res.statusCode).toBe(401);
        expect(json(res)).toEqual({ detail: 'Not authenticated' });
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    });

    it.each([
      ['garbage', 'Bearer not.a.token'],
      ['an empty token', 'Bearer '],
      ['an expired token', `Bearer ${mint({ sub: ADMIN.username, role: 'admin', exp: inSeconds(-10) })}`],
      ['a token without exp', `Bearer ${mint({ sub: ADMIN.username, role: 'admin' })}`],
      ['a token without sub', `Bearer ${mint({ role: 'admin', exp: inSeconds(60) })}`],
      ['another key', `Bearer ${mint({ sub: ADMIN.username, role: 'admin', exp: inSeconds(60) }, 'other-secret')}`],
      ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: ADMIN.username, role: 'admin', exp: inSeconds(60) })}.`],
    ])('%s: 401 Could not validate credentials with WWW-Authenticate: Bearer', async (_what, header) => {
      const res = await approveWith(header);
      expect(res.statusCode).toBe(401);
      expect(json(res)).toEqual({ detail: 'Could not validate credentials' });
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('a valid token without the admin role: 403 Admin access required', async () => {
      const res = await approveWith(`Bearer ${mint({ sub: 'viewer@example.com', role: 'viewer', exp: inSeconds(60) })}`);
      expect(res.statusCode).toBe(403);
      expect(json(res)).toEqual({ detail: 'Admin access required' });
    });

    it('authentication comes before validation, as FastAPI resolved dependencies first', async () => {
      expect((await approveWith(undefined, '/candidates/not-a-uuid/approve')).statusCode).toBe(401);
      const reject = await s.app.inject({ method: 'POST', url: `/candidates/${id}/reject`, payload: { reason: 5 } });
      expect(reject.statusCode).toBe(401);
    });

    it('accepts a token minted like the Python service did (no iat), and a lowercase scheme', async () => {
      const other = (await register(s)).candidate_id;
      const res = await s.app.inject({
        method: 'POST',
        url: `/candidates/${other}/reject`,
        headers: { authorization: `bearer ${mint({ sub: ADMIN.username, role: 'admin', exp: inSeconds(60) })}` },
        payload: {},
      });
      expect(res.statusCode, res.body).toBe(200);
    });
  });

  describe('reads', () => {
    it('need a valid token by default (any role)', async () => {
      expect((await s.app.inject({ url: '/candidates' })).statusCode).toBe(401);
      expect((await s.app.inject({ url: `/candidates/${id}` })).statusCode).toBe(401);
      const bad = await s.app.inject({ url: '/candidates', headers: { authorization: 'Bearer x' } });
      expect(json(bad)).toEqual({ detail: 'Could not validate credentials' });
      const viewer = mint({ sub: 'viewer@example.com', role: 'viewer', exp: inSeconds(60) });
      expect((await s.app.inject({ url: `/candidates/${id}`, headers: { authorization: `Bearer ${viewer}` } })).statusCode).toBe(200);
    });

    it('registering needs no token', async () => {
      expect((await s.app.inject({ method: 'POST', url: '/candidates', payload: {} })).statusCode).toBe(422);
    });
  });
});

describe.each(engines)('configured credentials and public reads on $name', (engine) => {
  let s: Service;
  beforeAll(async () => {
    s = await startService(engine, {
      env: { PUBLIC_READS: 'true', ADMIN_USERNAME: 'ops@gan-shmuel.com', ADMIN_PASSWORD_HASH: hashSync('s3cret-pass', 4) },
    });
  });
  afterAll(async () => s.close());

  it('PUBLIC_READS=true: reads without a token, as the Python service allowed', async () => {
    const id = (await register(s)).candidate_id;
    expect((await s.app.inject({ url: '/candidates' })).statusCode).toBe(200);
    expect((await s.app.inject({ url: `/candidates/${id}` })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'POST', url: `/candidates/${id}/approve` })).statusCode, 'admin actions still need a token').toBe(401);
  });

  it('admin user from configuration (bcrypt hash); the development defaults no longer work', async () => {
    const ok = await s.app.inject({ method: 'POST', url: '/auth/login', ...form({ username: 'ops@gan-shmuel.com', password: 's3cret-pass' }) });
    expect(ok.statusCode).toBe(200);
    const dev = await s.app.inject({ method: 'POST', url: '/auth/login', ...form(ADMIN) });
    expect(dev.statusCode).toBe(401);
  });
});

describe('development secrets', () => {
  const env = { LOG_LEVEL: 'silent' };
  it('refused in production: the JWT secret and the admin password (plain or as a hash)', () => {
    expect(() => checkSecrets(loadConfig({ ...env, ENVIRONMENT: 'production', ADMIN_PASSWORD: 'long-and-unique' }))).toThrow(ConfigError);
    const prod = { ...env, ENVIRONMENT: 'production', JWT_SECRET_KEY: 'a-real-secret-of-32-bytes-or-more' };
    expect(() => checkSecrets(loadConfig(prod))).toThrow(/admin password is the development default/);
    expect(() => checkSecrets(loadConfig({ ...prod, ADMIN_PASSWORD_HASH: hashSync('admin123', 4) }))).toThrow(/admin password/);
    expect(checkSecrets(loadConfig({ ...prod, ADMIN_PASSWORD: 'long-and-unique' }))).toEqual([]);
  });

  it('refused in production when weak: a JWT key under 32 bytes, an admin password under 12 characters', () => {
    const prod = { ...env, ENVIRONMENT: 'production', JWT_SECRET_KEY: 'k'.repeat(32), ADMIN_PASSWORD: 'p'.repeat(12) };
    expect(checkSecrets(loadConfig(prod))).toEqual([]);
    expect(() => checkSecrets(loadConfig({ ...prod, JWT_SECRET_KEY: 'a' }))).toThrow(/JWT_SECRET_KEY is shorter than 32 bytes/);
    expect(() => checkSecrets(loadConfig({ ...prod, JWT_SECRET_KEY: 'k'.repeat(31) }))).toThrow(/shorter than 32 bytes/);
    expect(() => checkSecrets(loadConfig({ ...prod, ADMIN_PASSWORD: 'b' }))).toThrow(/ADMIN_PASSWORD is shorter than 12 characters/);
    expect(checkSecrets(loadConfig({ ...prod, ENVIRONMENT: 'development', ADMIN_PASSWORD: 'b' })).join(' ')).toMatch(/shorter than 12/);
  });

  it('accepted elsewhere, with warnings', () => {
    const warnings = checkSecrets(loadConfig({ ...env, ENVIRONMENT: 'development' }));
    expect(warnings).toHaveLength(2);
    expect(warnings.join(' ')).toMatch(/development/);
  });
});
