import type { FunctionDef, Operations, RevisionModule, TriggerDef } from '../../src/migrate/index.js';

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

const UPDATED_AT_TRIGGER: TriggerDef = {
  name: 'update_candidates_updated_at',
  table: 'candidates',
  timing: 'BEFORE',
  events: ['UPDATE'],
  forEach: 'ROW',
  function: 'update_candidates_updated_at',
};

/**
 * The candidates table as the Python service first created it, so the
 * catalog comes out identical: the primary key and the unique e-mail
 * constraint are unnamed and get PostgreSQL's names (candidates_pkey,
 * candidates_contact_email_key).
 */
export default {
  revision: '000_initial_schema',
  downRevision: null,
  message: 'Initial schema for candidates table',
  createDate: '2025-01-15 10:00:00',

  async upgrade(op: Operations) {
    await op.createTable(
      'candidates',
      [
        { name: 'id', type: 'UUID', default: 'gen_random_uuid()', nullable: false },
        { name: 'company_name', type: 'VARCHAR(255)', nullable: false },
        { name: 'contact_email', type: 'VARCHAR(255)', nullable: false },
        { name: 'phone', type: 'VARCHAR(50)' },
        { name: 'products', type: 'JSONB' },
        { name: 'truck_count', type: 'INTEGER' },
        { name: 'capacity_tons_per_day', type: 'INTEGER' },
        { name: 'location', type: 'VARCHAR(255)' },
        { name: 'status', type: 'VARCHAR(20)', default: "'pending'", nullable: false },
        { name: 'created_at', type: 'TIMESTAMP WITHOUT TIME ZONE', default: 'CURRENT_TIMESTAMP', nullable: false },
        { name: 'updated_at', type: 'TIMESTAMP WITHOUT TIME ZONE', default: 'CURRENT_TIMESTAMP', nullable: false },
        { name: 'provider_id', type: 'INTEGER' },
      ],
      [
        { kind: 'primaryKey', columns: ['id'] },
        { kind: 'unique', columns: ['contact_email'] },
        { kind: 'check', name: 'truck_count_positive', expression: 'truck_count > 0' },
        { kind: 'check', name: 'capacity_positive', expression: 'capacity_tons_per_day > 0' },
        { kind: 'check', name: 'status_check', expression: "status IN ('pending', 'approved', 'rejected')" },
      ],
    );
    await op.createIndex('idx_candidates_status', 'candidates', ['status']);
    await op.createIndex('idx_candidates_created_at', 'candidates', ['created_at']);
    await op.createIndex('idx_candidates_products', 'candidates', ['products'], { using: 'gin' });
    await op.createFunction(UPDATED_AT_FUNCTION);
    await op.createTrigger(UPDATED_AT_TRIGGER);
  },

  async downgrade(op: Operations) {
    await op.dropTrigger('update_candidates_updated_at', 'candidates', { ifExists: true });
    await op.dropFunction('update_candidates_updated_at', { ifExists: true });
    await op.dropIndex('idx_candidates_products');
    await op.dropIndex('idx_candidates_created_at');
    await op.dropIndex('idx_candidates_status');
    await op.dropTable('candidates');
  },
} satisfies RevisionModule;
