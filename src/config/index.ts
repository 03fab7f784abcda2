import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** Raised for any invalid setting; its message is one line fit for a terminal. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type DatabaseTarget =
  | { kind: 'server'; url: string; display: string }
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'memory' };

export type Environment = 'development' | 'production' | 'test';

export interface Config {
  database: DatabaseTarget;
  environment: Environment;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** LOG_FORMAT: `pretty` (one short line a request), `json`, or `auto`: pretty when stdout is a terminal. */
  logFormat: 'pretty' | 'json' | 'auto';
  billingServiceUrl: string;
  jwtSecretKey: string;
  adminUsername: string;
  /** Exactly one of the two is set. */
  adminPassword: string | undefined;
  adminPasswordHash: string | undefined;
  publicReads: boolean;
  corsOrigins: string[];
  migrateOnStart: boolean;
  /** Login attempts allowed per username and client address per window (LOGIN_RATE_LIMIT, e.g. `5/60`: 5 per 60 s). */
  loginRateLimit: { max: number; windowSeconds: number };
  /**
   * Whose X-Forwarded-For to believe for the client address (TRUST_PROXY):
   * false, true (any), a hop count, or addresses/CIDRs. Behind the gateway,
   * without it every client shares the gateway's address and its login limit.
   */
  trustProxy: boolean | number | string[];
}

export const DEV_JWT_SECRET = 'dev-secret-key-change-in-production';
export const DEV_ADMIN_USERNAME = 'admin@example.com';
export const DEV_ADMIN_PASSWORD = 'admin123';
const DEV_CORS = ['http://localhost', 'http://localhost:3000', 'http://localhost:5173'];

type Env = Record<string, string | undefined>;

/**
 * Reads `.env` (when present) under the real environment: a variable already
 * set in the environment wins, as with python-dotenv in the Python service.
 */
