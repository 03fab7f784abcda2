import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, unique, uuid, varchar, type ExtraConfigColumn } from 'drizzle-orm/pg-core';

/** The columns, as a function so a test can build a changed model from the same definitions. */
export const candidateColumns = () => ({
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  companyName: varchar('company_name', { length: 255 }).notNull(),
  contactEmail: varchar('contact_email', { length: 255 }).notNull(),
  phone: varchar('phone', { length: 50 }),
  products: jsonb('products').$type<string[]>(),
  truckCount: integer('truck_count'),
  capacityTonsPerDay: integer('capacity_tons_per_day'),
  location: varchar('location', { length: 255 }),
  status: varchar('status', { length: 20 }).notNull().default('pending'),
  createdAt: timestamp('created_at', { mode: 'string' }).notNull().default(sql`CURRENT_TIMESTAMP`),
  updatedAt: timestamp('updated_at', { mode: 'string' }).notNull().default(sql`CURRENT_TIMESTAMP`),
  providerId: integer('provider_id'),
  version: integer('version').notNull().default(1),
  rejectionReason: text('rejection_reason'),
});

type Columns = { [K in keyof ReturnType<typeof candidateColumns>]: ExtraConfigColumn };

/** Constraints and indexes, as a function for the same reason. */
export const candidateConstraints = (t: Columns) => [
  unique('candidates_contact_email_key').on(t.contactEmail),
  check('truck_count_positive', sql`truck_count > 0`),
  check('capacity_positive', sql`capacity_tons_per_day > 0`),
  check('status_check', sql`status IN ('pending', 'approved', 'rejected')`),
  index('idx_candidates_status').on(t.status),
  index('idx_candidates_created_at').on(t.createdAt),
  index('idx_candidates_products').using('gin', t.products),
  index('idx_candidates_version').on(t.id, t.version),
];

/**
 * The candidates table at head (`002_add_rejection_reason`), exactly as the
 * Python service's Alembic revisions built it, quirks included: integer
 * capacity, `timestamp` without time zone, nullable counts. Improvements go
 * into new revisions, never into this shape alone.
 */
export const candidates = pgTable('candidates', candidateColumns(), candidateConstraints);

/**
 * Column comments, which Drizzle cannot express (pg-core has no comment and
 * drizzle-kit never emits COMMENT ON); kept here so the model stays the one
 * source of truth. Keyed by SQL column name.
 */
export const candidateColumnComments: Readonly<Record<string, string>> = {
  version: 'Optimistic locking version - increments on each update to prevent race conditions',
  rejection_reason: 'Optional explanation provided when a candidate application is rejected',
};

export const CANDIDATE_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type CandidateStatus = (typeof CANDIDATE_STATUSES)[number];
export type CandidateRow = typeof candidates.$inferSelect;

/**
 * Functions and triggers the schema needs that Drizzle cannot express,
 * declared as the SQL that creates them, so `check` and autogenerate see a
 * missing or changed version trigger. update_candidates_updated_at() is
 * unused since 001 but every database the Python service built has it.
 */
export const candidateRoutines: readonly string[] = [
  `CREATE OR REPLACE FUNCTION update_candidates_updated_at()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql`,
  `CREATE OR REPLACE FUNCTION update_candidates_metadata()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    NEW.version = OLD.version + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql`,
  `CREATE TRIGGER update_candidates_metadata
BEFORE UPDATE ON candidates
FOR EACH ROW
EXECUTE FUNCTION update_candidates_metadata()`,
];
