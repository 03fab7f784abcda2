import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BillingClient } from '../../src/billing/client.js';
import { loadConfig } from '../../src/config/index.js';
import { buildApp } from '../../src/http/app.js';
import { migratorFor } from '../../src/migrations.js';
import { testEngines } from '../support/databases.js';
import { FAST_BILLING, json, register, startService, TEST_SECRET, type Service } from '../support/service.js';

const engines = await testEngines();

describe.each(engines)('approving and rejecting on $name', (engine) => {
  let s: Service;
  let headers: Record<string, string>;

  beforeAll(async () => {
    // Time-outs long enough that 100 requests on the in-process engine, which
    // share the event loop with billing's answers, never reach them by accident.
    s = await startService(engine, { billing: { totalTimeoutMs: 5_000 } });
    headers = { authorization: `Bearer ${s.adminToken()}` };
  });
  afterAll(async () => s.close());
  beforeEach(() => s.billing.reset());

  const approve = (id: string, extra: Record<string, string> = {}, payload?: unknown) =>
    s.app.inject({ method: 'POST', url: `/candidates/${id}/approve`, headers: { ...headers, ...extra }, ...(payload === undefined ? {} : { payload: payload as string }) });
  const reject = (id: string, payload: unknown = {}, extra: Record<string, string> = {}) =>
    s.app.inject({ method: 'POST', url: `/candidates/${id}/reject`, headers: { ...headers, ...extra }, payload: payload as string });
  const read = async (id: string) => json(await s.app.inject({ url: `/candidates/${id}`, headers }));

  describe('approve', () => {
    it('creates the provider in billing and records its id', async () => {
      const c = await register(s);
      const res = await approve(c.candidate_id);
      expect(res.statusCode, res.body).toBe(200);
      const provider = s.billing.created[0];
      expect(json(res)).toEqual({ candidate_id: c.candidate_id, status: 'approved', provider_id: provider });
      expect(res.headers.etag).toBe('"2"');
      expect(s.billing.calls.map((x) => x.body)).toEqual([{ name: c.company_name }]);
      const after = await read(c.candidate_id);
      expect(after).toMatchObject({ status: 'approved', provider_id: provider, version: 2 });
      expect(String(after.updated_at) >= String(c.updated_at)).toBe(true);
    });

    it('with billing hung, 20 approvals in flight hold no connection: reads and /health answer at once, not after billing gives up (5 s)', async () => {
      const pending = [];
      for (let i = 0; i < 20; i++) pending.push(await register(s));
      s.billing.will(...pending.map(() => 'hang' as const));
      const approvals = pending.map((c) => approve(c.candidate_id));
      await new Promise((r) => setTimeout(r, 200));
      const slowest: number[] = [];
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        const res = await (i % 3 === 0 ? s.app.inject({ url: '/health' }) : s.app.inject({ url: `/candidates/${pending[i % 20]!.candidate_id}`, headers }));
        expect(res.statusCode, res.body).toBe(200);
        slowest.push(performance.now() - started);
      }
      // A generous bound (well under billing's 5 s) so a busy machine cannot flake it; the point is that nothing waits for billing.
      expect(Math.max(...slowest)).toBeLessThan(2_000);
      // Each approval ends as the contract says for a billing timeout (502), none of them a 5xx of our own making.
      expect((await Promise.all(approvals)).map((r) => r.statusCode)).toEqual(pending.map(() => 502));
    });

    it('ignores a body, as the Python route declared none (its front end sends one)', async () => {
      for (const body of [{ approved: true }, {}, { rejection_reason: null }]) {
        const c = await register(s);
        expect((await approve(c.candidate_id, {}, body)).statusCode).toBe(200);
      }
      const d = await register(s);
      expect((await approve(d.candidate_id, { 'content-type': 'application/json' }, '{not json')).statusCode).toBe(200);
    });

    it('refuses a body that asks for a rejection (the Gan Shmuel Reject button): 422 naming /reject, nothing changes', async () => {
      const c = await register(s);
      for (const body of [{ approved: false, rejection_reason: 'too far' }, { approved: false }, { approved: true, rejection_reason: 'x' }]) {
        const res = await approve(c.candidate_id, {}, body);
        expect(res.statusCode).toBe(422);
        const detail = json<{ detail: { loc: string[]; msg: string }[] }>(res).detail;
        expect(detail[0]?.msg).toContain('POST /candidates/{candidate_id}/reject');
      }
      expect(s.billing.calls).toHaveLength(0);
      expect(await read(c.candidate_id)).toMatchObject({ status: 'pending', version: 1, provider_id: null });
    });

    it('400 once decided, naming the status; 404 when unknown; nothing sent to billing', async () => {
      const c = await register(s);
      await approve(c.candidate_id);
      s.billing.reset();
      const again = await approve(c.candidate_id);
      expect(again.statusCode).toBe(400);
      expect(json(again)).toEqual({ detail: 'Candidate already approved' });
      const r = await register(s);
      await reject(r.candidate_id);
      expect(json(await approve(r.candidate_id))).toEqual({ detail: 'Candidate already rejected' });
      const missing = await approve('00000000-0000-4000-8000-000000000000');
      expect(missing.statusCode).toBe(404);
      expect(json(missing)).toEqual({ detail: 'Candidate not found' });
      expect(s.billing.calls).toHaveLength(0);
    });

    it('answers under /api/providers too', async () => {
      const c = await register(s);
      expect((await s.app.inject({ method: 'POST', url: `/api/providers/candidates/${c.candidate_id}/approve`, headers })).statusCode).toBe(200);
    });
  });

  describe('reject', () => {
    it('stores the reason and answers with it', async () => {
      const c = await register(s);
      const res = await reject(c.candidate_id, { reason: 'Capacity too small' });
      expect(res.statusCode, res.body).toBe(200);
      expect(json(res)).toEqual({ candidate_id: c.candidate_id, status: 'rejected', rejection_reason: 'Capacity too small' });
      expect(await read(c.candidate_id)).toMatchObject({ status: 'rejected', rejection_reason: 'Capacity too small', version: 2, provider_id: null });
      expect(s.billing.calls).toHaveLength(0);
    });

    it('the reason is optional; up to 1000 characters', async () => {
      const c = await register(s);
      expect(json(await reject(c.candidate_id, {}))).toMatchObject({ rejection_reason: null });
      const d = await register(s);
      expect((await reject(d.candidate_id, { reason: 'r'.repeat(1000) })).statusCode).toBe(200);
    });

    it('422 for a bad body (too long, not a string, NUL, missing); nothing changes', async () => {
      const c = await register(s);
      const cases: [unknown, string, (string | number)[]][] = [
        [{ reason: 'r'.repeat(1001) }, 'string_too_long', ['body', 'reason']],
        [{ reason: 42 }, 'string_type', ['body', 'reason']],
        [{ reason: 'a\u0000b' }, 'string_pattern_mismatch', ['body', 'reason']],
        [undefined, 'missing', ['body']],
        ['[]', 'model_type', ['body']],
      ];
      for (const [payload, type, loc] of cases) {
        const res = await s.app.inject({
          method: 'POST',
          url: `/candidates/${c.candidate_id}/reject`,
          headers: { ...headers, 'content-type': 'application/json' },
          ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
        });
        expect(res.statusCode, JSON.stringify(payload)).toBe(422);
        expect(json<{ detail: { type: string; loc: unknown[] }[] }>(res).detail.map((d) => [d.type, d.loc])).toEqual([[type, loc]]);
      }
      expect(await read(c.candidate_id)).toMatchObject({ status: 'pending', version: 1 });
    });

    it('400 once decided', async () => {
      const c = await register(s);
      await reject(c.candidate_id);
      expect(json(await reject(c.candidate_id))).toEqual({ detail: 'Candidate already rejected' });
    });
  });

  describe('If-Match (optimistic locking over HTTP)', () => {
    it('a stale version: 412, nothing changes, billing is not called', async () => {
      const c = await register(s);
      await s.db.query("UPDATE candidates SET location = 'moved' WHERE id = $1", [c.candidate_id]);
      const res = await approve(c.candidate_id, { 'if-match': '"1"' });
      expect(res.statusCode).toBe(412);
      expect(res.headers.etag).toBe('"2"');
      expect(s.billing.calls).toHaveLength(0);
      expect((await reject(c.candidate_id, { reason: 'x' }, { 'if-match': '"1"' })).statusCode).toBe(412);
      expect(await read(c.candidate_id)).toMatchObject({ status: 'pending', version: 2 });
    });

    it('the version read (from the ETag) goes through; so do * and a list that holds it; a weak tag does not', async () => {
      const c = await register(s);
      const etag = (await s.app.inject({ url: `/candidates/${c.candidate_id}`, headers })).headers.etag as string;
      expect((await approve(c.candidate_id, { 'if-match': 'W/"1"' })).statusCode).toBe(412);
      expect((await approve(c.candidate_id, { 'if-match': etag })).statusCode).toBe(200);
      const d = await register(s);
      expect((await reject(d.candidate_id, {}, { 'if-match': '*' })).statusCode).toBe(200);
      const e = await register(s);
      expect((await reject(e.candidate_id, {}, { 'if-match': '"7", "1"' })).statusCode).toBe(200);
    });

    it('a decided candidate is 400 even with a stale If-Match (preconditions only for requests that would succeed)', async () => {
      const c = await register(s);
      await reject(c.candidate_id);
      expect((await approve(c.candidate_id, { 'if-match': '"1"' })).statusCode).toBe(400);
    });
  });

  describe('billing failures', () => {
    it('retries 503 and 500, then succeeds', async () => {
      const c = await register(s);
      s.billing.will({ status: 503 }, { status: 500 }, { status: 502 });
      const res = await approve(c.candidate_id);
      expect(res.statusCode, res.body).toBe(200);
      expect(s.billing.calls).toHaveLength(4);
      expect(s.billing.created).toHaveLength(1);
    });

    it.each([408, 429, 504])('retries %i', async (status) => {
      const c = await register(s);
      s.billing.will({ status });
      expect((await approve(c.candidate_id)).statusCode).toBe(200);
      expect(s.billing.calls).toHaveLength(2);
    });

    it('gives up after 3 retries: 502 "Failed to create provider: ...", candidate still pending', async () => {
      const c = await register(s);
      s.billing.will(...Array.from({ length: 4 }, () => ({ status: 503, body: { detail: 'maintenance' } })));
      const res = await approve(c.candidate_id);
      expect(res.statusCode).toBe(502);
      expect(json<{ detail: string }>(res).detail).toMatch(/^Failed to create provider: Billing service returned 503/);
      expect(s.billing.calls).toHaveLength(4);
      expect(await read(c.candidate_id)).toMatchObject({ status: 'pending', version: 1, provider_id: null });
      expect((await approve(c.candidate_id)).statusCode, 'a later approval works').toBe(200);
    });

    it.each([400, 404, 422])('never retries %i: 502 after one call, quoting billing briefly', async (status) => {
      const c = await register(s);
      s.billing.will({ status, body: { detail: `no ${'x'.repeat(500)}` } });
      const res = await approve(c.candidate_id);
      expect(res.statusCode).toBe(502);
      expect(json<{ detail: string }>(res).detail).toBe(`Failed to create provider: Billing service returned ${status}: no ${'x'.repeat(117)}...`);
      expect(s.billing.calls).toHaveLength(1);
    });

    it("billing's unique names: a second company of one name is a 502 saying so, after one call", async () => {
      s.billing.uniqueNames = true;
      const a = await register(s, { company_name: 'Twin Orchards' });
      const b = await register(s, { company_name: 'Twin Orchards' });
      expect((await approve(a.candidate_id)).statusCode).toBe(200);
      const res = await approve(b.candidate_id);
      expect(res.statusCode).toBe(502);
      expect(json<{ detail: string }>(res).detail).toBe(
        'Failed to create provider: Billing service refused the name "Twin Orchards": a provider with this name already exists (409: Provider name must be unique)',
      );
      expect(s.billing.calls).toHaveLength(2);
      expect(await read(b.candidate_id)).toMatchObject({ status: 'pending', provider_id: null });
    });

    it('a 200, or a 201 without an integer id, is a failure too', async () => {
      const c = await register(s);
      s.billing.will({ status: 200, body: { id: 5 } });
      expect((await approve(c.candidate_id)).statusCode).toBe(502);
      s.billing.will({ status: 201, body: { id: 'x' } });
      expect(json<{ detail: string }>(await approve(c.candidate_id)).detail).toMatch(/without an integer id/);
      s.billing.will({ status: 201, body: { id: 2 ** 31 } });
      expect((await approve(c.candidate_id)).statusCode, 'an id the integer column cannot hold').toBe(502);
    });

    it('retries a dropped connection; never a try that timed out (it may have created the provider)', async () => {
      const quick = await appWithBilling(s, { totalTimeoutMs: 300, lateAnswerMs: 700 });
      try {
        const c = await register(s);
        s.billing.will('reset', { status: 201 });
        expect((await approveOn(quick, c.candidate_id)).statusCode).toBe(200);
        expect(s.billing.calls).toHaveLength(2);
        const d = await register(s);
        s.billing.reset();
        s.billing.will('hang');
        const res = await approveOn(quick, d.candidate_id);
        expect(res.statusCode).toBe(502);
        expect(json<{ detail: string }>(res).detail).toMatch(/^Failed to create provider: Billing service timeout: no answer within 300 ms; not retried/);
        expect(s.billing.calls).toHaveLength(1);
        expect((await approveOn(quick, d.candidate_id)).statusCode, 'while the late answer is awaited, the claim holds').toBe(409);
        // No answer came within lateAnswerMs: the claim is given up and a later approve calls billing again.
        await waitFor(async () => (await approveOn(quick, d.candidate_id)).statusCode === 200);
        expect(s.billing.calls).toHaveLength(2);
      } finally {
        await quick.close();
      }
    });

    it('slow billing that does create (answers after the timeout): one provider, recorded by the next approve', async () => {
      const quick = await appWithBilling(s, { totalTimeoutMs: 300, lateAnswerMs: 3_000 });
      try {
        const c = await register(s);
        s.billing.will({ status: 201, delayMs: 500 });
        expect((await approveOn(quick, c.candidate_id)).statusCode).toBe(502);
        await waitFor(async () => s.billing.created.length === 1);
        await waitFor(async () => (await approveOn(quick, c.candidate_id)).statusCode === 200);
        expect(await read(c.candidate_id)).toMatchObject({ status: 'approved', provider_id: s.billing.created[0] });
        expect(s.billing.calls, 'the next approve used the late id instead of calling billing').toHaveLength(1);
        expect(s.billing.created).toHaveLength(1);
      } finally {
        await quick.close();
      }
    });

    it('a rejection while billing is being called is 409 at once; so is a second approval', async () => {
      const c = await register(s);
      s.billing.will({ status: 201, delayMs: 300 });
      const pending = approve(c.candidate_id);
      await waitFor(async () => s.billing.calls.length === 1);
      const t0 = Date.now();
      expect((await reject(c.candidate_id, { reason: 'no' })).statusCode).toBe(409);
      expect((await approve(c.candidate_id)).statusCode).toBe(409);
      expect(Date.now() - t0).toBeLessThan(200);
      expect((await pending).statusCode).toBe(200);
      expect(s.billing.created).toHaveLength(1);
    });

    it('backs off exponentially and honours a numeric Retry-After', async () => {
      const c = await register(s);
      const app = await appWithBilling(s, { backoffMs: 60 });
      try {
        s.billing.will({ status: 500 }, { status: 500 }, { status: 500 });
        expect((await approveOn(app, c.candidate_id)).statusCode).toBe(200);
        const gaps = s.billing.gaps();
        // Lower bounds only: a slow machine may wait longer, never shorter.
        expect(gaps[0]).toBeGreaterThanOrEqual(55);
        expect(gaps[1]).toBeGreaterThanOrEqual(115);
        expect(gaps[2]).toBeGreaterThanOrEqual(235);
        const d = await register(s);
        s.billing.reset();
        s.billing.will({ status: 503, headers: { 'retry-after': '1' } });
        expect((await approveOn(app, d.candidate_id)).statusCode).toBe(200);
        expect(s.billing.gaps()[0]).toBeGreaterThanOrEqual(990);
      } finally {
        await app.close();
      }
    });

    it('billing unreachable: 502 naming the connection failure', async () => {
      const c = await register(s);
      const app = await appWithBilling(s, { baseUrl: 'http://127.0.0.1:9' });
      try {
        const res = await approveOn(app, c.candidate_id);
        expect(res.statusCode).toBe(502);
        expect(json<{ detail: string }>(res).detail).toMatch(/^Failed to create provider: Failed to connect to billing service after retries: ECONNREFUSED/);
      } finally {
        await app.close();
      }
    });
  });

  describe('concurrent decisions', () => {
    it('100 approvals of one candidate at once: one 200, the rest 400/409, no 5xx, one provider', async () => {
      const c = await register(s);
      // Billing answers slowly, so the approvals overlap while it is being called.
      s.billing.will({ status: 201, delayMs: 100 });
      const results = await Promise.all(Array.from({ length: 100 }, () => approve(c.candidate_id)));
      const codes = results.map((r) => r.statusCode);
      expect(codes.filter((x) => x === 200), results.map((r) => r.body).find((b) => !b.includes('modified'))).toHaveLength(1);
      expect(codes.every((x) => x === 200 || x === 400 || x === 409)).toBe(true);
      expect(s.billing.calls).toHaveLength(1);
      expect(s.billing.created).toHaveLength(1);
      const conflict = results.find((r) => r.statusCode === 409);
      if (conflict) expect(json(conflict)).toEqual({ detail: 'Candidate was modified by another process. Please retry.' });
      expect(await read(c.candidate_id)).toMatchObject({ status: 'approved', provider_id: s.billing.created[0], version: 2 });
    });

    it('approvals racing rejections: exactly one decision wins', async () => {
      const c = await register(s);
      s.billing.will({ status: 201, delayMs: 50 });
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? approve(c.candidate_id) : reject(c.candidate_id, { reason: `r${i}` }))),
      );
      expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
      expect(results.every((r) => [200, 400, 409].includes(r.statusCode))).toBe(true);
      const final = await read(c.candidate_id);
      expect(final.version).toBe(2);
      expect(s.billing.created).toHaveLength(final.status === 'approved' ? 1 : 0);
    });
  });
});

