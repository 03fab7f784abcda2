import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  ForbiddenError,
  InvalidTokenError,
  LoginFailedError,
  NotAuthenticatedError,
  TooManyLoginAttemptsError,
} from '../auth/errors.js';
import {
  CandidateNotFoundError,
  CandidateNotPendingError,
  ConcurrentModificationError,
  DuplicateEmailError,
  ProviderAwaitingRecordError,
  ProviderCreationError,
  StaleVersionError,
} from '../candidates/index.js';
import { isDatabaseUnavailable } from '../db/index.js';
import { ContradictoryDecisionError } from './decisions.js';
import { clipInput, RequestValidationError, toIssues, type Issue, type Location } from './validation.js';

interface Answer {
  status: number;
  body: { detail: unknown; request_id?: string };
  headers?: Record<string, string>;
}

const BEARER = { 'www-authenticate': 'Bearer' };

const FASTIFY_PARTS: Record<string, Location> = { body: 'body', querystring: 'query', params: 'path' };

function fieldOrder(request: FastifyRequest, part: string): string[] {
  const schema = (request.routeOptions.schema as Record<string, { properties?: object } | undefined> | undefined)?.[part];
  return Object.keys(schema?.properties ?? {});
}

/**
 * The one place where a failure becomes a status and a `{"detail": ...}`
 * body, in the Python service's words. Anything not recognised here is a 500
 * that names only the request id; its details go to the log.
 */
const clipped = (issues: Issue[]): Issue[] => issues.map((i) => ({ ...i, input: clipInput(i.input) }));

/** Fastify's own refusals that come before any route: their status, and a detail saying what was wrong. */
const FRAMEWORK: Record<string, Answer> = {
  FST_ERR_BAD_URL: { status: 400, body: { detail: 'Bad Request: the URL is not valid percent-encoded UTF-8' } },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, body: { detail: 'URI Too Long' } },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, body: { detail: 'Bad Request' } },
};

function answerFor(err: unknown, request: FastifyRequest): Answer | undefined {
  if (err instanceof RequestValidationError) return { status: 422, body: { detail: clipped(err.issues) } };
  if (err instanceof ContradictoryDecisionError) return { status: 422, body: { detail: clipped(err.issues) } };
  if (err instanceof CandidateNotFoundError) return { status: 404, body: { detail: 'Candidate not found' } };
  if (err instanceof CandidateNotPendingError) return { status: 400, body: { detail: `Candidate already ${err.status}` } };
  if (err instanceof DuplicateEmailError) return { status: 409, body: { detail: 'A candidate with this email already exists' } };
  if (err instanceof ConcurrentModificationError) {
    return { status: 409, body: { detail: 'Candidate was modified by another process. Please retry.' } };
  }
  if (err instanceof StaleVersionError) {
    return {
      status: 412,
      body: { detail: 'Candidate was modified: If-Match does not match its current version' },
      headers: { etag: `"${err.currentVersion}"` },
    };
  }
  if (err instanceof ProviderAwaitingRecordError) {
    return {
      status: 409,
      body: { detail: `Billing already created provider ${err.providerId} for this candidate: approve it to finish, or reconcile the provider in billing first` },
    };
  }
  if (err instanceof ProviderCreationError) return { status: 502, body: { detail: `Failed to create provider: ${err.message}` } };
  if (isDatabaseUnavailable(err)) {
    return { status: 503, body: { detail: 'Service temporarily unavailable: the database did not answer' }, headers: { 'retry-after': '1' } };
  }
  if (err instanceof NotAuthenticatedError) return { status: 401, body: { detail: 'Not authenticated' }, headers: BEARER };
  if (err instanceof InvalidTokenError) return { status: 401, body: { detail: 'Could not validate credentials' }, headers: BEARER };
  if (err instanceof ForbiddenError) return { status: 403, body: { detail: 'Admin access required' } };
  if (err instanceof LoginFailedError) return { status: 401, body: { detail: 'Incorrect username or password' } };
  if (err instanceof TooManyLoginAttemptsError) {
    return {
      status: 429,
      body: { detail: `Too many login attempts. Try again in ${err.retryAfterSeconds} seconds.` },
      headers: { 'retry-after': String(err.retryAfterSeconds) },
    };
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation && fe.validationContext) {
    const where = FASTIFY_PARTS[fe.validationContext] ?? 'body';
    return { status: 422, body: { detail: clipped(toIssues(fe.validation, where, fieldOrder(request, fe.validationContext))) } };
  }
  const framework = typeof fe.code === 'string' ? FRAMEWORK[fe.code] : undefined;
  if (framework) return framework;
  // Fastify's own refusals (body too large, malformed URL, ...): their status, FastAPI's wording (the reason phrase).
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { detail: STATUS_CODES[fe.statusCode] ?? 'Bad Request' } };
  }
  return undefined;
}

const internal = (request: FastifyRequest): Answer => ({ status: 500, body: { detail: 'Internal server error', request_id: request.id } });

/**
 * Every error of every route, and Fastify's own (frameworkErrors), ends
 * here. Serialised here, not by the route's response schemas (those describe
 * the errors for the docs), and in a way that cannot throw: the echoes are
 * bounded, and should the body still not serialise, the answer is the 500.
 */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let answer: Answer | undefined;
  try {
    answer = answerFor(err, request);
  } catch (e) {
    request.log.error({ err: e }, 'error mapping failed');
  }
  if (!answer) {
    request.log.error({ err }, 'unexpected failure');
    answer = internal(request);
  } else if (answer.status >= 500) {
    // Expected (billing said no): its message says it all, a stack would only bury it.
    request.log.warn(String(answer.body.detail));
  }
  let text: string;
  try {
    text = JSON.stringify(answer.body);
  } catch (e) {
    request.log.error({ err: e }, 'error body did not serialise');
    answer = internal(request);
    text = JSON.stringify(answer.body);
  }
  if (answer.headers) reply.headers(answer.headers);
  return reply.code(answer.status).type('application/json').send(text);
}
