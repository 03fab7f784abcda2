import type { Operations, RevisionModule } from '../../src/migrate/index.js';

/**
 * The candidates table as the Python service first created it. The SQL is
 * what its Alembic revision emitted, so the catalog comes out identical
 * (unnamed primary key and unique constraint get PostgreSQL's names
 * candidates_pkey and candidates_contact_email_key).
 */
export default {
  revision: '000_initial_schema',
  downRevision: null,
  message: 'Initial schema for candidates table',
  createDate: '2025-01-15 10:00:00',

  async upgrade(op: Operations) {
    await op.execute(`
      CREATE TABLE candidates (
        id UUID DEFAULT gen_random_uuid() NOT NULL,
        company_name VARCHAR(255) NOT NULL,
        contact_email VARCHAR(255) NOT NULL,
        phone VARCHAR(50),
        products JSONB,
        truck_count INTEGER,
        capacity_tons_per_day INTEGER,
        location VARCHAR(255),
        status VARCHAR(20) DEFAULT 'pending' NOT NULL,
        created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
        updated_at TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
        provider_id INTEGER,
        PRIMARY KEY (id),
        UNIQUE (contact_email),
        CONSTRAINT truck_count_positive CHECK (truck_count > 0),
        CONSTRAINT capacity_positive CHECK (capacity_tons_per_day > 0),
        CONSTRAINT status_check CHECK (status IN ('pending', 'approved', 'rejected'))
      )`);
    await op.createIndex('idx_candidates_status', 'candidates', ['status']);
    await op.createIndex('idx_candidates_created_at', 'candidates', ['created_at']);
    await op.createIndex('idx_candidates_products', 'candidates', ['products'], { using: 'gin' });
    await op.execute(`
      CREATE OR REPLACE FUNCTION update_candidates_updated_at()
      RETURNS TRIGGER AS $$
      BEGIN
          NEW.updated_at = CURRENT_TIMESTAMP;
          RETURN NEW;
      END;
      $$ language 'plpgsql'`);
    await op.execute(`
      CREATE TRIGGER update_candidates_updated_at
      BEFORE UPDATE ON candidates
      FOR EACH ROW
      EXECUTE FUNCTION update_candidates_updated_at()`);
  },

  async downgrade(op: Operations) {
    await op.execute('DROP TRIGGER IF EXISTS update_candidates_updated_at ON candidates');
    await op.execute('DROP FUNCTION IF EXISTS update_candidates_updated_at()');
    await op.dropIndex('idx_candidates_products');
    await op.dropIndex('idx_candidates_created_at');
    await op.dropIndex('idx_candidates_status');
    await op.execute('DROP TABLE candidates');
  },
} satisfies RevisionModule;