describe.each(engines.filter((e) => e.name === 'server'))('replicas sharing one server database ($name)', (engine) => {
  let s: Service;
  beforeAll(async () => {
    s = await startService(engine);
  });
  afterAll(async () => s.close());

  it('approvals through two app instances at once create one provider (the row lock, not only the in-process claim)', async () => {
    const other = await appWithBilling(s, {});
    try {
      const c = await register(s);
      s.billing.will({ status: 201, delayMs: 100 });
      const headers = { authorization: `Bearer ${s.adminToken()}` };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? other : s.app).inject({ method: 'POST', url: `/candidates/${c.candidate_id}/approve`, headers }),
        ),
      );
      expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
      expect(results.every((r) => [200, 400, 409].includes(r.statusCode))).toBe(true);
      expect(s.billing.created).toHaveLength(1);
    } finally {
      await other.close();
    }
  });
});

async function waitFor(ok: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A second app on the service's database, with its own billing client options. */
async function appWithBilling(s: Service, billing: Partial<ConstructorParameters<typeof BillingClient>[0]>) {
  const config = loadConfig({ LOG_LEVEL: 'silent', JWT_SECRET_KEY: TEST_SECRET });
  const client = new BillingClient({ baseUrl: s.billing.url, ...FAST_BILLING, ...billing });
  const app = await buildApp({ config, db: s.db, schema: await migratorFor(s.db), providers: client });
  app.addHook('onClose', async () => client.close());
  return app;
}

function approveOn(app: Awaited<ReturnType<typeof appWithBilling>>, id: string) {
  return app.inject({
    method: 'POST',
    url: `/candidates/${id}/approve`,
    headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'admin@example.com', role: 'admin' })}` },
  });
}
