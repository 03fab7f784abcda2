import type { Operations, RevisionModule } from '../../src/migrate/index.js';

/**
 * Restore the version index
 *
 * Keep this module self-contained (type imports only): it records the schema
 * as it was at this revision, whatever the model says later.
 */
export default {
  revision: '004_restore_the_version_index',
  downRevision: '003_claims_and_login_attempts',
  message: 'Restore the version index',
  createDate: '2026-12-01 19:58:55',

  async upgrade(op: Operations) {
    await op.createIndex('idx_candidates_version', 'candidates', ['id', 'version']);
  },

  async downgrade(op: Operations) {
    await op.dropIndex('idx_candidates_version');
  },
} satisfies RevisionModule;
