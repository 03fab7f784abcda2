import type { Operations, RevisionModule } from '../../src/migrate/index.js';

const UPDATED_AT_FUNCTION = `
  CREATE OR REPLACE FUNCTION update_candidates_updated_at()
  RETURNS TRIGGER AS $$
  BEGIN
      NEW.updated_at = CURRENT_TIMESTAMP;
      RETURN NEW;
  END;
  $$ language 'plpgsql'`;

/**
 * A version column that the trigger increments on every update, for
 * optimistic locking. The old function update_candidates_updated_at() is
 * left in place unused, as the Python revision left it: every database that
 * service built has it, so ours must too.
 */
export default {
  revision: '001_add_version_column',
  downRevision: '000_initial_schema',
  message: 'Add version column for optimistic locking',
  createDate: '2025-01-15 11:00:00',
  description: 'Adds the version column to support optimistic locking, preventing race conditions during concurrent updates.',

  async upgrade(op: Operations) {
    await op.addColumn('candidates', 'version', { type: 'INTEGER', default: "'1'", nullable: false });
    await op.createIndex('idx_candidates_version', 'candidates', ['id', 'version']);
    await op.setColumnComment(
      'candidates',
      'version',
      'Optimistic locking version - increments on each update to prevent race conditions',
    );
    await op.execute(`
      CREATE OR REPLACE FUNCTION update_candidates_metadata()
      RETURNS TRIGGER AS $$
      BEGIN
          NEW.updated_at = CURRENT_TIMESTAMP;
          NEW.version = OLD.version + 1;
          RETURN NEW;
      END;
      $$ language 'plpgsql'`);
    await op.execute('DROP TRIGGER IF EXISTS update_candidates_updated_at ON candidates');
    await op.execute(`
      CREATE TRIGGER update_candidates_metadata
      BEFORE UPDATE ON candidates
      FOR EACH ROW
      EXECUTE FUNCTION update_candidates_metadata()`);
  },

  async downgrade(op: Operations) {
    await op.execute(UPDATED_AT_FUNCTION);
    await op.execute('DROP TRIGGER IF EXISTS update_candidates_metadata ON candidates');
    await op.execute(`
      CREATE TRIGGER update_candidates_updated_at
      BEFORE UPDATE ON candidates
      FOR EACH ROW
      EXECUTE FUNCTION update_candidates_updated_at()`);
    await op.execute('DROP FUNCTION IF EXISTS update_candidates_metadata()');
    await op.dropIndex('idx_candidates_version');
    await op.dropColumn('candidates', 'version');
  },
} satisfies RevisionModule;