export function readEnv(cwd: string = process.cwd(), env: Env = process.env): Env {
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return { ...env };
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (e) {
    throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return { ...parsed, ...env };
}

/** `postgres://user:***@host/db`: what may be printed of a URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Accepts the Python service's SQLAlchemy form too, so an existing `.env`
 * keeps working: `postgresql+asyncpg://` and `postgresql+psycopg2://` become
 * `postgres://`.
 */
export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const m = /^(postgres|postgresql)(\+[a-z0-9_]+)?:\/\//i.exec(raw);
  if (!m) {
    const scheme = /^([a-z0-9+.-]+):/i.exec(raw)?.[1];
    throw new ConfigError(
      `DATABASE_URL must start with postgres://, postgresql:// or postgresql+asyncpg://` +
        (scheme ? ` (got ${scheme}://)` : ''),
    );
  }
  const url = 'postgres://' + raw.slice(m[0].length);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`DATABASE_URL is not a valid URL: ${redactUrl(url)}`);
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) {
    throw new ConfigError('DATABASE_URL names no host');
  }
  if (parsed.port && !(Number(parsed.port) > 0 && Number(parsed.port) < 65536)) {
    throw new ConfigError(`DATABASE_URL has an invalid port: ${parsed.port}`);
  }
  return { kind: 'server', url, display: redactUrl(url) };
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false (got "${env[name]}")`);
}

function port(env: Env, names: string[], fallback: number): number {
  for (const name of names) {
    const v = env[name]?.trim();
    if (v === undefined || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new ConfigError(`${name} must be a port number from 0 to 65535 (got "${v}")`);
    }
    return n;
  }
  return fallback;
}

/** Where the embedded database lives: `DATA_DIR`, `:memory:` for a throwaway one. */
export function databaseTarget(env: Env, cwd: string = process.cwd()): DatabaseTarget {
  const url = env.DATABASE_URL?.trim();
  if (url) return parseDatabaseUrl(url);
  const dir = env.DATA_DIR?.trim() || './.data/pglite';
  if (dir === ':memory:' || dir === 'memory://') return { kind: 'memory' };
  return { kind: 'embedded', dataDir: resolve(cwd, dir) };
}

function loginRateLimit(env: Env): Config['loginRateLimit'] {
  const v = env.LOGIN_RATE_LIMIT?.trim();
  if (!v) return { max: 5, windowSeconds: 60 };
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
    throw new ConfigError(`LOGIN_RATE_LIMIT must be <attempts>/<seconds>, e.g. 5/60 (got "${v}")`);
  }
  return { max: Number(m[1]), windowSeconds: Number(m[2]) };
}

function trustProxy(env: Env): Config['trustProxy'] {
  const v = env.TRUST_PROXY?.trim();
  if (!v) return false;
  if (/^\d+$/.test(v)) return Number(v);
  const lower = v.toLowerCase();
  if (['true', 'false'].includes(lower)) return lower === 'true';
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const LOG_FORMATS = ['pretty', 'json', 'auto'] as const;

/**
 * ENVIRONMENT, unless NODE_ENV says production: a deployment that names
 * itself production either way must not start with the development secrets.
 */
function environmentOf(env: Env): Environment {
  const named = (env.ENVIRONMENT?.trim().toLowerCase() || 'development') as Environment;
  if (!['development', 'production', 'test'].includes(named)) {
    throw new ConfigError(`ENVIRONMENT must be development, production or test (got "${env.ENVIRONMENT}")`);
  }
  return env.NODE_ENV?.trim().toLowerCase() === 'production' ? 'production' : named;
}

export function loadConfig(env: Env = readEnv(), cwd: string = process.cwd()): Config {
  const environment = environmentOf(env);
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${env.LOG_LEVEL}")`);
  }
  const logFormat = (env.LOG_FORMAT?.trim().toLowerCase() || 'auto') as Config['logFormat'];
  if (!LOG_FORMATS.includes(logFormat)) {
    throw new ConfigError(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')} (got "${env.LOG_FORMAT}")`);
  }
  const billing = env.BILLING_SERVICE_URL?.trim() || 'http://localhost:5002';
  if (!/^https?:\/\/[^/]/.test(billing)) {
    throw new ConfigError(`BILLING_SERVICE_URL must be an http:// or https:// URL (got "${billing}")`);
  }
  const adminPasswordHash = env.ADMIN_PASSWORD_HASH?.trim() || undefined;
  if (adminPasswordHash && !/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(adminPasswordHash)) {
    throw new ConfigError('ADMIN_PASSWORD_HASH is not a bcrypt hash ($2b$12$...)');
  }
  const adminPassword = adminPasswordHash ? undefined : env.ADMIN_PASSWORD || DEV_ADMIN_PASSWORD;
  const cors = env.CORS_ORIGINS?.trim();
  const corsOrigins = cors
    ? cors.split(',').map((s) => s.trim()).filter(Boolean)
    : environment === 'production'
      ? []
      : DEV_CORS;
  return {
    database: databaseTarget(env, cwd),
    environment,
    // Development secrets are public: outside production, only this machine may reach them.
    host: env.HOST?.trim() || env.APP_HOST?.trim() || (environment === 'production' ? '0.0.0.0' : '127.0.0.1'),
    port: port(env, ['PORT', 'APP_PORT'], 5004),
    logLevel,
    logFormat,
    billingServiceUrl: billing.replace(/\/+$/, ''),
    jwtSecretKey: env.JWT_SECRET_KEY || DEV_JWT_SECRET,
    adminUsername: env.ADMIN_USERNAME?.trim() || DEV_ADMIN_USERNAME,
    adminPassword,
    adminPasswordHash,
    publicReads: bool(env, 'PUBLIC_READS', false),
    corsOrigins,
    migrateOnStart: bool(env, 'MIGRATE_ON_START', false),
    loginRateLimit: loginRateLimit(env),
    trustProxy: trustProxy(env),
  };
}
