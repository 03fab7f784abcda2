import formbody from '@fastify/formbody';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AdminCredentials } from '../auth/credentials.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import {
  ForbiddenError,
  InvalidTokenError,
  LoginFailedError,
  NotAuthenticatedError,
} from '../auth/errors.js';
import { errors, loginForm, token } from './schemas.js';

export interface AuthOptions {
  jwtSecretKey: string;
  credentials: AdminCredentials;
  /** Reads (list, get) without a token, as the Python service allowed. */
  publicReads: boolean;
  /** Login attempts per username and client address, shared by every replica. */
  throttle: LoginThrottle;
}

export interface Guards {
  /** Approve and reject: a valid token with the admin role. */
  admin: onRequestHookHandler;
  /** Reading candidates: a valid token, unless reads are public. */
  reader: onRequestHookHandler;
}


interface Claims {
  sub?: unknown;
  role?: unknown;
}

/** Who sent a request, as its token says. */
export interface Principal {
  username: string;
  role: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a guard. */
    principal?: Principal;
  }
}

/** The scheme and token of an Authorization header, split the way Starlette did. */
function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw new NotAuthenticatedError();
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') throw new NotAuthenticatedError();
  return space < 0 ? '' : header.slice(space + 1).trim();
}

/**
 * Tokens (HS256 JWT with sub, role and a required exp), the guards that read
 * them, and POST /auth/login, which takes an OAuth2 password form and is
 * rate-limited per username and client address.
 */
export async function registerAuth(app: FastifyInstance, o: AuthOptions): Promise<Guards> {
  await app.register(fastifyJwt, {
    secret: o.jwtSecretKey,
    sign: { algorithm: 'HS256', expiresIn: '30m' },
    // A token without exp would never expire: refused, unlike python-jose did.
    verify: { algorithms: ['HS256'], requiredClaims: ['exp'], cache: 1000 },
  });

  const authenticate = (request: FastifyRequest): Principal => {
    const raw = bearerToken(request);
    let claims: Claims;
    try {
      claims = app.jwt.verify<Claims>(raw);
    } catch (e) {
      throw new InvalidTokenError((e as Error).message);
    }
    if (typeof claims.sub !== 'string') throw new InvalidTokenError('token has no subject');
    const principal = { username: claims.sub, role: typeof claims.role === 'string' ? claims.role : undefined };
    request.principal = principal;
    return principal;
  };

  const guards: Guards = {
    admin: async (request) => {
      if (authenticate(request).role !== 'admin') throw new ForbiddenError();
    },
    reader: async (request) => {
      if (!o.publicReads) authenticate(request);
    },
  };

  await app.register(async (scope) => {
    // Forms are parsed only here: elsewhere a form body is not JSON and gets a 422, as before.
    await scope.register(formbody);
    scope.post<{ Body: { username: string; password: string } }>(
      '/auth/login',
      {
        schema: {
          tags: ['Authentication'],
          summary: 'Log in with the admin credentials; returns a bearer token valid for 30 minutes',
          consumes: ['application/x-www-form-urlencoded'],
          body: loginForm,
          response: { 200: token, ...errors(401, 422, 429) },
        },
        preValidation: async (request) => {
          // FastAPI read only form fields, and took an empty one as missing.
          const isForm = /^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '');
          const form = isForm && request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
          // Validation, next, checks what is left; until then the body is not yet the declared shape.
          (request as FastifyRequest).body = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== ''));
        },
      },
      async (request) => {
        const { username, password } = request.body;
        await o.throttle.attempt(username, request.ip);
        const user = await o.credentials.verify(username, password);
        if (!user) throw new LoginFailedError();
        await o.throttle.succeeded(username, request.ip);
        return { access_token: app.jwt.sign({ sub: user.username, role: user.role }), token_type: 'bearer' };
      },
    );
  });

  return guards;
}
