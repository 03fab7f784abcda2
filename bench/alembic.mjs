// A throwaway Alembic project with the Python service's three revisions, as
// that service wrote them (op.create_table, op.create_index, op.execute for
// the plpgsql), so `npm run bench` can time Alembic side by side with our CLI
// on the same server. Alembic comes from Debian (apt-get install -y
// python3-alembic python3-sqlalchemy python3-psycopg2): PyPI is not
// reachable here.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

const ENV_PY = `
import os
from alembic import context
from sqlalchemy import create_engine, pool

def run_migrations_online():
    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql+psycopg2://", 1)
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()

run_migrations_online()
`;

const REVISIONS = {
  '000_initial_schema.py': `"""Initial schema for candidates table

Revision ID: 000_initial_schema
Revises:
Create Date: 2025-01-15 10:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "000_initial_schema"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "candidates",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("company_name", sa.String(255), nullable=False),
        sa.Column("contact_email", sa.String(255), nullable=False),
        sa.Column("phone", sa.String(50)),
        sa.Column("products", postgresql.JSONB()),
        sa.Column("truck_count", sa.Integer()),
        sa.Column("capacity_tons_per_day", sa.Integer()),
        sa.Column("location", sa.String(255)),
        sa.Column("status", sa.String(20), server_default="pending", nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("provider_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_email"),
        sa.CheckConstraint("truck_count > 0", name="truck_count_positive"),
        sa.CheckConstraint("capacity_tons_per_day > 0", name="capacity_positive"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_check"),
    )
    op.create_index("idx_candidates_status", "candidates", ["status"])
    op.create_index("idx_candidates_created_at", "candidates", ["created_at"])
    op.create_index("idx_candidates_products", "candidates", ["products"], postgresql_using="gin")
    op.execute("""
        CREATE OR REPLACE FUNCTION update_candidates_updated_at()
        RETURNS TRIGGER AS $$
        BEGIN
            NEW.updated_at = CURRENT_TIMESTAMP;
            RETURN NEW;
        END;
        $$ language 'plpgsql';
    """)
    op.execute("""
        CREATE TRIGGER update_candidates_updated_at
        BEFORE UPDATE ON candidates
        FOR EACH ROW
        EXECUTE FUNCTION update_candidates_updated_at();
    """)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS update_candidates_updated_at ON candidates")
    op.execute("DROP FUNCTION IF EXISTS update_candidates_updated_at()")
    op.drop_index("idx_candidates_products", table_name="candidates")
    op.drop_index("idx_candidates_created_at", table_name="candidates")
    op.drop_index("idx_candidates_status", table_name="candidates")
    op.drop_table("candidates")
`,
  '001_add_version_column.py': `"""Add version column for optimistic locking

Revision ID: 001_add_version_column
Revises: 000_initial_schema
Create Date: 2025-01-15 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "001_add_version_column"
down_revision = "000_initial_schema"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("candidates", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_index("idx_candidates_version", "candidates", ["id", "version"])
    op.execute("""
        COMMENT ON COLUMN candidates.version IS
        'Optimistic locking version - increments on each update to prevent race conditions'
    """)
    op.execute("""
        CREATE OR REPLACE FUNCTION update_candidates_metadata()
        RETURNS TRIGGER AS $$
        BEGIN
            NEW.updated_at = CURRENT_TIMESTAMP;
            NEW.version = OLD.version + 1;
            RETURN NEW;
        END;
        $$ language 'plpgsql';
    """)
    op.execute("DROP TRIGGER IF EXISTS update_candidates_updated_at ON candidates")
    op.execute("""
        CREATE TRIGGER update_candidates_metadata
        BEFORE UPDATE ON candidates
        FOR EACH ROW
        EXECUTE FUNCTION update_candidates_metadata();
    """)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS update_candidates_metadata ON candidates")
    op.execute("""
        CREATE TRIGGER update_candidates_updated_at
        BEFORE UPDATE ON candidates
        FOR EACH ROW
        EXECUTE FUNCTION update_candidates_updated_at();
    """)
    op.execute("DROP FUNCTION IF EXISTS update_candidates_metadata()")
    op.drop_index("idx_candidates_version", table_name="candidates")
    op.drop_column("candidates", "version")
`,
  '002_add_rejection_reason.py': `"""Add rejection_reason column for tracking rejection details

Revision ID: 002_add_rejection_reason
Revises: 001_add_version_column
Create Date: 2025-01-15 12:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "002_add_rejection_reason"
down_revision = "001_add_version_column"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("candidates", sa.Column("rejection_reason", sa.Text(), nullable=True))
    op.execute("""
        COMMENT ON COLUMN candidates.rejection_reason IS
        'Optional explanation provided when a candidate application is rejected'
    """)


def downgrade():
    op.drop_column("candidates", "rejection_reason")
`,
};

/**
 * Writes the project under `dir` and returns the argument list that runs
 * Alembic on it, or undefined (with the reason printed) when this Python has
 * no Alembic.
 */
export function alembicProject(dir) {
  const probe = spawnSync(PYTHON, ['-c', 'import alembic, sqlalchemy, psycopg2; print(alembic.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`  (no Alembic for ${PYTHON}: apt-get install -y python3-alembic python3-sqlalchemy python3-psycopg2; Alembic figures skipped)`);
    return undefined;
  }
  mkdirSync(join(dir, 'versions'), { recursive: true });
  writeFileSync(join(dir, 'alembic.ini'), `[alembic]\nscript_location = ${dir}\n`);
  writeFileSync(join(dir, 'env.py'), ENV_PY);
  for (const [name, text] of Object.entries(REVISIONS)) writeFileSync(join(dir, 'versions', name), text);
  return { version: probe.stdout.trim(), args: ['-m', 'alembic', '-c', join(dir, 'alembic.ini')] };
}
