import { createHash } from 'node:crypto';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Database } from '../db/index.js';
import { loginAttempts } from '../model/index.js';
import { TooManyLoginAttemptsError } from './errors.js';

const T = getTableConfig(loginAttempts).name;
const c = (key: keyof typeof loginAttempts.$inferSelect): string => loginAttempts[key].name;

const IN_WINDOW = `${T}.${c('windowStart')} > clock_timestamp() - $3::int * interval '1 second'`;

/**
 * Counts the attempt and answers with the count in the window, in one
 * statement: racing attempts on any replica each get their own number, so
 * a burst cannot slip past the limit between a read and a write.
 */
const COUNT = `INSERT INTO ${T} (${c('usernameHash')}, ${c('address')}, ${c('windowStart')}, ${c('attempts')})
  VALUES ($1, $2, clock_timestamp(), 1)
  ON CONFLICT (${c('usernameHash')}, ${c('address')}) DO UPDATE SET
    ${c('attempts')} = CASE WHEN ${IN_WINDOW} THEN ${T}.${c('attempts')} + 1 ELSE 1 END,
    ${c('windowStart')} = CASE WHEN ${IN_WINDOW} THEN ${T}.${c('windowStart')} ELSE clock_timestamp() END
  RETURNING ${c('attempts')} AS attempts,
    greatest(1, ceil(extract(epoch FROM ${c('windowStart')} + $3::int * interval '1 second' - clock_timestamp())))::int AS retry_after`;

const FORGET = `DELETE FROM ${T} WHERE ${c('usernameHash')} = $1 AND ${c('address')} = $2`;
const PRUNE = `DELETE FROM ${T} WHERE ${c('windowStart')} < clock_timestamp() - $1::int * interval '1 second'`;

/**
 * The login rate limit, kept in PostgreSQL so that every replica counts
 * against the same number, and counted per username and client address: an
 * attacker guessing from one address is stopped without locking the admin
 * out from another, and a guess at another username costs the admin nothing.
 */
export class LoginThrottle {
  private logins = 0;

  constructor(
    private readonly db: Database,
    private readonly limit: { max: number; windowSeconds: number },
  ) {}

  /** Counts an attempt; throws TooManyLoginAttemptsError when it is one too many. */
  async attempt(username: string, address: string): Promise<void> {
    const [row] = await this.db.query<{ attempts: number; retry_after: number }>(COUNT, [
      digest(username),
      address.slice(0, 64),
      this.limit.windowSeconds,
    ]);
    // Old windows are swept now and then rather than by a job of their own.
    if (++this.logins % 100 === 0) await this.db.query(PRUNE, [this.limit.windowSeconds]);
    if (row && row.attempts > this.limit.max) throw new TooManyLoginAttemptsError(row.retry_after);
  }

  /** A successful login starts the count again. */
  async succeeded(username: string, address: string): Promise<void> {
    await this.db.query(FORGET, [digest(username), address.slice(0, 64)]);
  }
}

const digest = (username: string): string => createHash('sha256').update(username).digest('hex');
