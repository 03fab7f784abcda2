import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Database, Queryable } from '../db/index.js';
import { candidates } from '../model/index.js';
import { ConcurrentModificationError, DuplicateEmailError } from './errors.js';
import type { Candidate, CandidateFilter, CandidatePage, NewCandidate } from './types.js';

// Every table, column and constraint name comes from the Drizzle model, the
// one source of truth for the schema: renaming or dropping a column there
// changes or breaks these statements at compile time. The statements stay
// SQL text because they are the hot path, prepared once and sent by the driver.
const model = getTableConfig(candidates);
const T = model.name;
const col = (key: keyof typeof candidates.$inferSelect): string => candidates[key].name;
const EMAIL_UNIQUE = model.uniqueConstraints.find((u) => u.columns.some((c) => c.name === col('contactEmail')))?.getName();

// Timestamps leave the database as text, in the form the Python service
// printed (ISO 8601, fraction without trailing zeros, none when zero): a JS
// Date would drop the microseconds and read the zone-less value as local time.
const iso = (column: string): string =>
  `rtrim(rtrim(to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US'), '0'), '.') AS ${column}`;

const COLUMNS = `${col('id')} AS candidate_id, ${col('status')}, ${col('companyName')}, ${col('contactEmail')}, ${col('phone')},
  coalesce(${col('products')}, '[]'::jsonb) AS ${col('products')}, ${col('truckCount')}, ${col('capacityTonsPerDay')}, ${col('location')},
  ${iso(col('createdAt'))}, ${iso(col('updatedAt'))}, ${col('providerId')}, ${col('version')}, ${col('rejectionReason')}`;

const INSERT = `INSERT INTO ${T}
  (${col('companyName')}, ${col('contactEmail')}, ${col('phone')}, ${col('products')}, ${col('truckCount')}, ${col('capacityTonsPerDay')}, ${col('location')})
  VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7) RETURNING ${COLUMNS}`;

const BY_ID = `SELECT ${COLUMNS} FROM ${T} WHERE ${col('id')} = $1`;

// NOWAIT: a second decider is told at once that the candidate is busy instead
// of queueing behind a billing call that may take many seconds.
const BY_ID_LOCKED = `${BY_ID} FOR UPDATE NOWAIT`;

// The version check is in the statement that writes; the 001 trigger bumps
// `version` and `updated_at`, so neither is set here.
const decided = (status: 'approved' | 'rejected', column: string): string =>
  `UPDATE ${T} SET ${col('status')} = '${status}', ${column} = $3
  WHERE ${col('id')} = $1 AND ${col('version')} = $2 AND ${col('status')} = 'pending' RETURNING ${COLUMNS}`;
const APPROVE = decided('approved', col('providerId'));
const REJECT = decided('rejected', col('rejectionReason'));

// Lists go to jsonb parameters as they are: both drivers serialise them as JSON.
type Param = string | number | null | string[];

/**
 * One fixed statement per combination of filters rather than
 * `($1 IS NULL OR status = $1)`: prepared once each, and every one can use the
 * status and GIN indexes. The count and the page are one statement, so a list
 * costs one round trip and one backend. The page is joined to the count so
 * that an empty page still brings the total (one row of NULLs). Ties on
 * created_at are broken by id so that pages never repeat or skip a row; the
 * columns are qualified because a bare created_at would mean the formatted
 * output column, computed for every match and sorted without the index.
 */
function listStatement(byStatus: boolean, byProduct: boolean): string {
  const conditions: string[] = [];
  let n = 0;
  if (byStatus) conditions.push(`${col('status')} = $${++n}`);
  if (byProduct) conditions.push(`${col('products')} @> $${++n}::jsonb`);
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  return `SELECT matching.total, page.* FROM (SELECT count(*)::int AS total FROM ${T}${where}) AS matching
  LEFT JOIN LATERAL (SELECT ${COLUMNS} FROM ${T}${where}
    ORDER BY ${T}.${col('createdAt')} DESC, ${T}.${col('id')} DESC LIMIT $${n + 1} OFFSET $${n + 2}) AS page ON true`;
}

const LIST = [listStatement(false, false), listStatement(true, false), listStatement(false, true), listStatement(true, true)];

/** The hot statements as sent, so the bench can give pgbench exactly the same SQL. */
export const STATEMENTS = {
  insert: INSERT,
  byId: BY_ID,
  list: (byStatus: boolean, byProduct: boolean): string => LIST[(byStatus ? 1 : 0) + (byProduct ? 2 : 0)] as string,
} as const;

/** Writes that settle a decision, run inside the decision's hold. */
export interface DecisionWriter {
  approve(version: number, providerId: number): Promise<Candidate | undefined>;
  reject(version: number, reason: string | null): Promise<Candidate | undefined>;
}

