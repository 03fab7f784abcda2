import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingStub } from '../support/billing-stub.js';
import { testEngines } from '../support/databases.js';
import { ADMIN, newCandidate, startService, type Service } from '../support/service.js';

const engines = await testEngines();
const ROOT = join(import.meta.dirname, '..', '..');

describe.each(engines)('over a real socket on $name', (engine) => {
  let s: Service;
  let base: string;
  beforeAll(async () => {
    s = await startService(engine);
    base = await s.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => s.close());

  it('register, log in with a form, read, approve: the whole flow through HTTP/1.1', async () => {
    const created = await fetch(`${base}/api/providers/candidates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'wire-1' },
      body: JSON.stringify(newCandidate()),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('wire-1');
    const { candidate_id } = (await created.json()) as { candidate_id: string };

    const login = await fetch(`${base}/auth/login`, { method: 'POST', body: new URLSearchParams(ADMIN) });
    expect(login.status).toBe(200);
    const { access_token } = (await login.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${access_token}` };

    const got = await fetch(`${base}/candidates/${candidate_id}`, { headers: auth });
    expect(got.status).toBe(200);
    const etag = got.headers.get('etag') as string;
    expect(etag).toBe('"1"');

    const approved = await fetch(`${base}/candidates/${candidate_id}/approve`, { method: 'POST', headers: { ...auth, 'if-match': etag } });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ candidate_id, status: 'approved' });

    const listed = await fetch(`${base}/candidates?status=approved`, { headers: auth });
    expect(((await listed.json()) as { pagination: { total: number } }).pagination.total).toBe(1);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('a body that is not JSON over the wire: 422, not 400/415', async () => {
    const res = await fetch(`${base}/candidates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { detail: { type: string }[] }).detail[0]?.type).toBe('json_invalid');
  });
});

interface Running {
  child: ChildProcess;
  base: Promise<string>;
  exit: Promise<{ code: number | null; stderr: string }>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `node dist/src/main.js` with this environment; `base` resolves once it answers HTTP. */
async function runService(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), JWT_SECRET_KEY: 'process-test-secret', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  let exited = false;
  void exit.then(() => (exited = true));
  const base = (async () => {
    const url = `http://127.0.0.1:${port}`;
    for (;;) {
      if (exited) throw new Error(`service exited before listening: ${stderr}`);
      try {
        await fetch(`${url}/`);
        return url;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  // Callers that expect a start-up failure never await `base`.
  base.catch(() => {});
  return { child, base, exit };
}

/** Resolves once the billing stand-in has been called: the request is then in flight. */
async function billingCalled(billing: BillingStub, request: Promise<unknown>): Promise<void> {
  let settled = false;
  void request.finally(() => (settled = true));
  while (billing.calls.length === 0) {
    if (settled) throw new Error(`the request ended before calling billing: ${String(await request)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the service process (main.ts)', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'ignore' });
  });

  it.each([
    ['an invalid setting', { PORT: 'abc' }, /^provider-registration-service: PORT must be a port number/],
    ['an unreachable database', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' }, /^provider-registration-service: cannot reach PostgreSQL at 127\.0\.0\.1:1/],
    ['development secrets in production', { ENVIRONMENT: 'production', JWT_SECRET_KEY: 'dev-secret-key-change-in-production' }, /refusing to start in production/],
  ])('start-up failure (%s): one line on stderr, exit status 1', async (_what, env, line) => {
    const { exit } = await runService(env);
    const { code, stderr } = await exit;
    expect(code).toBe(1);
    expect(stderr).toMatch(line);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  describe('embedded database', () => {
    let dir: string;
    let billing: BillingStub;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'prs-main-'));
      billing = await BillingStub.start();
    });
    afterAll(async () => {
      await billing.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('migrates to head before listening; SIGTERM lets an in-flight approval finish, then exits 0', async () => {
      const svc = await runService({ DATA_DIR: join(dir, 'data'), BILLING_SERVICE_URL: billing.url, LOG_LEVEL: 'warn' });
      const base = await svc.base;
      expect(await (await fetch(`${base}/health`)).json()).toMatchObject({ status: 'healthy', schema: { current: '003_claims_and_login_attempts' } });
      const created = await fetch(`${base}/candidates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(newCandidate()) });
      const { candidate_id } = (await created.json()) as { candidate_id: string };
      const login = await fetch(`${base}/auth/login`, { method: 'POST', body: new URLSearchParams(ADMIN) });
      const { access_token } = (await login.json()) as { access_token: string };

      billing.will({ status: 201, delayMs: 800 });
      const inFlight = fetch(`${base}/candidates/${candidate_id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${access_token}` } });
      await billingCalled(billing, inFlight.then((r) => r.status));
      svc.child.kill('SIGTERM');
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect((await svc.exit).code).toBe(0);
    });

    it('a second SIGTERM exits at once, without waiting for a stalled request', async () => {
      const svc = await runService({ DATA_DIR: join(dir, 'data'), BILLING_SERVICE_URL: billing.url, LOG_LEVEL: 'warn' });
      const base = await svc.base;
      const created = await fetch(`${base}/candidates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(newCandidate()) });
      const { candidate_id } = (await created.json()) as { candidate_id: string };
      const login = await fetch(`${base}/auth/login`, { method: 'POST', body: new URLSearchParams(ADMIN) });
      const { access_token } = (await login.json()) as { access_token: string };
      billing.reset();
      billing.will('hang');
      const stalled = fetch(`${base}/candidates/${candidate_id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${access_token}` } }).catch(
        (e: unknown) => e,
      );
      await billingCalled(billing, stalled);
      svc.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      expect(svc.child.exitCode, 'still draining after the first signal').toBeNull();
      svc.child.kill('SIGTERM');
      expect((await svc.exit).code).toBe(1);
      await stalled;
    });
  });

  describe.each(engines.filter((e) => e.name === 'server'))('server database ($name)', (engine) => {
    it('does not migrate unless MIGRATE_ON_START=true: 503 until the schema is at head', async () => {
      const testDb = await engine.create();
      try {
        const plain = await runService({ DATABASE_URL: testDb.url as string, LOG_LEVEL: 'warn' });
        const res = await fetch(`${await plain.base}/health`);
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ database: 'connected', schema: { current: null } });
        plain.child.kill('SIGTERM');
        expect((await plain.exit).code).toBe(0);

        const migrating = await runService({ DATABASE_URL: testDb.url as string, LOG_LEVEL: 'warn', MIGRATE_ON_START: 'true' });
        expect((await fetch(`${await migrating.base}/health`)).status).toBe(200);
        migrating.child.kill('SIGTERM');
        expect((await migrating.exit).code).toBe(0);
      } finally {
        await testDb.drop();
      }
    });
  });
});
