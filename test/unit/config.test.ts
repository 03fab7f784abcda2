import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSecrets } from '../../src/auth/credentials.js';
import { ConfigError, databaseTarget, loadConfig, parseDatabaseUrl, readEnv, redactUrl } from '../../src/config/index.js';

describe('configuration', () => {
  it('accepts the Python service URL forms and never keeps a printable password', () => {
    for (const url of ['postgres://u:pw@h:5433/db', 'postgresql://u:pw@h:5433/db', 'postgresql+asyncpg://u:pw@h:5433/db']) {
      const t = parseDatabaseUrl(url);
      expect(t).toMatchObject({ kind: 'server', url: 'postgres://u:pw@h:5433/db', display: 'postgres://u:***@h:5433/db' });
    }
    expect(redactUrl('postgres://u:secret@h/db')).not.toContain('secret');
  });

  it('rejects other schemes and bad ports in one line', () => {
    expect(() => parseDatabaseUrl('mysql://h/db')).toThrow(ConfigError);
    expect(() => parseDatabaseUrl('postgres://h:70000/db')).toThrow(/invalid port|not a valid URL/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT must be a port number/);
    expect(() => loadConfig({ PUBLIC_READS: 'maybe' })).toThrow(/PUBLIC_READS must be true or false/);
    expect(() => loadConfig({ ADMIN_PASSWORD_HASH: 'plain' })).toThrow(/not a bcrypt hash/);
  });

  it('defaults to the embedded database under ./.data, or memory', () => {
    expect(databaseTarget({}, '/srv/app')).toEqual({ kind: 'embedded', dataDir: '/srv/app/.data/pglite' });
    expect(databaseTarget({ DATA_DIR: ':memory:' })).toEqual({ kind: 'memory' });
    expect(loadConfig({}).port).toBe(5004);
    expect(loadConfig({ APP_PORT: '6000' }).port).toBe(6000);
  });

  it('reads .env under the real environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-'));
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=postgresql+asyncpg://a@h/db\nLOG_LEVEL=debug\n');
    const env = readEnv(dir, { LOG_LEVEL: 'warn' });
    expect(env.DATABASE_URL).toBe('postgresql+asyncpg://a@h/db');
    expect(env.LOG_LEVEL).toBe('warn');
    expect(loadConfig(env, dir).database).toMatchObject({ kind: 'server' });
  });

  it('listens on loopback unless HOST is given or in production, which NODE_ENV can name too', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ENVIRONMENT: 'production', JWT_SECRET_KEY: 'k', ADMIN_PASSWORD: 'p' }).host).toBe('0.0.0.0');
    expect(loadConfig({ NODE_ENV: 'production' }).environment).toBe('production');
    expect(loadConfig({ NODE_ENV: 'development', ENVIRONMENT: 'test' }).environment).toBe('test');
    for (const env of [{ ENVIRONMENT: 'production' }, { NODE_ENV: 'production' }]) {
      expect(() => checkSecrets(loadConfig(env))).toThrow(/refusing to start in production/);
    }
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT must be one of pretty, json, auto/);
  });
});
