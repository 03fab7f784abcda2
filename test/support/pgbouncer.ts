import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_ADMIN_URL } from './databases.js';

const BINARY = '/usr/sbin/pgbouncer';

/** Debian's pgbouncer, installed on first use when missing (apt, as the CI image allows). */
function ensureInstalled(): void {
  if (existsSync(BINARY)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['install', '-y', '-qq', 'pgbouncer'], { env, stdio: 'ignore' }).status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'pgbouncer'], { env, stdio: 'ignore' });
  }
  if (!existsSync(BINARY)) throw new Error(`pgbouncer is not installed and 'apt-get install -y pgbouncer' failed`);
}

/** A free loopback port, so parallel runs do not collide. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface Bouncer {
  /** The URL of `database` through the pooler. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/**
 * A PgBouncer of the test's own on loopback, in transaction mode (what
 * production poolers run), in front of the test server. It refuses to run
 * as root, so it drops to the postgres user when started as root.
 */
export async function startPgBouncer(): Promise<Bouncer> {
  ensureInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'pgbouncer-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const server = new URL(SERVER_ADMIN_URL);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432} user=${server.username || 'postgres'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      'pool_mode = transaction',
      'default_pool_size = 4',
      'max_client_conn = 100',
      'ignore_startup_parameters = extra_float_digits',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
    ].join('\n') + '\n',
  );
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(BINARY, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  const log = join(dir, 'pgbouncer.log');
  for (let i = 0; i < 100 && !(existsSync(log) && /listening on 127\.0\.0\.1/.test(readFileSync(log, 'utf8'))); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    urlFor: (database) => `postgres://${server.username || 'postgres'}@127.0.0.1:${port}/${database}`,
    // Idempotent: a test may stop it early to free what its server connections hold.
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
