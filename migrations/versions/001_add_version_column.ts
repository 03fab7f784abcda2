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
 *
 * Built for a table in use: the index is built CONCURRENTLY (the Python
 * revision's plain build blocked writes to candidates for as long as it
 * took), between the revision's two transactions, and every statement that
 * locks candidates waits at most 200 ms for its lock before trying again,
 * so that no queue of the application's writes forms behind it.
 */
export default {
  revision: '001_add_version_column',
  downRevision: '000_initial_schema',
  message: 'Add version column for optimistic locking',
  createDate: '2025-01-15 11:00:00',
  description: 'Adds the version column to support optimistic locking, preventing race conditions during concurrent updates.',
  policy: { lockTimeoutMs: 200, retries: 10 },
  checksum: {
    accept: {
      fb7bc5cb349f66bf533b75ab3fb38f2b454564307350cb723b8a8429ab55ff7c:
        'the same revision with its index built in one transaction without CONCURRENTLY: the schema it leaves is the same',
    },
  },

  async upgrade(op: Operations) {
    await op.addColumn('candidates', 'version', { type: 'INTEGER', default: "'1'", nullable: false });
    await op.createIndex('idx_candidates_version', 'candidates', ['id', 'version'], { concurrently: true });
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
    await op.dropIndex('idx_candidates_version', { concurrently: true });
    await op.dropColumn('candidates', 'version', { restore: { type: 'INTEGER', default: "'1'", nullable: false } });
  },
} satisfies RevisionModule;
