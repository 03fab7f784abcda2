import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { emailProblem, PRODUCTS } from '../candidates/index.js';

/**
 * Request validation with the route schemas as the only source of the rules,
 * reporting failures the way FastAPI + Pydantic v2 did, since clients read
 * that shape: `{"detail": [{"type", "loc", "msg", "input", "ctx"?}]}`.
 */

export type Location = 'body' | 'query' | 'path';

export interface Issue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** The request could not be validated; `issues` is the 422's `detail`. */
/** What Fastify hands on of an Ajv error; `data` and `parentSchema` are there because the validators are verbose. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  data?: unknown;
  parentSchema?: unknown;
}

export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  constructor(readonly issues: Issue[]) {
    super(`invalid request: ${issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; ')}`);
  }
}

const UUID_HEX = /^[0-9a-fA-F]$/;

/**
 * Why `text` is not a UUID in any form Pydantic accepts (hyphenated, 32 hex
 * digits, braced, `urn:uuid:`), in the words of the parser it uses; or
 * undefined.
 */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidProblem(text: string): string | undefined {
  if (CANONICAL_UUID.test(text)) return undefined;
  const body = text.replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/s, '$1');
  const chars = [...body];
  const bad = chars.findIndex((c) => c !== '-' && !UUID_HEX.test(c));
  if (bad >= 0) {
    return `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${chars[bad]}\` at ${bad + 1}`;
  }
  if (!body.includes('-')) {
    return body.length === 32 ? undefined : `invalid length: expected length 32 for simple format, found ${body.length}`;
  }
  const groups = body.split('-');
  if (groups.length !== 5) return `invalid group count: expected 5, found ${groups.length}`;
  const expected = [8, 4, 4, 4, 12];
  const wrong = groups.findIndex((g, i) => g.length !== expected[i]);
  return wrong < 0 ? undefined : `invalid group length in group ${wrong}: expected ${expected[wrong]}, found ${groups[wrong]?.length}`;
}

/** The canonical form (lower case, hyphenated) of a UUID already validated by the `uuid` format. */
export function canonicalUuid(text: string): string {
  const hex = text.replace(/^urn:uuid:/i, '').replace(/[{}-]/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function newAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({
    // Pydantic reports every problem, not only the first.
    allErrors: true,
    // Path and query values arrive as text; a JSON body must already have the right types.
    coerceTypes,
    useDefaults: false,
    removeAdditional: false,
    // Errors carry the offending value and its schema, which the 422 needs.
    verbose: true,
    // OpenAPI annotations in the route schemas.
    keywords: ['example'],
  });
  ajv.addFormat('email', (s: string) => emailProblem(s) === undefined);
  ajv.addFormat('uuid', (s: string) => uuidProblem(s) === undefined);
  // Annotations for the docs only.
  ajv.addFormat('date-time', true);
  ajv.addFormat('password', true);
  return ajv;
}

const bodyAjv = newAjv(false);
const textAjv = newAjv(true);

/** An integer as Pydantic reads one from text: digits only, so no `Infinity`, `1e400`, `0x10` or `1.0`. */
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;

interface IntegerField {
  name: string;
  minimum?: number;
  maximum?: number;
}

function integerFields(schema: object): IntegerField[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown; minimum?: number; maximum?: number }> }).properties ?? {};
  return Object.entries(properties)
    .filter(([, p]) => p.type === 'integer')
    .map(([name, p]) => ({ name, ...(p.minimum !== undefined ? { minimum: p.minimum } : {}), ...(p.maximum !== undefined ? { maximum: p.maximum } : {}) }));
}

/** Pydantic's error for an integer given as text, or undefined when it is one JavaScript holds exactly (Ajv checks the rest). */
function integerTextIssue(field: IntegerField, text: string, where: Location): Issue | undefined {
  const loc = [where, field.name];
  const input = clipInput(text);
  if (!INTEGER_TEXT.test(text)) {
    return { type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input };
  }
  const n = Number(text);
  if (Number.isSafeInteger(n)) return undefined;
  // Too many digits to hold: past whichever bound its sign points at.
  if (n > 0 && field.maximum !== undefined) {
    return { type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${field.maximum}`, input, ctx: { le: field.maximum } };
  }
  if (n < 0 && field.minimum !== undefined) {
    return { type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${field.minimum}`, input, ctx: { ge: field.minimum } };
  }
  return { type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input };
}

/**
 * Query and path values arrive as text and Ajv coerces them, too leniently
 * for integers (it reads `Infinity`, `1e400` and 400 nines as numbers that
 * then reach PostgreSQL): those fields are checked first, with Pydantic's
 * error.
 */
