import { LIMITS, STORABLE_TEXT_PATTERN, PG_INT_MAX, PRODUCTS, STATUSES } from '../candidates/index.js';

/**
 * The wire contract as JSON Schema: requests are validated against these,
 * responses serialised by them, and /openapi.json is generated from them.
 */

const text = (maxLength: number, extra: object = {}) => ({ type: 'string', maxLength, pattern: STORABLE_TEXT_PATTERN, ...extra }) as const;
const nullable = (maxLength: number) => ({ type: ['string', 'null'], maxLength, pattern: STORABLE_TEXT_PATTERN }) as const;
const count = (description: string) =>
  ({ type: 'integer', exclusiveMinimum: 0, maximum: PG_INT_MAX, description, example: 10 }) as const;

export const candidateCreate = {
  title: 'CandidateCreate',
  type: 'object',
  required: ['company_name', 'contact_email', 'products', 'truck_count', 'capacity_tons_per_day'],
  properties: {
    company_name: text(LIMITS.companyName, { minLength: 1, example: 'Fresh Fruit Suppliers Ltd.' }),
    // No maxLength or pattern: the format check refuses over-long addresses and
    // control characters itself, with the Python validator's own message.
    contact_email: { type: 'string', format: 'email', example: 'contact@freshfruit.com' },
    phone: nullable(LIMITS.phone),
    products: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.products,
      items: { type: 'string', enum: [...PRODUCTS] },
      example: ['apples', 'oranges'],
    },
    truck_count: count('Number of trucks, at least 1'),
    capacity_tons_per_day: count('Tons per day, at least 1'),
    location: nullable(LIMITS.location),
  },
  description: 'Unknown fields are ignored.',
} as const;

export const rejectionRequest = {
  title: 'RejectionRequest',
  type: 'object',
  properties: { reason: { ...nullable(LIMITS.rejectionReason), description: 'Optional reason for rejection' } },
} as const;

export const candidateIdParams = {
  type: 'object',
  required: ['candidate_id'],
  properties: { candidate_id: { type: 'string', format: 'uuid' } },
} as const;

const pageSize = { type: 'integer', minimum: 1, maximum: LIMITS.pageSize } as const;

export const listQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', pattern: STORABLE_TEXT_PATTERN, description: `Filter by status (${STATUSES.join(', ')}); another value matches nothing` },
    product: { type: 'string', pattern: STORABLE_TEXT_PATTERN, description: 'Candidates whose products contain this one' },
    page: { type: 'integer', minimum: 1, maximum: PG_INT_MAX, description: 'Page number (1-based); with page_size, wins over limit/offset' },
    page_size: { ...pageSize, description: 'Results per page' },
    limit: { ...pageSize, description: 'Results per page (default 20)' },
    offset: { type: 'integer', minimum: 0, maximum: PG_INT_MAX, description: 'Results to skip (default 0)' },
  },
} as const;

export const loginForm = {
  title: 'Body_login_auth_login_post',
  type: 'object',
  required: ['username', 'password'],
  properties: {
    grant_type: { type: 'string', pattern: '^password$' },
    username: { type: 'string' },
    password: { type: 'string', format: 'password' },
    scope: { type: 'string' },
    client_id: { type: 'string' },
    client_secret: { type: 'string', format: 'password' },
  },
} as const;

const nullableOut = { type: ['string', 'null'] } as const;

export const candidate = {
  $id: 'CandidateResponse',
  type: 'object',
  required: [
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
  ],
  properties: {
    candidate_id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: [...STATUSES] },
    company_name: { type: 'string' },
    contact_email: { type: 'string' },
    phone: nullableOut,
    products: { type: 'array', items: { type: 'string' } },
    truck_count: { type: 'integer' },
    capacity_tons_per_day: { type: 'integer' },
    location: nullableOut,
    created_at: { type: 'string', format: 'date-time', description: 'UTC, without zone, as stored' },
    updated_at: { type: 'string', format: 'date-time' },
    provider_id: { type: ['integer', 'null'] },
    version: { type: 'integer', description: 'Increments on every change; sent as the ETag' },
    rejection_reason: nullableOut,
  },
} as const;

export const candidateRef = { $ref: 'CandidateResponse#' } as const;

export const candidateList = {
  type: 'object',
  required: ['candidates', 'pagination'],
  properties: {
    candidates: { type: 'array', items: candidateRef },
    pagination: {
      type: 'object',
      required: ['total', 'limit', 'offset'],
      properties: { total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } },
    },
  },
} as const;

export const approval = {
  type: 'object',
  required: ['candidate_id', 'status', 'provider_id'],
  properties: {
    candidate_id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['approved'] },
    provider_id: { type: 'integer' },
  },
} as const;

export const rejection = {
  type: 'object',
  required: ['candidate_id', 'status', 'rejection_reason'],
  properties: {
    candidate_id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['rejected'] },
    rejection_reason: nullableOut,
  },
} as const;

export const token = {
  type: 'object',
  required: ['access_token', 'token_type'],
  properties: { access_token: { type: 'string' }, token_type: { type: 'string', enum: ['bearer'] } },
} as const;

/** Error bodies are written by the error handler; these describe them for the docs. */
export const errorBody = {
  type: 'object',
  required: ['detail'],
  properties: {
    detail: { type: 'string' },
    request_id: { type: 'string', description: 'On 500 only: the id of the request in the log' },
  },
} as const;

export const validationErrorBody = {
  type: 'object',
  required: ['detail'],
  properties: {
    detail: {
      type: 'array',
      items: {
        type: 'object',
        required: ['loc', 'msg', 'type'],
        properties: {
          loc: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
          msg: { type: 'string' },
          type: { type: 'string' },
          input: {},
          ctx: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
} as const;

export const health = {
  type: 'object',
  required: ['status', 'service', 'version', 'database', 'schema'],
  properties: {
    status: { type: 'string', enum: ['healthy', 'unhealthy'] },
    service: { type: 'string' },
    version: { type: 'string' },
    database: { type: 'string', enum: ['connected', 'disconnected'] },
    schema: {
      type: 'object',
      required: ['current', 'head'],
      properties: { current: { type: ['string', 'null'] }, head: { type: 'string' } },
    },
  },
} as const;

const described = (schema: object, description: string) => ({ ...schema, description });

const ERROR_TEXT: Record<number, string> = {
  400: 'Candidate is not pending',
  401: 'Not authenticated, or the token is invalid or expired',
  403: 'Admin access required',
  404: 'Candidate not found',
  409: 'Duplicate e-mail, or the candidate changed concurrently',
  412: 'If-Match does not match the current version',
  429: 'Too many login attempts',
  502: 'The billing service failed',
  503: 'The database did not answer; retry shortly',
};

/** Error responses for the docs, by status. */
export const errors = (...statuses: number[]): Record<number, object> =>
  Object.fromEntries(
    statuses.map((s) => [s, s === 422 ? described(validationErrorBody, 'Validation Error') : described(errorBody, ERROR_TEXT[s] ?? 'Error')]),
  );
