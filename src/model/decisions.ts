import { sql } from 'drizzle-orm';
import { char, check, index, integer, pgTable, primaryKey, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

/**
 * A decision under way on a candidate (`003`): approving claims the candidate
 * here, calls billing with no connection held, then records the outcome. A
 * provider id billing returned stays here until its candidate records it, so
 * a later approve finishes the job instead of creating another provider.
 */
export const decisionClaims = pgTable(
  'decision_claims',
  {
    candidateId: uuid('candidate_id').primaryKey(),
    claim: uuid('claim').notNull(),
    action: varchar('action', { length: 10 }).notNull(),
    candidateVersion: integer('candidate_version').notNull(),
    companyName: varchar('company_name', { length: 255 }).notNull(),
    providerId: integer('provider_id'),
    claimedAt: timestamp('claimed_at', { withTimezone: true, mode: 'string' }).notNull().default(sql`now()`),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'string' }).notNull(),
  },
  () => [check('decision_claims_action_check', sql`action IN ('approve', 'reject')`)],
);

/**
 * Login attempts per username and client address in the current window
 * (`003`), shared by every replica. The username is kept as its SHA-256:
 * whatever a client sends, it is not stored.
 */
export const loginAttempts = pgTable(
  'login_attempts',
  {
    usernameHash: char('username_hash', { length: 64 }).notNull(),
    address: varchar('address', { length: 64 }).notNull(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'string' }).notNull(),
    attempts: integer('attempts').notNull(),
  },
  (t) => [primaryKey({ name: 'login_attempts_pkey', columns: [t.usernameHash, t.address] }), index('idx_login_attempts_window_start').on(t.windowStart)],
);
