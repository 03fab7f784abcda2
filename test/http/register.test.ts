import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testEngines } from '../support/databases.js';
import { json, newCandidate, startService, type Service } from '../support/service.js';

const engines = await testEngines();

interface Issue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,5}[1-9]|\.[1-9])?$/;

describe.each(engines)('POST /candidates on $name', (engine) => {
  let s: Service;
  beforeAll(async () => {
    s = await startService(engine);
  });
  afterAll(async () => s.close());
  beforeEach(async () => s.truncate());

  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    s.app.inject({ method: 'POST', url: '/candidates', payload: payload as string, headers });
  const rows = async (): Promise<number> => Number((await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM candidates'))[0]?.n);
  const issues = (res: { body: string }): Issue[] => json<{ detail: Issue[] }>(res as never).detail;

  /** A 422 whose detail holds exactly one issue, of this type at this location; nothing stored. */
  async function rejected(payload: unknown, type: string, loc: (string | number)[], headers?: Record<string, string>): Promise<Issue> {
    const res = await post(payload, headers);
    expect(res.statusCode, res.body).toBe(422);
    const found = issues(res);
    expect(found.map((i) => [i.type, i.loc])).toEqual([[type, loc]]);
    expect(await rows()).toBe(0);
    return found[0] as Issue;
  }

  it('registers a candidate: 201 with the whole resource, pending, version 1', async () => {
    const body = newCandidate();
    const res = await post(body);
    expect(res.statusCode).toBe(201);
    const c = json(res);
    expect(Object.keys(c).sort()).toEqual(
      [
        'candidate_id',
        'status',
        'company_name',
        'contact_email',
        'phone',
        'products',
        'truck_count',
        'capacity_tons_per_day',
        'location',
        'created_at',
        'updated_at',
        'provider_id',
        'version',
        'rejection_reason',
      ].sort(),
    );
    expect(c).toMatchObject({ ...body, status: 'pending', provider_id: null, version: 1, rejection_reason: null });
    expect(c.candidate_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(c.created_at).toMatch(TIMESTAMP);
    expect(c.updated_at).toBe(c.created_at);
    expect(res.headers.etag).toBe('"1"');
  });

  it('stores timestamps in UTC, as the database keeps them, without a zone', async () => {
    const c = json<{ created_at: string }>(await post(newCandidate()));
    const [row] = await s.db.query<{ utc: string }>("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24') AS utc");
    expect(c.created_at.slice(0, 13)).toBe(row?.utc);
  });

  it('takes phone and location as optional (null when absent or null)', async () => {
    const { phone: _p, location: _l, ...minimal } = newCandidate();
    const res = await post(minimal);
    expect(res.statusCode).toBe(201);
    expect(json(res)).toMatchObject({ phone: null, location: null });
    expect((await post(newCandidate({ phone: null, location: null }))).statusCode).toBe(201);
  });

  it('accepts the longest values allowed', async () => {
    const res = await post(newCandidate({ company_name: 'X'.repeat(255), phone: '1'.repeat(50), location: 'Y'.repeat(255) }));
    expect(res.statusCode).toBe(201);
    const unicode = await post(newCandidate({ company_name: 'פ'.repeat(255) }));
    expect(unicode.statusCode, 'length counts characters, as PostgreSQL does').toBe(201);
  });

  it('ignores unknown fields, as before', async () => {
    const res = await post(newCandidate({ additional_notes: 'ignored', status: 'approved', provider_id: 7, version: 99 }));
    expect(res.statusCode).toBe(201);
    expect(json(res)).toMatchObject({ status: 'pending', provider_id: null, version: 1 });
    expect(json(res)).not.toHaveProperty('additional_notes');
  });

  it('accepts every allowed product, and repeated ones', async () => {
    const all = ['apples', 'oranges', 'grapes', 'bananas', 'mangoes'];
    expect(json(await post(newCandidate({ products: all }))).products).toEqual(all);
    expect((await post(newCandidate({ products: ['apples', 'apples'] }))).statusCode).toBe(201);
  });

  describe('validation: 422 in FastAPI shape, nothing stored', () => {
    it.each(['company_name', 'contact_email', 'products', 'truck_count', 'capacity_tons_per_day'])('%s missing', async (field) => {
      const body = newCandidate();
      delete body[field];
      const i = await rejected(body, 'missing', ['body', field]);
      expect(i.msg).toBe('Field required');
    });

    it('reports every problem at once, in field order', async () => {
      const res = await post({ contact_email: 'nope', products: [], truck_count: 0, capacity_tons_per_day: 1.5 });
      expect(res.statusCode).toBe(422);
      expect(issues(res).map((i) => [i.type, i.loc])).toEqual([
        ['missing', ['body', 'company_name']],
        ['value_error', ['body', 'contact_email']],
        ['too_short', ['body', 'products']],
        ['greater_than', ['body', 'truck_count']],
        ['int_from_float', ['body', 'capacity_tons_per_day']],
      ]);
      expect(Object.keys(issues(res)[0] as object).sort()).toEqual(['input', 'loc', 'msg', 'type']);
    });

    it('company_name empty or longer than 255', async () => {
      const short = await rejected(newCandidate({ company_name: '' }), 'string_too_short', ['body', 'company_name']);
      expect(short).toMatchObject({ msg: 'String should have at least 1 character', ctx: { min_length: 1 } });
      const long = await rejected(newCandidate({ company_name: 'X'.repeat(256) }), 'string_too_long', ['body', 'company_name']);
      expect(long).toMatchObject({ msg: 'String should have at most 255 characters', ctx: { max_length: 255 } });
    });

    it('phone over 50 and location over 255 characters', async () => {
      await rejected(newCandidate({ phone: '1'.repeat(51) }), 'string_too_long', ['body', 'phone']);
      await rejected(newCandidate({ location: 'Y'.repeat(256) }), 'string_too_long', ['body', 'location']);
    });

    it('strings of the wrong type', async () => {
      const i = await rejected(newCandidate({ company_name: 123 }), 'string_type', ['body', 'company_name']);
      expect(i.msg).toBe('Input should be a valid string');
      await rejected(newCandidate({ phone: 5 }), 'string_type', ['body', 'phone']);
      await rejected(newCandidate({ company_name: null }), 'string_type', ['body', 'company_name']);
    });

    it.each([
      ['no @', 'a.example.com', 'An email address must have an @-sign.'],
      ['nothing before @', '@example.com', 'There must be something before the @-sign.'],
      ['no domain dot', 'a@localhost', 'The part after the @-sign is not valid. It should have a period.'],
      ['space', 'a b@example.com', "The email address contains invalid characters before the @-sign: ' '."],
      ['two dots', 'a..b@example.com', 'An email address cannot have two periods in a row.'],
      ['special-use domain', 'a@shop.test', 'The part after the @-sign is a special-use or reserved name that cannot be used with email.'],
    ])('invalid e-mail (%s)', async (_what, address, reason) => {
      const i = await rejected(newCandidate({ contact_email: address }), 'value_error', ['body', 'contact_email']);
      expect(i.msg).toBe(`value is not a valid email address: ${reason}`);
      expect(i.ctx).toEqual({ reason });
    });

    it('e-mail longer than allowed', async () => {
      await rejected(newCandidate({ contact_email: `${'a'.repeat(60)}@${'b'.repeat(200)}.com` }), 'value_error', ['body', 'contact_email']);
    });

    it('products: not a list, empty, unknown product, not strings', async () => {
      await rejected(newCandidate({ products: 'apples' }), 'list_type', ['body', 'products']);
      const empty = await rejected(newCandidate({ products: [] }), 'too_short', ['body', 'products']);
      expect(empty.msg).toBe('List should have at least 1 item after validation, not 0');
      const kiwi = await rejected(newCandidate({ products: ['apples', 'kiwi', 'cherries'] }), 'value_error', ['body', 'products']);
      expect(kiwi.msg).toBe('Value error, Invalid product: kiwi. Allowed products: apples, oranges, grapes, bananas, mangoes');
      await rejected(newCandidate({ products: ['apples', 7] }), 'string_type', ['body', 'products', 1]);
    });

    it('counts must be positive integers that fit PostgreSQL integer', async () => {
      const zero = await rejected(newCandidate({ truck_count: 0 }), 'greater_than', ['body', 'truck_count']);
      expect(zero).toMatchObject({ msg: 'Input should be greater than 0', ctx: { gt: 0 } });
      await rejected(newCandidate({ capacity_tons_per_day: -5 }), 'greater_than', ['body', 'capacity_tons_per_day']);
      const big = await rejected(newCandidate({ truck_count: 2_147_483_648 }), 'less_than_equal', ['body', 'truck_count']);
      expect(big.ctx).toEqual({ le: 2_147_483_647 });
      await rejected('{"company_name":"A","contact_email":"a@b.com","products":["apples"],"truck_count":1e400,"capacity_tons_per_day":1}', 'finite_number', ['body', 'truck_count'], {
        'content-type': 'application/json',
      });
      await rejected(newCandidate({ capacity_tons_per_day: 99_999_999_999_999_999_999 }), 'less_than_equal', ['body', 'capacity_tons_per_day']);
      await rejected(newCandidate({ truck_count: 2.5 }), 'int_from_float', ['body', 'truck_count']);
      await rejected(newCandidate({ truck_count: null }), 'int_type', ['body', 'truck_count']);
      await rejected(newCandidate({ truck_count: '10' }), 'int_type', ['body', 'truck_count']);
      expect((await post(newCandidate({ truck_count: 2_147_483_647, capacity_tons_per_day: 2_147_483_647 }))).statusCode).toBe(201);
      expect((await post(newCandidate({ truck_count: 3.0 }))).statusCode, '3.0 is the integer 3').toBe(201);
    });

    it('refuses NUL characters, which PostgreSQL cannot store', async () => {
      const i = await rejected(newCandidate({ company_name: 'Fresh\u0000Fruit' }), 'string_pattern_mismatch', ['body', 'company_name']);
      expect(i.msg).toMatch(/^String should match pattern/);
      await rejected(newCandidate({ location: '\u0000' }), 'string_pattern_mismatch', ['body', 'location']);
      await rejected(newCandidate({ contact_email: 'a\u0000b@example.com' }), 'value_error', ['body', 'contact_email']);
    });

    it('a body that is not JSON: json_invalid at the position', async () => {
      const i = await rejected('{"company_name": "A",', 'json_invalid', ['body', 21], { 'content-type': 'application/json' });
      expect(i).toMatchObject({ msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting property name enclosed in double quotes' } });
      await rejected('not json', 'json_invalid', ['body', 0], { 'content-type': 'application/json' });
    });

    it('no body, an empty body or null: the body is missing', async () => {
      const i = await rejected(undefined, 'missing', ['body']);
      expect(i).toMatchObject({ msg: 'Field required', input: null });
      await rejected('', 'missing', ['body'], { 'content-type': 'application/json' });
      await rejected('null', 'missing', ['body'], { 'content-type': 'application/json' });
    });

    it('a body that is not an object, or not sent as JSON', async () => {
      const i = await rejected('[1,2]', 'model_type', ['body'], { 'content-type': 'application/json' });
      expect(i.msg).toBe('Input should be a valid dictionary or instance of CandidateCreate');
      await rejected(JSON.stringify(newCandidate()), 'model_type', ['body'], { 'content-type': 'text/plain' });
      await rejected('company_name=A', 'model_type', ['body'], { 'content-type': 'application/x-www-form-urlencoded' });
    });

    it('JSON without a content type is read as JSON, as FastAPI did', async () => {
      const res = await s.app.inject({ method: 'POST', url: '/candidates', body: Buffer.from(JSON.stringify(newCandidate())) });
      expect(res.statusCode, res.body).toBe(201);
    });
  });

  describe('uniqueness of the e-mail address', () => {
    it('a second registration with the same address is 409', async () => {
      const first = newCandidate();
      expect((await post(first)).statusCode).toBe(201);
      const again = await post(newCandidate({ contact_email: first.contact_email }));
      expect(again.statusCode).toBe(409);
      expect(json(again)).toEqual({ detail: 'A candidate with this email already exists' });
      expect(await rows()).toBe(1);
    });

    it('compares addresses as the validator normalised them (domain case does not count)', async () => {
      const res = await post(newCandidate({ contact_email: 'Sales@FreshFruit.COM' }));
      expect(json(res).contact_email).toBe('Sales@freshfruit.com');
      expect((await post(newCandidate({ contact_email: 'Sales@freshfruit.com' }))).statusCode).toBe(409);
      expect((await post(newCandidate({ contact_email: 'sales@freshfruit.com' }))).statusCode, 'the local part keeps its case').toBe(201);
    });

    it('racing registrations of one address: exactly one 201, the others 409', async () => {
      const email = newCandidate().contact_email;
      const results = await Promise.all(Array.from({ length: 20 }, () => post(newCandidate({ contact_email: email }))));
      const codes = results.map((r) => r.statusCode).sort();
      expect(codes).toEqual([201, ...Array<number>(19).fill(409)]);
      expect(await rows()).toBe(1);
    });
  });
});
