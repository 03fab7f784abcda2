import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SchemaInspector } from './health.js';

/** Route label: the pattern in FastAPI's spelling (`/candidates/{candidate_id}`), never the raw path. */
function endpointOf(pattern: string | undefined): string {
  return pattern === undefined ? 'unmatched' : pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Prometheus metrics of one app: the Python service's two (same names and
 * labels), request durations, the schema revision, and the process's own.
 * A registry per app, so that apps in one process (tests) do not share counts.
 */
export function registerMetrics(app: FastifyInstance, schema: SchemaInspector): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const up = new Gauge({ name: 'provider_service_up', help: 'Service is up and running (1 = up, 0 = down)', registers: [registry] });
  const requests = new Counter({
    name: 'provider_service_requests_total',
    help: 'Total number of requests',
    labelNames: ['method', 'endpoint', 'status_code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'provider_service_request_duration_seconds',
    help: 'Time from receiving a request to the end of its response',
    labelNames: ['method', 'endpoint', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'provider_service_schema_revision_info',
    help: 'Schema revision of the database (current) and of the code (head); at_head is 1 when they agree',
    labelNames: ['current', 'head', 'at_head'],
    registers: [registry],
    async collect() {
      this.reset();
      const head = schema.heads().join(',');
      const current = await schema.current().then((c) => c.join(','), () => 'unreachable');
      this.set({ current, head, at_head: String(current === head ? 1 : 0) }, 1);
    },
  });

  app.addHook('onReady', async () => up.set(1));
  app.addHook('onClose', async () => up.set(0));
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, endpoint: endpointOf(request.routeOptions.url), status_code: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
  return registry;
}
