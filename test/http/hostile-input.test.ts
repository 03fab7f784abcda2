import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../support/databases.js';
import { json, newCandidate, startService, type Service } from '../support/service.js';

const engines = (await testEngines()).filter((e) => e.name === 'pglite');

type Detail = { detail: { type: string; loc: (string | number)[]; input?: unknown }[] };

/** Deepest nesting of a decoded JSON value. */
const depth = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0);

describe.each(engines)('hostile input on $name', (engine) => {
  let s: Service;
  let auth: Record<string, string>;
  beforeAll(async () => {
    s = await startService(engine);
    auth = { authorization: `Bearer ${s.adminToken()}` };
  });
  afterAll(async () => s.close());

  const post = (payload: string | Buffer, type = 'application/json') =>
    s.app.inject({ method: 'POST', url: '/candidates', headers: { 'content-type': type }, payload });
  const count = async (): Promise<number> => (await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM candidates'))[0]!.n;

  it('a body nested 5,000 deep (alone or inside a field) is a 422 refused before validation, whatever the field', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    for (const field of ['company_name', 'products', 'reason']) {
      const body = JSON.stringify(newCandidate()).replace(/}$/, `,"${field}":${deep}}`);
      const res = await post(body);
      expect(res.statusCode, res.body).toBe(422);
      expect(json<Detail>(res).detail[0]).toMatchObject({ type: 'json_invalid', loc: ['body', body.indexOf(deep) + 31] });
    }
    const bare = await post(deep);
    expect(bare.statusCode).toBe(422);
    expect(await count()).toBe(0);
  });

  it('422 echoes are bounded in depth and size', async () => {
    const wide = { ...newCandidate(), company_name: { a: { b: { c: { d: { e: { f: 1 } } } } } }, products: Array.from({ length: 100 }, () => 'x'.repeat(5000)) };
    const res = await post(JSON.stringify(wide));
    expect(res.statusCode).toBe(422);
    expect(res.body.length).toBeLessThan(20_000);
    for (const i of json<Detail>(res).detail) expect(depth(i.input)).toBeLessThanOrEqual(5);
  });

  it('products are bounded in count (20); NUL, lone surrogates and invalid UTF-8 are 422, nothing stored', async () => {
    const many = await post(JSON.stringify(newCandidate({ products: Array.from({ length: 21 }, () => 'apples') })));
    expect(many.statusCode).toBe(422);
    expect(json<Detail>(many).detail[0]).toMatchObject({ type: 'too_long', loc: ['body', 'products'] });
    expect((await post(JSON.stringify(newCandidate({ products: Array.from({ length: 20 }, () => 'apples') })))).statusCode).toBe(201);
    await s.truncate();
    const bodies: (string | Buffer)[] = [
      JSON.stringify(newCandidate({ company_name: 'a\u0000b' })),
      JSON.stringify(newCandidate()).replace(/"company_name":"[^"]*"/, '"company_name":"x\\ud800y"'),
      JSON.stringify(newCandidate()).replace(/"location":"[^"]*"/, '"location":"\\udc00"'),
      JSON.stringify(newCandidate()).replace(/"contact_email":"/, '"contact_email":"\\ud83d'),
      Buffer.concat([Buffer.from(JSON.stringify(newCandidate()).replace(/"phone":"[^"]*"/, '"phone":"')), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    ];
    for (const body of bodies) {
      const res = await post(body);
      expect(res.statusCode, String(body)).toBe(422);
    }
    expect(await count()).toBe(0);
    const emoji = await post(JSON.stringify(newCandidate({ company_name: 'Fruit \u{1F34E} Ltd' })));
    expect(emoji.statusCode, 'a surrogate pair is an ordinary character').toBe(201);
  });

  it("Fastify's own refusals in the contract's shape: a URL that is not UTF-8, a very long id", async () => {
    const bad = await s.app.inject({ url: '/candidates/%ff', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(json(bad)).toEqual({ detail: 'Bad Request: the URL is not valid percent-encoded UTF-8' });
    const long = await s.app.inject({ url: `/candidates/${'a'.repeat(5000)}`, headers: auth });
    expect(long.statusCode).toBe(422);
    expect(JSON.stringify(json(long)).length).toBeLessThan(2_000);
  });
});
