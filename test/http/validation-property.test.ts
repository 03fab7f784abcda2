import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../support/databases.js';
import { newCandidate, startService, type Service } from '../support/service.js';

const engines = await testEngines();

const FIELDS = ['company_name', 'contact_email', 'phone', 'products', 'truck_count', 'capacity_tons_per_day', 'location'] as const;
const REQUIRED = ['company_name', 'contact_email', 'products', 'truck_count', 'capacity_tons_per_day'];

type Body = Record<string, unknown>;
type Mutation = (b: Body) => void;

const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.double(), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }));
const notAnInteger = fc.oneof(
  fc.double({ noInteger: true }),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
);
const badCount = fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1, max: 2 ** 30 }).map((n) => 2_147_483_647 + n), fc.constant(1e20), notAnInteger);
const withNul = fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => `${a}\u0000${b}`);
const badEmail = fc.oneof(
  fc.string({ maxLength: 30 }).filter((x) => !x.includes('@')),
  fc.string({ maxLength: 10 }).map((x) => `${x}@`),
  fc.string({ maxLength: 10 }).map((x) => `@${x}.com`),
  fc.constant(`${'a'.repeat(65)}@example.com`),
  withNul.map((x) => `${x}@example.com`),
);
const badProducts = fc.oneof(
  fc.constant([]),
  fc.string().filter((p) => !['apples', 'oranges', 'grapes', 'bananas', 'mangoes'].includes(p)).map((p) => ['apples', p]),
  fc.string(),
  fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
);

/** Changes that each make a valid body invalid. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(...REQUIRED).map((f) => (b: Body) => void delete b[f]),
  fc.tuple(fc.constantFrom('company_name', 'contact_email', 'phone', 'location'), notAString).map(([f, v]) => (b: Body) => void (b[f] = v)),
  fc.tuple(fc.constantFrom('company_name', 'phone', 'location'), withNul).map(([f, v]) => (b: Body) => void (b[f] = v)),
  fc.constant((b: Body) => void (b.company_name = '')),
  fc.integer({ min: 256, max: 400 }).map((n) => (b: Body) => void (b.company_name = 'x'.repeat(n))),
  fc.integer({ min: 51, max: 80 }).map((n) => (b: Body) => void (b.phone = '1'.repeat(n))),
  fc.integer({ min: 256, max: 300 }).map((n) => (b: Body) => void (b.location = 'y'.repeat(n))),
  badEmail.map((v) => (b: Body) => void (b.contact_email = v)),
  badProducts.map((v) => (b: Body) => void (b.products = v)),
  fc.tuple(fc.constantFrom('truck_count', 'capacity_tons_per_day'), badCount).map(([f, v]) => (b: Body) => void (b[f] = v)),
);

interface Issue {
  loc: unknown[];
  msg: unknown;
  type: unknown;
}

describe.each(engines)('property: invalid registrations on $name', (engine) => {
  let s: Service;
  beforeAll(async () => {
    s = await startService(engine);
  });
  afterAll(async () => s.close());

  const stored = async (): Promise<number> => Number((await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM candidates'))[0]?.n);

  function expectValidationShape(status: number, text: string): void {
    expect(status, text).toBe(422);
    const body = JSON.parse(text) as { detail: Issue[] };
    expect(Object.keys(body)).toEqual(['detail']);
    expect(body.detail.length).toBeGreaterThan(0);
    for (const issue of body.detail) {
      expect(issue.loc[0]).toBe('body');
      expect(typeof issue.msg).toBe('string');
      expect(typeof issue.type).toBe('string');
      // Every field a problem names is a field of the body (or the body itself, or an index in it).
      if (typeof issue.loc[1] === 'string') expect(FIELDS).toContain(issue.loc[1]);
    }
  }

  it('a valid body with one to three invalidating changes: 422 in FastAPI shape, nothing stored', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }), async (changes, extra) => {
        const body: Body = { ...extra, ...newCandidate() };
        for (const change of changes) change(body);
        const res = await s.app.inject({ method: 'POST', url: '/candidates', payload: body });
        expectValidationShape(res.statusCode, res.body);
        expect(await stored()).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('any JSON value or any text as the body: never a 5xx; a 422 has the shape; nothing invalid stored', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string(), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a).toString('latin1'))), async (payload) => {
        const res = await s.app.inject({ method: 'POST', url: '/candidates', headers: { 'content-type': 'application/json' }, payload });
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode === 422) expectValidationShape(res.statusCode, res.body);
        expect(await stored()).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
