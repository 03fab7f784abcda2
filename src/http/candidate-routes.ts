import type { FastifyInstance } from 'fastify';
import type { CandidateService, NewCandidate, VersionCondition } from '../candidates/index.js';
import type { Guards } from './auth.js';
import {
  approval,
  candidateCreate,
  candidateIdParams,
  candidateList,
  candidateRef,
  errors,
  listQuery,
  rejection,
  rejectionRequest,
} from './schemas.js';
import { refuseContradictoryApproval } from './decisions.js';
import { canonicalUuid } from './validation.js';

interface IdParams {
  candidate_id: string;
}

interface ListQuery {
  status?: string;
  product?: string;
  page?: number;
  page_size?: number;
  limit?: number;
  offset?: number;
}

const DEFAULT_LIMIT = 20;
const ADMIN = [{ OAuth2PasswordBearer: [] }];

/**
 * If-Match as a condition on the current version: `"<version>"` tags, or `*`.
 * Weak tags never match (If-Match compares strongly).
 */
function ifMatch(header: string | undefined): VersionCondition | undefined {
  if (header === undefined) return undefined;
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*')) return () => true;
  return (version) => tags.includes(`"${version}"`);
}

const etag = (version: number): string => `"${version}"`;

export function candidateRoutes(app: FastifyInstance, service: CandidateService, guards: Guards): void {
  const tags = ['Candidates'];
  const readSecurity = { security: ADMIN };

  app.post<{ Body: NewCandidate }>(
    '/candidates',
    {
      schema: {
        tags,
        summary: 'Register a new provider candidate (status pending)',
        body: candidateCreate,
        response: { 201: candidateRef, ...errors(409, 422) },
      },
    },
    async (request, reply) => {
      const created = await service.register(request.body);
      return reply.code(201).header('etag', etag(created.version)).send(created);
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/candidates',
    {
      onRequest: guards.reader,
      schema: {
        tags,
        summary: 'List candidates, newest first, with filters and paging',
        ...readSecurity,
        querystring: listQuery,
        response: { 200: candidateList, ...errors(401, 422) },
      },
    },
    async (request) => {
      const q = request.query;
      const byPage = q.page !== undefined && q.page_size !== undefined;
      const limit = byPage ? (q.page_size as number) : (q.limit ?? DEFAULT_LIMIT);
      const offset = byPage ? ((q.page as number) - 1) * limit : (q.offset ?? 0);
      const page = await service.list({ status: q.status, product: q.product, limit, offset });
      return { candidates: page.candidates, pagination: { total: page.total, limit, offset } };
    },
  );

  app.get<{ Params: IdParams }>(
    '/candidates/:candidate_id',
    {
      onRequest: guards.reader,
      schema: {
        tags,
        summary: 'One candidate; its version is sent as the ETag',
        ...readSecurity,
        params: candidateIdParams,
        response: { 200: candidateRef, ...errors(401, 404, 422) },
      },
    },
    async (request, reply) => {
      const found = await service.get(canonicalUuid(request.params.candidate_id));
      return reply.header('etag', etag(found.version)).send(found);
    },
  );

  app.post<{ Params: IdParams }>(
    '/candidates/:candidate_id/approve',
    {
      onRequest: guards.admin,
      preValidation: async (request) => refuseContradictoryApproval(request.body),
      schema: {
        tags,
        summary: 'Approve a pending candidate: creates its provider in billing (admin)',
        description:
          'Send If-Match: "<version>" to approve only the version you read (412 otherwise). The body is ignored, except that ' +
          'one saying "approved": false or carrying a rejection_reason is 422 (use /reject).',
        security: ADMIN,
        params: candidateIdParams,
        response: { 200: approval, ...errors(400, 401, 403, 404, 409, 412, 422, 502, 503) },
      },
    },
    async (request, reply) => {
      const id = canonicalUuid(request.params.candidate_id);
      const done = await service.approve(id, ifMatch(request.headers['if-match']), request.log);
      request.log.info({ candidate_id: id, provider_id: done.provider_id, by: request.principal?.username }, 'candidate approved');
      return reply.header('etag', etag(done.version)).send(done);
    },
  );

  app.post<{ Params: IdParams; Body: { reason?: string | null } }>(
    '/candidates/:candidate_id/reject',
    {
      onRequest: guards.admin,
      schema: {
        tags,
        summary: 'Reject a pending candidate, optionally with a reason (admin)',
        description: 'Send If-Match: "<version>" to reject only the version you read (412 otherwise).',
        security: ADMIN,
        params: candidateIdParams,
        body: rejectionRequest,
        response: { 200: rejection, ...errors(400, 401, 403, 404, 409, 412, 422) },
      },
    },
    async (request, reply) => {
      const id = canonicalUuid(request.params.candidate_id);
      const done = await service.reject(id, request.body.reason ?? null, ifMatch(request.headers['if-match']));
      request.log.info({ candidate_id: id, by: request.principal?.username }, 'candidate rejected');
      return reply.header('etag', etag(done.version)).send(done);
    },
  );
}
