import type { Operations, RevisionModule } from '../../src/migrate/index.js';

const REASON = { type: 'TEXT' } as const;

/** A nullable reason an admin may give when rejecting a candidate. */
export default {
  revision: '002_add_rejection_reason',
  downRevision: '001_add_version_column',
  message: 'Add rejection_reason column for tracking rejection details',
  createDate: '2025-01-15 12:00:00',
  description: 'Adds the rejection_reason column to store optional explanations when a candidate is rejected.',

  async upgrade(op: Operations) {
    await op.addColumn('candidates', 'rejection_reason', REASON);
    await op.setColumnComment(
      'candidates',
      'rejection_reason',
      'Optional explanation provided when a candidate application is rejected',
    );
  },

  async downgrade(op: Operations) {
    // The one deliberate loss in the history: say how much is lost.
    if (op.offline) {
      op.warn('dropping candidates.rejection_reason discards every stored rejection reason');
    } else {
      const [row] = await op.query<{ n: number }>('SELECT count(rejection_reason)::int AS n FROM candidates');
      if (row && row.n > 0) {
        op.warn(`dropping candidates.rejection_reason discards ${row.n} non-null value${row.n === 1 ? '' : 's'}`);
      }
    }
    await op.dropColumn('candidates', 'rejection_reason', { restore: REASON });
  },
} satisfies RevisionModule;
