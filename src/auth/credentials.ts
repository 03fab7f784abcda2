import { timingSafeEqual, createHash } from 'node:crypto';
import { compare, compareSync, hash } from 'bcryptjs';
import { ConfigError, DEV_ADMIN_PASSWORD, DEV_JWT_SECRET, type Config } from '../config/index.js';

export type Role = 'admin';

export interface User {
  username: string;
  role: Role;
}

/** Cost of the hash made at start from a plain ADMIN_PASSWORD: bcryptjs is pure JS, so start-up pays for every round. */
const STARTUP_HASH_ROUNDS = 10;

function sameText(a: string, b: string): boolean {
  // Digests first, so the comparison takes as long whatever the lengths.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/**
 * The admin users, from configuration only: a username with a bcrypt hash,
 * or a plain password hashed once at start and then forgotten.
 */
export class AdminCredentials {
  private constructor(
    private readonly username: string,
    private readonly passwordHash: string,
  ) {}

  static async fromConfig(config: Pick<Config, 'adminUsername' | 'adminPassword' | 'adminPasswordHash'>): Promise<AdminCredentials> {
    const passwordHash = config.adminPasswordHash ?? (await hash(config.adminPassword ?? '', STARTUP_HASH_ROUNDS));
    return new AdminCredentials(config.adminUsername, passwordHash);
  }

  /**
   * The user these credentials belong to, or undefined. A wrong username costs
   * the same bcrypt comparison as a wrong password, so timing does not tell
   * which of the two was wrong.
   */
  async verify(username: string, password: string): Promise<User | undefined> {
    const knownUser = sameText(username, this.username);
    const passwordOk = await compare(password, this.passwordHash);
    return knownUser && passwordOk ? { username: this.username, role: 'admin' } : undefined;
  }
}

/** HS256 keys shorter than the hash (RFC 7518 §3.2) can be guessed offline from any token. */
export const MIN_JWT_SECRET_BYTES = 32;
export const MIN_ADMIN_PASSWORD_CHARS = 12;

/**
 * Refuses, in production, the development secrets that ship in the code and
 * secrets too weak to keep (a short JWT key, a short admin password; a
 * bcrypt hash's password cannot be measured); elsewhere returns them as
 * warnings for the log.
 */
export function checkSecrets(config: Config): string[] {
  const problems: string[] = [];
  if (config.jwtSecretKey === DEV_JWT_SECRET) problems.push('JWT_SECRET_KEY is the development default');
  else if (Buffer.byteLength(config.jwtSecretKey) < MIN_JWT_SECRET_BYTES) {
    problems.push(`JWT_SECRET_KEY is shorter than ${MIN_JWT_SECRET_BYTES} bytes`);
  }
  if (config.adminPassword !== undefined && config.adminPassword !== DEV_ADMIN_PASSWORD && [...config.adminPassword].length < MIN_ADMIN_PASSWORD_CHARS) {
    problems.push(`ADMIN_PASSWORD is shorter than ${MIN_ADMIN_PASSWORD_CHARS} characters`);
  }
  const devPassword = config.adminPasswordHash
    ? compareSync(DEV_ADMIN_PASSWORD, config.adminPasswordHash)
    : config.adminPassword === DEV_ADMIN_PASSWORD;
  if (devPassword) problems.push(`the admin password is the development default (${DEV_ADMIN_PASSWORD})`);
  if (config.environment === 'production' && problems.length) {
    throw new ConfigError(`refusing to start in production: ${problems.join('; ')}; set your own in the environment`);
  }
  return problems.map((p) => `${p}: acceptable for development only`);
}
