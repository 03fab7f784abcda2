import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { AdminCredentials } from '../../src/auth/credentials.js';
import { BillingClient, type BillingClientOptions } from '../../src/billing/client.js';
import { loadConfig } from '../../src/config/index.js';
import type { Database } from '../../src/db/index.js';
import { buildApp, type AppDeps } from '../../src/http/app.js';
import { migratorFor } from '../../src/migrations.js';
import { BillingStub } from './billing-stub.js';
import type { Engine, TestDatabase } from './databases.js';

export const TEST_SECRET = 'test-secret-for-the-http-suite-only';
export const ADMIN = { username: 'admin@example.com', password: 'admin123' };

/** Billing timing for tests: the same logic as production, with delays in milliseconds. */
export const FAST_BILLING: Omit<BillingClientOptions, 'baseUrl'> = {
  backoffMs: 5,
  connectTimeoutMs: 500,
  totalTimeoutMs: 400,
  maxRetryAfterMs: 5_000,
  lateAnswerMs: 1_000,
};

let sharedCredentials: Promise<AdminCredentials> | undefined;

export interface Service {
  app: FastifyInstance;
  db: Database;
  billing: BillingStub;
  testDb: TestDatabase;
  /** A valid admin token, signed with the app's key (login itself is tested on its own). */
  adminToken(claims?: Record<string, unknown>): string;
  /** Removes every candidate, for tests that count. */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string>;
  /** Leave the schema at this revision instead of head. */
  revision?: string;
  billing?: Partial<BillingClientOptions>;
  logger?: AppDeps['logger'];
}

/**
 * The service as the tests see it: a fresh database of the engine, brought
 * to head by the migration engine, a billing stand-in on loopback, and the
 * app built as main.ts builds it.
 */
export async function startService(engine: Engine, o: ServiceOptions = {}): Promise<Service> {
  const testDb = await engine.create();
  const db = await testDb.open();
  const migrator = await migratorFor(db);
  await migrator.upgrade(o.revision ?? 'heads');
  const billing = await BillingStub.start();
  const config = loadConfig({
    ENVIRONMENT: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET_KEY: TEST_SECRET,
    BILLING_SERVICE_URL: billing.url,
    ...o.env,
  });
  const custom = o.env?.ADMIN_USERNAME || o.env?.ADMIN_PASSWORD || o.env?.ADMIN_PASSWORD_HASH;
  const credentials = custom ? AdminCredentials.fromConfig(config) : (sharedCredentials ??= AdminCredentials.fromConfig(config));
  const client = new BillingClient({ baseUrl: billing.url, ...FAST_BILLING, ...o.billing });
  const app = await buildApp({
    config,
    db,
    schema: migrator,
    providers: client,
    credentials: await credentials,
    healthTimeoutMs: 1000,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  await app.ready();
  return {
    app,
    db,
    billing,
    testDb,
    adminToken: (claims = {}) => app.jwt.sign({ sub: ADMIN.username, role: 'admin', ...claims }),
    truncate: async () => {
      await db.exec('TRUNCATE candidates, decision_claims');
    },
    close: async () => {
      await app.close();
      client.close();
      await billing.close();
      await db.close().catch(() => {});
      await testDb.drop();
    },
  };
}

let serial = 0;

/** A valid registration; each call has its own e-mail address. */
export function newCandidate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  serial += 1;
  return {
    company_name: `Fresh Fruit ${serial}`,
    contact_email: `contact-${serial}-${randomBytes(3).toString('hex')}@freshfruit.com`,
    phone: '+1-555-0123',
    products: ['apples', 'oranges'],
    truck_count: 10,
    capacity_tons_per_day: 500,
    location: 'California, USA',
    ...overrides,
  };
}

export function json<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T;
}

/** Registers a candidate and returns its published form. */
export async function register(s: Service, overrides: Record<string, unknown> = {}): Promise<Record<string, unknown> & { candidate_id: string; version: number }> {
  const res = await s.app.inject({ method: 'POST', url: '/candidates', payload: newCandidate(overrides) });
  if (res.statusCode !== 201) throw new Error(`registration failed: ${res.statusCode} ${res.body}`);
  return json(res);
}