function pgError(e: unknown): { code?: string; constraint?: string } {
  const err = e as { code?: unknown; constraint_name?: unknown; constraint?: unknown };
  const constraint = err.constraint_name ?? err.constraint;
  return {
    ...(typeof err.code === 'string' ? { code: err.code } : {}),
    ...(typeof constraint === 'string' ? { constraint } : {}),
  };
}

/** The candidates table, and the only code that sends SQL about it. */
export class CandidateRepository {
  private readonly run: <R = Candidate>(text: string, params: Param[]) => Promise<R[]>;
  /** Candidates this process is deciding on right now. */
  private readonly deciding = new Set<string>();

  constructor(private readonly db: Database) {
    const driver = db.driver;
    // Autocommit statements go straight to the driver: on a server as named
    // prepared statements, parsed and planned once per connection.
    this.run =
      driver.kind === 'server'
        ? async <R>(text: string, params: Param[]) => Array.from(await driver.sql.unsafe<R[]>(text, params, { prepare: true }))
        : async <R>(text: string, params: Param[]) => (await driver.pg.query<R>(text, params)).rows;
  }

  async insert(c: NewCandidate): Promise<Candidate> {
    try {
      const [row] = await this.run(INSERT, [
        c.company_name,
        c.contact_email,
        c.phone ?? null,
        c.products,
        c.truck_count,
        c.capacity_tons_per_day,
        c.location ?? null,
      ]);
      return row as Candidate;
    } catch (e) {
      const { code, constraint } = pgError(e);
      // Also what two racing registrations of one address end in: the loser's
      // INSERT meets the unique constraint.
      if (code === '23505' && (constraint === undefined || constraint === EMAIL_UNIQUE)) {
        throw new DuplicateEmailError();
      }
      throw e;
    }
  }

  async findById(id: string): Promise<Candidate | undefined> {
    const [row] = await this.run(BY_ID, [id]);
    return row;
  }

  async list(f: CandidateFilter): Promise<CandidatePage> {
    const params: Param[] = [];
    if (f.status !== undefined) params.push(f.status);
    if (f.product !== undefined) params.push([f.product]);
    params.push(f.limit, f.offset);
    // Each row also carries `total`, which the response schema leaves out.
    const rows = await this.run<Candidate & { total: number }>(STATEMENTS.list(f.status !== undefined, f.product !== undefined), params);
    const first = rows[0];
    return { candidates: first && first.candidate_id !== null ? rows : [], total: first?.total ?? 0 };
  }

  /**
   * Runs `fn` while nobody else may decide on candidate `id`, handing it the
   * candidate as it stands under that hold (undefined when there is none).
   * Throws ConcurrentModificationError at once when someone else holds it.
   *
   * Why a hold rather than only the version check: approving calls billing
   * before writing, so two approvals that both read version n would both
   * create a provider and only then would one fail its UPDATE. The hold makes
   * the decision (billing call and write) happen once.
   *
   * - Within this process: a set of ids. It costs nothing, lets 100 racing
   *   requests fail fast without taking 100 connections, and is the whole
   *   answer on the embedded database, which one process owns (data-directory
   *   lock). There no transaction is held across the billing call: PGlite is a
   *   single session whose transaction() blocks every other query.
   * - On a server, for other replicas: the row is locked with
   *   SELECT ... FOR UPDATE NOWAIT in a transaction that also does the write.
   *   A row lock, unlike an advisory lock, also stops writers that do not
   *   cooperate (the Python service during a migration) and is released by
   *   PostgreSQL if this process dies mid-decision.
   */
  async decide<T>(id: string, fn: (current: Candidate | undefined, write: DecisionWriter) => Promise<T>): Promise<T> {
    if (this.deciding.has(id)) throw new ConcurrentModificationError(`candidate ${id} is being decided by another request`);
    this.deciding.add(id);
    try {
      if (this.db.kind === 'embedded') return await fn(await this.findById(id), writer(this.db, id));
      return await this.db.transaction(async (tx) => {
        let current: Candidate | undefined;
        try {
          [current] = await tx.query<Candidate>(BY_ID_LOCKED, [id]);
        } catch (e) {
          if (pgError(e).code === '55P03') {
            throw new ConcurrentModificationError(`candidate ${id} is being decided by another process`);
          }
          throw e;
        }
        return fn(current, writer(tx, id));
      });
    } finally {
      this.deciding.delete(id);
    }
  }
}

function writer(q: Queryable, id: string): DecisionWriter {
  return {
    approve: async (version, providerId) => (await q.query<Candidate>(APPROVE, [id, version, providerId]))[0],
    reject: async (version, reason) => (await q.query<Candidate>(REJECT, [id, version, reason]))[0],
  };
}
