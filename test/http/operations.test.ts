import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logger.js';
import { testEngines } from '../support/databases.js';
import { json, register, startService, type Service } from '../support/service.js';

const engines = await testEngines();
const HEAD = '003_claims_and_login_attempts';

function logSink(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe.each(engines)('operations on $name', (engine) => {
  let s: Service;
  const logs = logSink();
  let headers: Record<string, string>;

  beforeAll(async () => {
    s = await startService(engine, { logger: createLogger('info', logs.stream) });
    headers = { authorization: `Bearer ${s.adminToken()}` };
  });
  afterAll(async () => s.close());

  it('GET /health: 200 at head', async () => {
    const res = await s.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({
      status: 'healthy',
      service: 'provider-registration-service',
      version: '1.0.0',
      database: 'connected',
      schema: { current: HEAD, head: HEAD },
    });
  });

  it('GET /: name, version, links', async () => {
    for (const url of ['/', '/api/providers', '/api/providers/']) {
      const res = await s.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(json(res)).toMatchObject({
        service: 'Gan Shmuel Provider Registration Service',
        version: '1.0.0',
        documentation: '/docs',
        endpoints: { health: '/health', candidates: '/candidates', metrics: '/metrics' },
      });
    }
  });

  it('every route answers under /api/providers too', async () => {
    const c = await register(s);
    expect((await s.app.inject({ url: '/api/providers/health' })).statusCode).toBe(200);
    expect((await s.app.inject({ url: `/api/providers/candidates/${c.candidate_id}`, headers })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/providers/candidates?limit=1', headers })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'POST', url: '/api/providers/candidates', payload: {} })).statusCode).toBe(422);
    expect((await s.app.inject({ url: '/api/providers/openapi.json' })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/providersx/health' })).statusCode, 'a prefix, not a substring').toBe(404);
  });

  it('GET /metrics: the Python names and labels (route patterns), durations, schema, process', async () => {
    const c = await register(s);
    await s.app.inject({ url: `/candidates/${c.candidate_id}`, headers });
    await s.app.inject({ url: '/candidates/00000000-0000-4000-8000-000000000000', headers });
    await s.app.inject({ url: '/api/providers/candidates/00000000-0000-4000-8000-000000000000', headers });
    await s.app.inject({ url: '/no/such/path' });
    const res = await s.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/^provider_service_up 1$/m);
    expect(text).toMatch(/^provider_service_requests_total\{method="POST",endpoint="\/candidates",status_code="201"\} \d+$/m);
    expect(text).toMatch(/^provider_service_requests_total\{method="GET",endpoint="\/candidates\/\{candidate_id\}",status_code="200"\} \d+$/m);
    expect(text).toMatch(/^provider_service_requests_total\{method="GET",endpoint="\/candidates\/\{candidate_id\}",status_code="404"\} [2-9]\d*$/m);
    expect(text).toMatch(/^provider_service_requests_total\{method="GET",endpoint="unmatched",status_code="404"\} \d+$/m);
    expect(text).not.toContain(c.candidate_id);
    expect(text).not.toContain('/no/such/path');
    expect(text).toMatch(/^provider_service_request_duration_seconds_bucket\{le="0\.005",method="GET",endpoint="\/candidates\/\{candidate_id\}",status_code="200"\} \d+$/m);
    expect(text).toContain(`provider_service_schema_revision_info{current="${HEAD}",head="${HEAD}",at_head="1"} 1`);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('X-Request-ID: taken from the request, returned, and on every log line of that request', async () => {
    const res = await s.app.inject({ url: '/candidates?limit=1', headers: { ...headers, 'x-request-id': 'trace-abc-123' } });
    expect(res.headers['x-request-id']).toBe('trace-abc-123');
    const mine = logs.lines().filter((l) => l.request_id === 'trace-abc-123');
    expect(mine.map((l) => l.msg)).toEqual(['request completed']);
    expect(mine[0]).toMatchObject({ req: { method: 'GET', url: '/candidates?limit=1' }, res: { statusCode: 200 } });
  });

  it('X-Request-ID: generated when absent or unfit to log, and sent on errors too', async () => {
    const generated = await s.app.inject({ url: '/nowhere' });
    expect(generated.statusCode).toBe(404);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const bad of ['has space', 'x'.repeat(200), 'line\u00e9break']) {
      const res = await s.app.inject({ url: '/candidates', headers: { 'x-request-id': bad } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('an unexpected failure: 500 with the request id, no SQL or stack; the same id in the log', async () => {
    const c = await register(s);
    await s.db.exec('ALTER TABLE candidates RENAME TO candidates_elsewhere');
    try {
      const res = await s.app.inject({ url: `/candidates/${c.candidate_id}`, headers: { ...headers, 'x-request-id': 'boom-1' } });
      expect(res.statusCode).toBe(500);
      expect(json(res)).toEqual({ detail: 'Internal server error', request_id: 'boom-1' });
      expect(res.body).not.toMatch(/candidates|relation|SELECT|at /i);
      const logged = logs.lines().find((l) => l.request_id === 'boom-1' && l.level === 50);
      expect(logged?.err).toBeDefined();
    } finally {
      await s.db.exec('ALTER TABLE candidates_elsewhere RENAME TO candidates');
    }
  });

  it('a billing failure: each retry and the 502 logged under the request id, one line each, no stack', async () => {
    const c = await register(s);
    s.billing.will(...Array.from({ length: 4 }, () => ({ status: 503 })));
    const res = await s.app.inject({
      method: 'POST',
      url: `/candidates/${c.candidate_id}/approve`,
      headers: { ...headers, 'x-request-id': 'billing-1' },
    });
    expect(res.statusCode).toBe(502);
    const mine = logs.lines().filter((l) => l.request_id === 'billing-1');
    expect(mine.map((l) => l.msg)).toEqual([
      ...Array.from({ length: 3 }, () => 'billing service retry'),
      'Failed to create provider: Billing service returned 503: {}',
      'request completed',
    ]);
    expect(mine.filter((l) => l.err !== undefined)).toEqual([]);
  });

  it('a body over the size limit: 413 in the detail shape', async () => {
    const res = await s.app.inject({ method: 'POST', url: '/candidates', payload: { company_name: 'x'.repeat(1_100_000) } });
    expect(res.statusCode).toBe(413);
    expect(json(res)).toEqual({ detail: 'Payload Too Large' });
  });

  it('CORS: the development origins are allowed, others are not', async () => {
    const ok = await s.app.inject({
      method: 'OPTIONS',
      url: '/candidates',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
    const no = await s.app.inject({ url: '/health', headers: { origin: 'https://evil.example' } });
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('GET /openapi.json: OpenAPI 3.1 generated from the route schemas', async () => {
    const doc = json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown }>>; components: { schemas: Record<string, unknown> } }>(
      await s.app.inject({ url: '/openapi.json' }),
    );
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/auth/login', '/candidates', '/candidates/{candidate_id}', '/candidates/{candidate_id}/approve', '/candidates/{candidate_id}/reject', '/health', '/metrics'].sort(),
    );
    expect(doc.components.schemas).toHaveProperty('CandidateResponse');
    expect(JSON.stringify(doc.paths['/candidates']?.post?.requestBody)).toContain('mangoes');
    expect(doc.paths['/candidates/{candidate_id}/approve']?.post?.security).toEqual([{ OAuth2PasswordBearer: [] }]);
    expect(JSON.stringify(doc.paths['/auth/login']?.post?.requestBody)).toContain('application/x-www-form-urlencoded');
  });

  it('GET /docs: the browsable page, served locally, from docs/ where its references are relative', async () => {
    for (const [url, location] of [['/docs', 'docs/'], ['/api/providers/docs?x=1', 'docs/?x=1']] as const) {
      const moved = await s.app.inject({ url });
      expect(moved.statusCode, url).toBe(302);
      expect(moved.headers.location, url).toBe(location);
    }
    const res = await s.app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('href="./static/swagger-ui.css"');
    expect(res.body).toContain('swagger-ui');
    expect(res.body).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/);
  });
});

describe.each(engines)('health when things are wrong on $name', (engine) => {
  it('503 while the schema is behind head (a replica that does not migrate)', async () => {
    const s = await startService(engine, { revision: '001_add_version_column' });
    try {
      const res = await s.app.inject({ url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(json(res)).toMatchObject({
        status: 'unhealthy',
        database: 'connected',
        schema: { current: '001_add_version_column', head: HEAD },
      });
      expect((await s.app.inject({ url: '/metrics' })).body).toContain('at_head="0"');
    } finally {
      await s.close();
    }
  });

  it('503 with no schema at all', async () => {
    const s = await startService(engine, { revision: 'base' });
    try {
      const res = await s.app.inject({ url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(json(res)).toMatchObject({ status: 'unhealthy', database: 'connected', schema: { current: null, head: HEAD } });
    } finally {
      await s.close();
    }
  });

  it('503 disconnected when the database is gone', async () => {
    const s = await startService(engine);
    try {
      if (engine.name === 'server') await s.testDb.drop();
      else await s.db.close();
      const res = await s.app.inject({ url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(json(res)).toMatchObject({ status: 'unhealthy', database: 'disconnected', schema: { current: null, head: HEAD } });
      const metrics = await s.app.inject({ url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('current="unreachable"');
    } finally {
      await s.close();
    }
  });
});
