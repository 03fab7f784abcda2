import type { Operations, RevisionModule } from '../../src/migrate/index.js';

/**
 * Two tables the Python service never had, so that every replica sees the
 * same state: a claim per candidate being decided (approving calls billing
 * with no database connection held, and a created provider's id is kept here
 * until the candidate records it), and failed-login counts per user and
 * client address for the login rate limit.
 */
export default {
  revision: '003_claims_and_login_attempts',
  downRevision: '002_add_rejection_reason',
  message: 'Add decision_claims and login_attempts',
  createDate: '2026-12-02 12:00:00',
  description:
    'Adds decision_claims (one row per candidate while a decision is under way, holding the billing provider id until it is recorded) ' +
    'and login_attempts (login attempts per username, kept as its SHA-256, and client address in the current window).',

  async upgrade(op: Operations) {
    await op.execute(`
      CREATE TABLE decision_claims (
          candidate_id UUID NOT NULL,
          claim UUID NOT NULL,
          action VARCHAR(10) NOT NULL,
          candidate_version INTEGER NOT NULL,
          company_name VARCHAR(255) NOT NULL,
          provider_id INTEGER,
          claimed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
          lease_until TIMESTAMP WITH TIME ZONE NOT NULL,
          CONSTRAINT decision_claims_pkey PRIMARY KEY (candidate_id),
          CONSTRAINT decision_claims_action_check CHECK (action IN ('approve', 'reject'))
      )`);
    await op.execute(`
      CREATE TABLE login_attempts (
          username_hash CHAR(64) NOT NULL,
          address VARCHAR(64) NOT NULL,
          window_start TIMESTAMP WITH TIME ZONE NOT NULL,
          attempts INTEGER NOT NULL,
          CONSTRAINT login_attempts_pkey PRIMARY KEY (username_hash, address)
      )`);
    await op.createIndex('idx_login_attempts_window_start', 'login_attempts', ['window_start']);
  },

  async downgrade(op: Operations) {
    // A claim holding a provider id is the only record of a provider that
    // billing created for a candidate that has not recorded it yet.
    if (op.offline) {
      op.warn('dropping decision_claims discards any provider id not yet recorded on its candidate');
    } else {
      const [row] = await op.query<{ n: number }>('SELECT count(provider_id)::int AS n FROM decision_claims');
      if (row && row.n > 0) {
        op.warn(`dropping decision_claims discards ${row.n} provider id${row.n === 1 ? '' : 's'} not yet recorded on a candidate`);
      }
    }
    await op.dropIndex('idx_login_attempts_window_start');
    await op.execute('DROP TABLE login_attempts');
    await op.execute('DROP TABLE decision_claims');
  },
} satisfies RevisionModule;
