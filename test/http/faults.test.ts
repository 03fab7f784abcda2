import { createConnection, createServer, type Server, type Socket } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseDatabaseUrl } from '../../src/config/index.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { buildApp } from '../../src/http/app.js';
import { migratorFor } from '../../src/migrations.js';
import { SERVER_ADMIN_URL, testEngines } from '../support/databases.js';
import { newCandidate, register, startService, TEST_SECRET, type Service } from '../support/service.js';

const engines = (await testEngines()).filter((e) => e.name === 'server');

/** Ends every backend of the test's database but the killer's own: what a restart or a failover does to the pool. */
async function killBackends(admin: postgres.Sql, database: string): Promise<number> {
  const rows = await admin`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = ${database} AND pid <> pg_backend_pid()`;
  return rows.length;
}

/** A loopback TCP relay to PostgreSQL that can stop answering (black hole) and resume, to play a database that is unreachable. */
class Relay {
  private readonly sockets = new Set<Socket>();
  blackhole = false;
  private constructor(readonly server: Server, readonly port: number) {}

  static async start(target: URL): Promise<Relay> {
    let relay: Relay | undefined;
    const server = createServer((client) => {
      relay?.sockets.add(client);
      client.once('close', () => relay?.sockets.delete(client));
      client.on('error', () => {});
      if (relay?.blackhole) return;
      const upstream = createConnection(Number(target.port || 5432), target.hostname);
      upstream.on('error', () => client.destroy());
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('relay has no port');
    relay = new Relay(server, address.port);
    return relay;
  }

  /** Drops every connection; new ones are held open and never answered while blackhole is set. */
  cut(): void {
    this.blackhole = true;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe.each(engines)('faults on the database connection ($name)', (engine) => {
  let s: Service;
  let admin: postgres.Sql;
  let database: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    s = await startService(engine);
    admin = postgres(SERVER_ADMIN_URL, { max: 1, onnotice: () => {} });
    database = new URL(s.testDb.url as string).pathname.slice(1);
    auth = { authorization: `Bearer ${s.adminToken()}` };
  });
  afterAll(async () => {
    await admin.end();
    await s.close();
  });

  it("killing the backends during an approval's billing call: the approval is recorded and the process keeps serving", async () => {
    const c = await register(s);
    s.billing.will({ status: 201, delayMs: 300 });
    const approval = s.app.inject({ method: 'POST', url: `/candidates/${c.candidate_id}/approve`, headers: auth });
    while (s.billing.calls.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(await killBackends(admin, database)).toBeGreaterThan(0);
    const res = await approval;
    expect(res.statusCode, res.body).toBe(200);
    const read = await s.app.inject({ url: `/candidates/${c.candidate_id}`, headers: auth });
    expect(JSON.parse(read.body)).toMatchObject({ status: 'approved', provider_id: s.billing.created[0] });
  });

  it('killing the backends again and again during reads and writes: only 2xx or 503, never a crash, then service as usual', async () => {
    let killing = true;
    const killer = (async () => {
      while (killing) {
        await killBackends(admin, database);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const codes = await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const res =
          i % 3 === 0
            ? await s.app.inject({ method: 'POST', url: '/candidates', payload: newCandidate() })
            : await s.app.inject({ url: i % 3 === 1 ? '/candidates?limit=5' : `/candidates/00000000-0000-4000-8000-00000000000${i % 10}`, headers: auth });
        if (res.statusCode >= 500) expect(JSON.parse(res.body)).toHaveProperty('detail');
        return res.statusCode;
      }),
    );
    killing = false;
    await killer;
    expect(codes.filter((c) => ![200, 201, 404, 503].includes(c))).toEqual([]);
    let back = 0;
    for (let i = 0; i < 20 && back !== 200; i++) {
      back = (await s.app.inject({ url: '/candidates?limit=1', headers: auth })).statusCode;
      if (back !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(back).toBe(200);
  });

  it('an unreachable database: 503 within 2 s, and service resumes without a restart', async () => {
    const relay = await Relay.start(new URL(SERVER_ADMIN_URL));
    const url = new URL(s.testDb.url as string);
    url.host = `127.0.0.1:${relay.port}`;
    let db: Database | undefined;
    const app = await (async () => {
      db = await openDatabase(parseDatabaseUrl(url.toString()), { max: 4, connectTimeout: 1 });
      return buildApp({
        config: loadConfig({ ENVIRONMENT: 'test', LOG_LEVEL: 'silent', JWT_SECRET_KEY: TEST_SECRET, PUBLIC_READS: 'true' }),
        db,
        schema: await migratorFor(db),
        queryTimeoutMs: 1_500,
        healthTimeoutMs: 1_000,
      });
    })();
    try {
      expect((await app.inject({ url: '/candidates?limit=1' })).statusCode).toBe(200);
      relay.cut();
      for (const url of ['/candidates?limit=1', '/candidates/00000000-0000-4000-8000-000000000001']) {
        const t0 = Date.now();
        const res = await app.inject({ url });
        expect(res.statusCode, res.body).toBe(503);
        expect(JSON.parse(res.body)).toEqual({ detail: 'Service temporarily unavailable: the database did not answer' });
        expect(Date.now() - t0).toBeLessThan(2_000);
      }
      const write = await app.inject({ method: 'POST', url: '/candidates', payload: newCandidate() });
      expect(write.statusCode).toBe(503);
      relay.blackhole = false;
      let back = 0;
      for (let i = 0; i < 40 && back !== 200; i++) {
        back = (await app.inject({ url: '/candidates?limit=1' })).statusCode;
        if (back !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(back).toBe(200);
    } finally {
      await app.close();
      await db?.close();
      await relay.close();
    }
  });
});