interface TextValidator {
  (data: unknown): boolean | { error: RequestValidationError };
  errors?: ValidateFunction['errors'];
}

function textValidator(schema: object, where: Location): TextValidator {
  const validate = textAjv.compile(schema);
  const integers = integerFields(schema);
  const check: TextValidator = (data) => {
    const values = (data ?? {}) as Record<string, unknown>;
    const issues = integers.flatMap((field) => {
      const text = values[field.name];
      const found = typeof text === 'string' ? integerTextIssue(field, text, where) : undefined;
      return found ? [found] : [];
    });
    if (issues.length > 0) return { error: new RequestValidationError(issues) };
    const ok = validate(data);
    check.errors = validate.errors;
    return ok;
  };
  return check;
}

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  httpPart === 'body' ? (bodyAjv.compile(schema) as ValidateFunction) : textValidator(schema, httpPart === 'querystring' ? 'query' : 'path');

function pointer(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function typeIssue(e: SchemaError, loc: (string | number)[], where: Location): Issue {
  const input: unknown = e.data;
  const expected = String((e.params as { type: string | string[] }).type).split(',')[0];
  if (loc.length === 1 && expected === 'object') {
    if (input === undefined || input === null) return { type: 'missing', loc, msg: 'Field required', input: null };
    const model = (e.parentSchema as { title?: string } | undefined)?.title ?? 'object';
    return { type: 'model_type', loc, msg: `Input should be a valid dictionary or instance of ${model}`, input };
  }
  switch (expected) {
    case 'integer':
      if (typeof input === 'number' && !Number.isFinite(input)) {
        return { type: 'finite_number', loc, msg: 'Input should be a finite number', input };
      }
      if (typeof input === 'number') {
        return { type: 'int_from_float', loc, msg: 'Input should be a valid integer, got a number with a fractional part', input };
      }
      if (typeof input === 'string' && where !== 'body') {
        return { type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input };
      }
      return { type: 'int_type', loc, msg: 'Input should be a valid integer', input };
    case 'array':
      return { type: 'list_type', loc, msg: 'Input should be a valid list', input };
    case 'string':
      return { type: 'string_type', loc, msg: 'Input should be a valid string', input };
    default:
      return { type: `${expected}_type`, loc, msg: `Input should be a valid ${expected}`, input };
  }
}

function issue(e: SchemaError, where: Location): Issue | undefined {
  const loc: (string | number)[] = [where, ...pointer(e.instancePath)];
  const input: unknown = e.data;
  const p = e.params;
  switch (e.keyword) {
    case 'required':
      return { type: 'missing', loc: [...loc, String(p.missingProperty)], msg: 'Field required', input };
    case 'type':
      return typeIssue(e, loc, where);
    case 'minLength':
    case 'maxLength': {
      const [type, bound, key] = e.keyword === 'minLength' ? ['string_too_short', 'least', 'min_length'] : ['string_too_long', 'most', 'max_length'];
      const msg = `String should have at ${bound} ${plural(Number(p.limit), 'character')}`;
      return { type, loc, msg, input, ctx: { [key]: p.limit } };
    }
    case 'minItems': {
      const actual = (input as unknown[]).length;
      const msg = `List should have at least ${plural(Number(p.limit), 'item')} after validation, not ${actual}`;
      return { type: 'too_short', loc, msg, input, ctx: { field_type: 'List', min_length: p.limit, actual_length: actual } };
    }
    case 'maxItems': {
      const actual = (input as unknown[]).length;
      const msg = `List should have at most ${plural(Number(p.limit), 'item')} after validation, not ${actual}`;
      return { type: 'too_long', loc, msg, input, ctx: { field_type: 'List', max_length: p.limit, actual_length: actual } };
    }
    case 'exclusiveMinimum':
      return { type: 'greater_than', loc, msg: `Input should be greater than ${p.limit}`, input, ctx: { gt: p.limit } };
    case 'minimum':
      return { type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${p.limit}`, input, ctx: { ge: p.limit } };
    case 'maximum':
      return { type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${p.limit}`, input, ctx: { le: p.limit } };
    case 'pattern':
      return { type: 'string_pattern_mismatch', loc, msg: `String should match pattern '${p.pattern}'`, input, ctx: { pattern: p.pattern } };
    case 'enum':
      // The only list of allowed values is the products', which the Python
      // service checked with a validator on the whole list: one error, at the
      // list, naming the first bad product.
      return {
        type: 'value_error',
        loc: typeof loc[loc.length - 1] === 'number' ? loc.slice(0, -1) : loc,
        msg: `Value error, Invalid product: ${String(input)}. Allowed products: ${PRODUCTS.join(', ')}`,
        input,
        ctx: { error: {} },
      };
    case 'format':
      if (p.format === 'email') {
        const reason = emailProblem(String(input)) ?? 'invalid';
        return { type: 'value_error', loc, msg: `value is not a valid email address: ${reason}`, input, ctx: { reason } };
      }
      if (p.format === 'uuid') {
        const error = uuidProblem(String(input)) ?? 'invalid';
        return { type: 'uuid_parsing', loc, msg: `Input should be a valid UUID, ${error}`, input, ctx: { error } };
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Ajv's errors as Pydantic's, in the order of the schema's fields, as
 * Pydantic reports them, and one per field and kind.
 */
export function toIssues(errors: readonly SchemaError[], where: Location, fieldOrder: readonly string[]): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  // A value of the wrong type has that one problem, as in Pydantic, not also its other rules'.
  const mistyped = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword !== 'type' && mistyped.has(e.instancePath)) continue;
    const i = issue(e, where);
    if (!i) continue;
    const key = `${i.type}|${i.loc.join('\u0000')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(i);
  }
  const rank = (i: Issue): number => {
    const n = fieldOrder.indexOf(String(i.loc[1]));
    return n < 0 ? fieldOrder.length : n;
  };
  return out.map((issue, n) => ({ issue, n })).sort((a, b) => rank(a.issue) - rank(b.issue) || a.n - b.n).map((x) => x.issue);
}

/**
 * A JSON body that did not parse. The parser hands this on instead of failing,
 * so that only routes that read a body answer 422 (FastAPI ignored the body
 * of a route that declares none, such as approve).
 */
export class UnparsableJson {
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {}

  toError(): RequestValidationError {
    return new RequestValidationError([
      { type: 'json_invalid', loc: ['body', this.position], msg: 'JSON decode error', input: {}, ctx: { error: this.reason } },
    ]);
  }
}

/** Node's JSON.parse messages, in the words of Python's json module, which clients of the old service saw. */
const JSON_REASONS: [RegExp, string][] = [
  [/property name/i, 'Expecting property name enclosed in double quotes'],
  [/after (property value|array element)/i, "Expecting ',' delimiter"],
  [/non-whitespace character after JSON/i, 'Extra data'],
  [/control character/i, 'Invalid control character at'],
  [/unterminated string/i, 'Unterminated string starting at'],
];

/**
 * Deepest nesting of arrays and objects a body may have. The contract's
 * bodies are two deep; the limit is checked on the text, before parsing, so
 * no later step (validation, the 422 that echoes it) ever walks a deep value.
 */
export const MAX_BODY_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Where the text nests deeper than MAX_BODY_DEPTH, or -1: brackets inside strings do not count. */
function tooDeepAt(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_BODY_DEPTH) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/**
 * A JSON body as a value, or UnparsableJson: bytes that are not UTF-8 (which
 * would otherwise be stored as U+FFFD), nesting past MAX_BODY_DEPTH, and
 * text JSON.parse refuses.
 */
export function parseJsonBody(raw: Buffer | string): unknown {
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : utf8.decode(raw);
  } catch {
    return new UnparsableJson(0, 'Invalid UTF-8 in the body');
  }
  if (text.trim() === '') return undefined;
  const deep = tooDeepAt(text);
  if (deep >= 0) return new UnparsableJson(deep, `Nested deeper than ${MAX_BODY_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message)?.[1];
    const position = at !== undefined ? Number(at) : /end of JSON input/i.test(message) ? text.length : 0;
    const reason = JSON_REASONS.find(([re]) => re.test(message))?.[1] ?? 'Expecting value';
    return new UnparsableJson(position, reason);
  }
}

/** Bounds of a 422's echo of the input: a client's decoder must read the answer whatever the request held. */
const ECHO = { depth: 4, items: 20, chars: 200 } as const;

/**
 * `value` cut to ECHO's bounds, for the `input` of a 422: deeper levels
 * become "...", long strings and lists are cut and say so. (FastAPI echoed
 * everything.)
 */
export function clipInput(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > ECHO.chars ? `${value.slice(0, ECHO.chars)}...` : value;
  if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
  if (depth >= ECHO.depth) return '...';
  if (Array.isArray(value)) {
    const head = value.slice(0, ECHO.items).map((v) => clipInput(v, depth + 1));
    return value.length > ECHO.items ? [...head, `... ${value.length - ECHO.items} more`] : head;
  }
  const entries = Object.entries(value);
  const head = entries.slice(0, ECHO.items).map(([k, v]) => [k.length > ECHO.chars ? `${k.slice(0, ECHO.chars)}...` : k, clipInput(v, depth + 1)]);
  if (entries.length > ECHO.items) head.push(['...', `${entries.length - ECHO.items} more`]);
  return Object.fromEntries(head);
}
