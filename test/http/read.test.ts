import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../support/databases.js';
import { json, register, startService, type Service } from '../support/service.js';

const engines = await testEngines();

interface Listing {
  candidates: { candidate_id: string; status: string; products: string[]; created_at: string }[];
  pagination: { total: number; limit: number; offset: number };
}

interface Issue {
  type: string;
  loc: (string | number)[];
  msg: string;
}

describe.each(engines)('reading candidates on $name', (engine) => {
  let s: Service;
  let auth: { authorization: string };
  /** 25 candidates, newest last; some approved or rejected, products varied. */
  let ids: string[];

  beforeAll(async () => {
    s = await startService(engine);
    auth = { authorization: `Bearer ${s.adminToken()}` };
    ids = [];
    const products = [['apples'], ['oranges', 'grapes'], ['grapes'], ['bananas', 'apples'], ['mangoes']];
    for (let i = 0; i < 25; i++) ids.push((await register(s, { products: products[i % 5] })).candidate_id);
    // Two share one created_at, so ordering must break the tie by id.
    await s.db.query(`UPDATE candidates SET created_at = (SELECT created_at FROM candidates WHERE id = $1) WHERE id = $2`, [ids[10], ids[11]]);
    await s.db.query(`UPDATE candidates SET status = 'approved', provider_id = 1 WHERE id = ANY($1::uuid[])`, [`{${ids.slice(0, 5).join(',')}}`]);
    await s.db.query(`UPDATE candidates SET status = 'rejected' WHERE id = ANY($1::uuid[])`, [`{${ids.slice(5, 8).join(',')}}`]);
  });
  afterAll(async () => s.close());

  const list = async (query: string): Promise<Listing> => {
    const res = await s.app.inject({ url: `/candidates${query}`, headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    return json<Listing>(res);
  };
  const badQuery = async (query: string): Promise<Issue[]> => {
    const res = await s.app.inject({ url: `/candidates${query}`, headers: auth });
    expect(res.statusCode, res.body).toBe(422);
    return json<{ detail: Issue[] }>(res).detail;
  };

  it('lists newest first, 20 by default, with the total of all matches', async () => {
    const l = await list('');
    expect(l.pagination).toEqual({ total: 25, limit: 20, offset: 0 });
    expect(l.candidates).toHaveLength(20);
    const dates = l.candidates.map((c) => c.created_at);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(l.candidates[0]?.candidate_id).toBe(ids[24]);
  });

  it('pages with limit/offset never repeat or skip a row, ties included', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < 25; offset += 4) {
      const l = await list(`?limit=4&offset=${offset}`);
      expect(l.pagination).toEqual({ total: 25, limit: 4, offset });
      seen.push(...l.candidates.map((c) => c.candidate_id));
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(new Set(seen)).toEqual(new Set(ids));
  });

  it('page/page_size turn into limit/offset, and win over limit/offset when both are given', async () => {
    const l = await list('?page=3&page_size=5&limit=2&offset=1');
    expect(l.pagination).toEqual({ total: 25, limit: 5, offset: 10 });
    expect(l.candidates).toHaveLength(5);
    const byOffset = await list('?limit=5&offset=10');
    expect(l.candidates).toEqual(byOffset.candidates);
    expect((await list('?page=3')).pagination, 'page without page_size is ignored').toEqual({ total: 25, limit: 20, offset: 0 });
  });

  it('an offset past the end gives an empty page and still the total', async () => {
    const l = await list('?offset=1000');
    expect(l.candidates).toEqual([]);
    expect(l.pagination.total).toBe(25);
  });

  it('filters by status, by product, and by both', async () => {
    const approved = await list('?status=approved');
    expect(approved.pagination.total).toBe(5);
    expect(approved.candidates.every((c) => c.status === 'approved')).toBe(true);
    const apples = await list('?product=apples');
    expect(apples.pagination.total).toBe(10);
    expect(apples.candidates.every((c) => c.products.includes('apples'))).toBe(true);
    const both = await list('?status=pending&product=grapes&limit=100');
    expect(both.candidates.every((c) => c.status === 'pending' && c.products.includes('grapes'))).toBe(true);
    expect(both.pagination.total).toBe(both.candidates.length);
    expect(both.pagination.total).toBe(6);
  });

  it('a status or product that does not exist matches nothing (200, empty), as before', async () => {
    expect(await list('?status=archived')).toMatchObject({ candidates: [], pagination: { total: 0 } });
    expect(await list('?product=kiwi')).toMatchObject({ candidates: [], pagination: { total: 0 } });
    expect(await list(`?product=${encodeURIComponent('"]}')}`)).toMatchObject({ candidates: [], pagination: { total: 0 } });
  });

  it('a repeated parameter: the last one counts, as in Starlette', async () => {
    expect((await list('?status=pending&status=approved')).pagination.total).toBe(5);
  });

  it('answers with the trailing slash too', async () => {
    expect((await list('/')).pagination.total).toBe(25);
  });

  it.each([
    ['?limit=0', 'greater_than_equal', 'limit', 'Input should be greater than or equal to 1'],
    ['?limit=101', 'less_than_equal', 'limit', 'Input should be less than or equal to 100'],
    ['?page_size=101&page=1', 'less_than_equal', 'page_size', 'Input should be less than or equal to 100'],
    ['?page=0&page_size=5', 'greater_than_equal', 'page', 'Input should be greater than or equal to 1'],
    ['?offset=-1', 'greater_than_equal', 'offset', 'Input should be greater than or equal to 0'],
    ['?offset=99999999999999999999', 'less_than_equal', 'offset', 'Input should be less than or equal to 2147483647'],
    ['?limit=abc', 'int_parsing', 'limit', 'Input should be a valid integer, unable to parse string as an integer'],
    ['?page=1.5&page_size=2', 'int_parsing', 'page', 'Input should be a valid integer, unable to parse string as an integer'],
    ['?status=%00', 'string_pattern_mismatch', 'status', "String should match pattern '^[^\\u0000\\uD800-\\uDFFF]*$'"],
    ['?product=a%00b', 'string_pattern_mismatch', 'product', "String should match pattern '^[^\\u0000\\uD800-\\uDFFF]*$'"],
    ['?limit=Infinity', 'int_parsing', 'limit', 'Input should be a valid integer, unable to parse string as an integer'],
    ['?offset=-Infinity', 'int_parsing', 'offset', 'Input should be a valid integer, unable to parse string as an integer'],
    ['?limit=1e400', 'int_parsing', 'limit', 'Input should be a valid integer, unable to parse string as an integer'],
    [`?limit=${'9'.repeat(400)}`, 'less_than_equal', 'limit', 'Input should be less than or equal to 100'],
    ['?page=1e1&page_size=2', 'int_parsing', 'page', 'Input should be a valid integer, unable to parse string as an integer'],
  ])('bad parameter %s: 422', async (query, type, field, msg) => {
    expect(await badQuery(query)).toMatchObject([{ type, loc: ['query', field], msg }]);
  });

  describe('GET /candidates/{id}', () => {
    it('returns the candidate with its version as the ETag', async () => {
      const res = await s.app.inject({ url: `/candidates/${ids[3]}`, headers: auth });
      expect(res.statusCode).toBe(200);
      expect(json(res)).toMatchObject({ candidate_id: ids[3], status: 'approved', provider_id: 1, version: 2 });
      expect(res.headers.etag).toBe('"2"');
    });

    it('accepts the other spellings of a UUID Pydantic accepted, and answers in canonical form', async () => {
      const id = ids[12] as string;
      for (const spelling of [id.toUpperCase(), id.replace(/-/g, ''), `{${id}}`, `urn:uuid:${id}`]) {
        const res = await s.app.inject({ url: `/candidates/${encodeURIComponent(spelling)}`, headers: auth });
        expect(res.statusCode, spelling).toBe(200);
        expect(json(res).candidate_id).toBe(id);
      }
    });

    it('404 for an unknown id', async () => {
      const res = await s.app.inject({ url: '/candidates/00000000-0000-4000-8000-000000000000', headers: auth });
      expect(res.statusCode).toBe(404);
      expect(json(res)).toEqual({ detail: 'Candidate not found' });
    });

    it.each([
      ['not-a-uuid', 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1'],
      ['1234', 'invalid length: expected length 32 for simple format, found 4'],
      ['00000000-0000-4000-8000-00000000000', 'invalid group length in group 4: expected 12, found 11'],
    ])('422 for a malformed id (%s)', async (bad, reason) => {
      const res = await s.app.inject({ url: `/candidates/${bad}`, headers: auth });
      expect(res.statusCode).toBe(422);
      expect(json(res)).toEqual({
        detail: [{ type: 'uuid_parsing', loc: ['path', 'candidate_id'], msg: `Input should be a valid UUID, ${reason}`, input: bad, ctx: { error: reason } }],
      });
    });
  });

  it('unknown routes: 404 {"detail": "Not Found"}', async () => {
    const res = await s.app.inject({ url: '/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(json(res)).toEqual({ detail: 'Not Found' });
  });
});
