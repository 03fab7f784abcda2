import { randomUUID } from 'node:crypto';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { QueryTimeoutError, type Database } from '../db/index.js';
import { candidates, decisionClaims } from '../model/index.js';
import { DuplicateEmailError } from './errors.js';
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

// The version check is in the statement that writes; the 001 trigger bumps
// `version` and `updated_at`, so neither is set here.
const D = getTableConfig(decisionClaims).name;
const dcol = (key: keyof typeof decisionClaims.$inferSelect): string => decisionClaims[key].name;

/**
 * Taking the claim is one statement, and so is every other decision write:
 * no transaction spans two statements, so a connection that dies can only
 * fail a statement, never leave a transaction for the driver to write to
 * after its socket is gone. INSERT ... ON CONFLICT settles racing claimers on
 * the primary key against the latest committed row, whatever the snapshot,
 * on every replica. An expired lease (a process that died mid-decision) may
 * be taken over; a provider id already recorded is kept, and only approving
 * may take over such a claim, since rejecting would orphan that provider.
 * FOR UPDATE re-reads the candidate as last committed, so an approval that
 * settled after this statement's snapshot is seen. Every statement here locks
 * the candidate's row before its claim's, so they cannot deadlock.
 */
const CLAIM = `INSERT INTO ${D} (${dcol('candidateId')}, ${dcol('claim')}, ${dcol('action')}, ${dcol('candidateVersion')}, ${dcol('companyName')}, ${dcol('leaseUntil')})
  SELECT ${col('id')}, $2, $3, ${col('version')}, ${col('companyName')}, clock_timestamp() + $4::int * interval '1 millisecond'
  FROM ${T} WHERE ${col('id')} = $1 AND ${col('version')} = $5 AND ${col('status')} = 'pending' FOR UPDATE
  ON CONFLICT (${dcol('candidateId')}) DO UPDATE SET ${dcol('claim')} = EXCLUDED.${dcol('claim')}, ${dcol('action')} = EXCLUDED.${dcol('action')},
    ${dcol('candidateVersion')} = EXCLUDED.${dcol('candidateVersion')}, ${dcol('claimedAt')} = now(), ${dcol('leaseUntil')} = EXCLUDED.${dcol('leaseUntil')}
  WHERE ${D}.${dcol('leaseUntil')} <= clock_timestamp() AND (EXCLUDED.${dcol('action')} = 'approve' OR ${D}.${dcol('providerId')} IS NULL)
  RETURNING ${dcol('providerId')} AS provider_id`;

const CLAIM_OF = `SELECT ${dcol('providerId')} AS provider_id, ${dcol('action')} AS action FROM ${D} WHERE ${dcol('candidateId')} = $1`;

/**
 * Settles the decision if the claim is still ours and the candidate still at
 * the version read, and drops the claim; otherwise an approval's provider id
 * stays on the claim (for a later approve, or for reconciliation) and its
 * lease ends, so that approve may come at once.
 */
const settle = (status: 'approved' | 'rejected', column: string): string => `WITH mine AS (
    SELECT ${dcol('candidateId')} FROM ${D} WHERE ${dcol('candidateId')} = $1 AND ${dcol('claim')} = $4
  ), done AS (
    UPDATE ${T} SET ${col('status')} = '${status}', ${column} = $3
    WHERE ${col('id')} = $1 AND ${col('version')} = $2 AND ${col('status')} = 'pending' AND EXISTS (SELECT 1 FROM mine)
    RETURNING ${COLUMNS}
  ), dropped AS (
    DELETE FROM ${D} WHERE ${dcol('candidateId')} = $1 AND ${dcol('claim')} = $4 AND EXISTS (SELECT 1 FROM done)
  ), kept AS (
    UPDATE ${D} SET ${dcol('providerId')} = ${status === 'approved' ? '$3' : dcol('providerId')}, ${dcol('leaseUntil')} = clock_timestamp()
    WHERE ${dcol('candidateId')} = $1 AND ${dcol('claim')} = $4 AND NOT EXISTS (SELECT 1 FROM done)
  )
  SELECT * FROM done`;
const APPROVE = settle('approved', col('providerId'));
const REJECT = settle('rejected', col('rejectionReason'));

/** Keeps a provider id that billing returned for the claim (an answer that came too late, or before recording failed). */
const KEEP_PROVIDER = `UPDATE ${D} SET ${dcol('providerId')} = $3, ${dcol('leaseUntil')} = clock_timestamp()
  WHERE ${dcol('candidateId')} = $1 AND ${dcol('claim')} = $2 AND ${dcol('providerId')} IS NULL`;

/** Gives the claim up when no provider came of it, so the candidate may be decided again. */
const RELEASE = `DELETE FROM ${D} WHERE ${dcol('candidateId')} = $1 AND ${dcol('claim')} = $2 AND ${dcol('providerId')} IS NULL`;

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

export type Decision = 'approve' | 'reject';

/** A claim taken on a candidate: its token, and the provider id an earlier approval already got from billing, if any. */
export interface Claim {
  token: string;
  providerId: number | null;
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
  /**
   * `queryTimeoutMs` bounds every statement on a server: one that has no
   * answer by then is cancelled and fails as unavailable, so a hung or
   * unreachable database gives quick 503s instead of requests that hang.
   */
  constructor(db: Database, queryTimeoutMs = 5_000) {
    const driver = db.driver;
    // Autocommit statements go straight to the driver: on a server as named
    // prepared statements, parsed and planned once per connection.
    this.run =
      driver.kind === 'server'
        ? async <R>(text: string, params: Param[]) => {
            const query = driver.sql.unsafe<R[]>(text, params, { prepare: true });
            let timer: NodeJS.Timeout | undefined;
            const late = new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                query.cancel();
                reject(new QueryTimeoutError(queryTimeoutMs));
              }, queryTimeoutMs);
            });
            try {
              return Array.from(await Promise.race([query, late]));
            } finally {
              clearTimeout(timer);
            }
          }
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
   * Claims candidate `id` at `version` for a decision, for `leaseMs` (after
   * which another process may take it over: the holder died). Undefined when
   * the candidate moved on or someone else holds a live claim.
   */
  async claim(id: string, action: Decision, version: number, leaseMs: number): Promise<Claim | undefined> {
    const token = randomUUID();
    const [row] = await this.run<{ provider_id: number | null }>(CLAIM, [id, token, action, Math.ceil(leaseMs), version]);
    return row ? { token, providerId: row.provider_id } : undefined;
  }

  /** Who holds the claim on `id`, to explain a refused one. */
  async claimOf(id: string): Promise<{ providerId: number | null; action: Decision } | undefined> {
    const [row] = await this.run<{ provider_id: number | null; action: Decision }>(CLAIM_OF, [id]);
    return row ? { providerId: row.provider_id, action: row.action } : undefined;
  }

  /** Records the approval under claim and version check; undefined when either no longer holds. */
  async approve(id: string, claim: Claim, version: number, providerId: number): Promise<Candidate | undefined> {
    const [row] = await this.run(APPROVE, [id, version, providerId, claim.token]);
    return row;
  }

  async reject(id: string, claim: Claim, version: number, reason: string | null): Promise<Candidate | undefined> {
    const [row] = await this.run(REJECT, [id, version, reason, claim.token]);
    return row;
  }

  async keepProvider(id: string, claim: Claim, providerId: number): Promise<void> {
    await this.run(KEEP_PROVIDER, [id, claim.token, providerId]);
  }

  async release(id: string, claim: Claim): Promise<void> {
    await this.run(RELEASE, [id, claim.token]);
  }
}
