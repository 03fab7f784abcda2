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
    await op.createTable(
      'decision_claims',
      [
        { name: 'candidate_id', type: 'UUID', nullable: false },
        { name: 'claim', type: 'UUID', nullable: false },
        { name: 'action', type: 'VARCHAR(10)', nullable: false },
        { name: 'candidate_version', type: 'INTEGER', nullable: false },
        { name: 'company_name', type: 'VARCHAR(255)', nullable: false },
        { name: 'provider_id', type: 'INTEGER' },
        { name: 'claimed_at', type: 'TIMESTAMP WITH TIME ZONE', default: 'now()', nullable: false },
        { name: 'lease_until', type: 'TIMESTAMP WITH TIME ZONE', nullable: false },
      ],
      [
        { kind: 'primaryKey', name: 'decision_claims_pkey', columns: ['candidate_id'] },
        { kind: 'check', name: 'decision_claims_action_check', expression: "action IN ('approve', 'reject')" },
      ],
    );
    await op.createTable(
      'login_attempts',
      [
        { name: 'username_hash', type: 'CHAR(64)', nullable: false },
        { name: 'address', type: 'VARCHAR(64)', nullable: false },
        { name: 'window_start', type: 'TIMESTAMP WITH TIME ZONE', nullable: false },
        { name: 'attempts', type: 'INTEGER', nullable: false },
      ],
      [{ kind: 'primaryKey', name: 'login_attempts_pkey', columns: ['username_hash', 'address'] }],
    );
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
    await op.dropTable('login_attempts');
    await op.dropTable('decision_claims');
  },
} satisfies RevisionModule;
