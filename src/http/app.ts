import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AdminCredentials } from '../auth/credentials.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { BillingClient } from '../billing/client.js';
import { CandidateRepository, CandidateService, type ProviderRegistry } from '../candidates/index.js';
import type { Config } from '../config/index.js';
import type { Database } from '../db/index.js';
import { registerAuth } from './auth.js';
import { candidateRoutes } from './candidate-routes.js';
import { sendError } from './errors.js';
import { SERVICE, type SchemaInspector } from './health.js';
import { createLogger, loggableUrl, logDestination } from './logger.js';
import { registerMetrics } from './metrics.js';
import { candidate } from './schemas.js';
import { DESCRIPTION, serviceRoutes, TITLE } from './service-routes.js';
import { parseJsonBody, UnparsableJson, validatorCompiler } from './validation.js';

export interface AppDeps {
  config: Config;
  db: Database;
  /** The migration engine's view of the schema (a Migrator). */
  schema: SchemaInspector;
  /** Where approvals create providers; by default the billing service at config.billingServiceUrl. */
  providers?: ProviderRegistry;
  logger?: FastifyBaseLogger;
  /** Made from config when absent; tests share one to skip hashing per app. */
  credentials?: AdminCredentials;
  /** How long /health waits for the database before calling it disconnected. */
  healthTimeoutMs?: number;
  /** How long an API statement may take on a server before it is cancelled and answered 503. */
  queryTimeoutMs?: number;
}

/** The Python service's root_path: every route answers under it too. */
const PREFIX = '/api/providers';

function stripPrefix(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if (!url.startsWith(PREFIX)) return url;
  const rest = url.slice(PREFIX.length);
  if (rest === '' || rest.startsWith('?')) return `/${rest}`;
  // `/api/providersx` is another path, not the prefix.
  return rest.startsWith('/') ? rest : url;
}

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The caller's X-Request-ID when it is safe to echo and log, else a new one. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One log line per request, when it ends, with what both of Fastify's lines
 * carried (method, URL, client, status, time): half the logging cost on the
 * hot paths, and what an access log needs.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const req = {
      method: request.method,
      url: loggableUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    };
    const line = { req, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** Repeated query parameters: the last one wins, as in Starlette. */
function parseQuery(text: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(text));
}

function hopsWithin(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const log: FastifyBaseLogger = deps.logger ?? createLogger(config.logLevel, logDestination(config.logFormat));
  const app = Fastify({
    loggerInstance: log,
    genReqId: requestId,
    logController: new AccessLog({ requestIdLogLabel: 'request_id' }),
    rewriteUrl: stripPrefix,
    // A long id is a malformed UUID (422), not Fastify's 414.
    routerOptions: { ignoreTrailingSlash: true, querystringParser: parseQuery, maxParamLength: 16 * 1024 },
    // Errors the router raises before any route (a URL that is not UTF-8)
    // go through the same mapper as every other error.
    frameworkErrors: sendError,
    // A client that sends its request slowly is cut off rather than holding a socket for ever.
    requestTimeout: 30_000,
    // Fastify's types take a hop count only as a function.
    trustProxy: typeof config.trustProxy === 'number' ? hopsWithin(config.trustProxy) : config.trustProxy,
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));

  // Bodies are parsed leniently and judged by validation, so every bad body
  // is FastAPI's 422 rather than Fastify's 400 or 415.
  app.removeAllContentTypeParsers();
  // As bytes, so that invalid UTF-8 is refused rather than read as U+FFFD.
  app.addContentTypeParser(/^application\/([^;\s]+\+)?json(;|\s|$)/, { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, parseJsonBody(body as Buffer)),
  );
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    const bytes = body as Buffer;
    if (req.headers['content-type'] === undefined) return done(null, parseJsonBody(bytes));
    return done(null, bytes.length ? bytes.toString('utf8') : undefined);
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Closing waits for every connection to end; a keep-alive connection whose
  // request was in flight at close would otherwise stay open after its answer.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('preValidation', async (request) => {
    if (request.body instanceof UnparsableJson && request.routeOptions.schema?.body) throw request.body.toError();
  });

  await app.register(cors, {
    origin: config.corsOrigins,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    exposedHeaders: ['X-Request-ID', 'ETag'],
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: TITLE, description: DESCRIPTION, version: SERVICE.version },
      components: {
        securitySchemes: { OAuth2PasswordBearer: { type: 'oauth2', flows: { password: { tokenUrl: '/auth/login', scopes: {} } } } },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // At /docs (no slash) Swagger UI's page names its assets by absolute path
    // (/docs/static/...), which a proxy serving this service under
    // /api/providers/ does not route; at docs/ every reference is relative.
    // A relative redirect gets there under any prefix.
    uiHooks: {
      onRequest: async (request, reply) => {
        const q = request.url.indexOf('?');
        const path = q < 0 ? request.url : request.url.slice(0, q);
        if (path === '/docs') return reply.redirect(`docs/${q < 0 ? '' : request.url.slice(q)}`);
      },
    },
  });
  app.addSchema(candidate);

  const registry = registerMetrics(app, deps.schema);
  const guards = await registerAuth(app, {
    jwtSecretKey: config.jwtSecretKey,
    credentials: deps.credentials ?? (await AdminCredentials.fromConfig(config)),
    publicReads: config.publicReads,
    throttle: new LoginThrottle(deps.db, config.loginRateLimit),
  });
  let providers = deps.providers;
  if (!providers) {
    const billing = new BillingClient({ baseUrl: config.billingServiceUrl });
    app.addHook('onClose', async () => billing.close());
    providers = billing;
  }
  const service = new CandidateService(new CandidateRepository(deps.db, deps.queryTimeoutMs), providers, log);
  app.addHook('onClose', async () => service.close());
  candidateRoutes(app, service, guards);
  serviceRoutes(app, deps.schema, registry, deps.healthTimeoutMs ?? 3000);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
