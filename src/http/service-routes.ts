import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { checkHealth, SERVICE, type SchemaInspector } from './health.js';
import { health } from './schemas.js';

export const TITLE = 'Gan Shmuel Provider Registration Service';
export const DESCRIPTION = 'Provider candidate registration and approval system';

/** Root, health and metrics: what operators and load balancers call. */
export function serviceRoutes(app: FastifyInstance, schema: SchemaInspector, registry: Registry, healthTimeoutMs: number): void {
  app.get('/', { schema: { hide: true } }, async () => ({
    service: TITLE,
    version: SERVICE.version,
    description: DESCRIPTION,
    documentation: '/docs',
    openapi: '/openapi.json',
    endpoints: {
      health: '/health',
      candidates: '/candidates',
      approve_candidate: '/candidates/{id}/approve',
      reject_candidate: '/candidates/{id}/reject',
      login: '/auth/login',
      metrics: '/metrics',
    },
  }));

  app.get(
    '/health',
    {
      schema: {
        tags: ['Health'],
        summary: 'Database reachable and schema at head: 200, otherwise 503',
        response: { 200: health, 503: health },
      },
    },
    async (_request, reply) => {
      const report = await checkHealth(schema, healthTimeoutMs);
      return reply.code(report.healthy ? 200 : 503).send(report.body);
    },
  );

  app.get('/metrics', { schema: { tags: ['Health'], summary: 'Prometheus metrics' } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
