import type { FunctionDef, Operations, RevisionModule, TriggerDef } from '../../src/migrate/index.js';

const row = { table: 'candidates', timing: 'BEFORE', events: ['UPDATE'], forEach: 'ROW' } as const;

const METADATA_FUNCTION: FunctionDef = {
  name: 'update_candidates_metadata',
  returns: 'TRIGGER',
  language: 'plpgsql',
  body: `
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    NEW.version = OLD.version + 1;
    RETURN NEW;
END;
`,
};

/** As 000 wrote it: a revision records the schema of its time, so it keeps its own copy. */
const UPDATED_AT_FUNCTION: FunctionDef = {
  name: 'update_candidates_updated_at',
  returns: 'TRIGGER',
  language: 'plpgsql',
  body: `
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
`,
};

const METADATA_TRIGGER: TriggerDef = { name: 'update_candidates_metadata', ...row, function: 'update_candidates_metadata' };
const UPDATED_AT_TRIGGER: TriggerDef = { name: 'update_candidates_updated_at', ...row, function: 'update_candidates_updated_at' };

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
  lint: {
    accept: {
      'index-not-concurrent': 'historical revision of the Python service, kept as it ran: the build blocks writes to candidates while it runs',
    },
  },

  async upgrade(op: Operations) {
    await op.addColumn('candidates', 'version', { type: 'INTEGER', default: "'1'", nullable: false });
    await op.createIndex('idx_candidates_version', 'candidates', ['id', 'version']);
    await op.setColumnComment(
      'candidates',
      'version',
      'Optimistic locking version - increments on each update to prevent race conditions',
    );
    await op.createFunction(METADATA_FUNCTION);
    await op.dropTrigger('update_candidates_updated_at', 'candidates', { ifExists: true, restore: UPDATED_AT_TRIGGER });
    await op.createTrigger(METADATA_TRIGGER);
  },

  async downgrade(op: Operations) {
    await op.createFunction(UPDATED_AT_FUNCTION);
    await op.dropTrigger('update_candidates_metadata', 'candidates', { ifExists: true, restore: METADATA_TRIGGER });
    await op.createTrigger(UPDATED_AT_TRIGGER);
    await op.dropFunction('update_candidates_metadata', { ifExists: true, restore: METADATA_FUNCTION });
    await op.dropIndex('idx_candidates_version');
    await op.dropColumn('candidates', 'version', { restore: { type: 'INTEGER', default: "'1'", nullable: false } });
  },
} satisfies RevisionModule;
