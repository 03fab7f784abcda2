import { CandidateError } from './errors.js';
import type { Product, Status } from './rules.js';

/**
 * A candidate as it is published: field names are the documented resource's
 * (the Python service's), so a row selected with these aliases is the answer
 * as it stands, with no copying on the hot paths.
 */
export interface Candidate {
  candidate_id: string;
  status: Status;
  company_name: string;
  contact_email: string;
  phone: string | null;
  products: string[];
  truck_count: number;
  capacity_tons_per_day: number;
  location: string | null;
  /** ISO 8601 without zone, as stored (UTC). */
  created_at: string;
  updated_at: string;
  provider_id: number | null;
  version: number;
  rejection_reason: string | null;
}

export interface NewCandidate {
  company_name: string;
  contact_email: string;
  phone?: string | null | undefined;
  products: Product[];
  truck_count: number;
  capacity_tons_per_day: number;
  location?: string | null | undefined;
}

export interface CandidateFilter {
  /** Any string: a value that is not a status matches nothing, as before. */
  status?: string | undefined;
  product?: string | undefined;
  limit: number;
  offset: number;
}

export interface CandidatePage {
  candidates: Candidate[];
  total: number;
}

/**
 * A condition on the candidate's current version (from If-Match); a decision
 * goes ahead only when it holds.
 */
export type VersionCondition = (currentVersion: number) => boolean;

/**
 * Where approved candidates become providers (the billing service). The
 * domain only needs the new provider's id; how it is reached is not its
 * concern.
 */
export interface ProviderRegistry {
  /**
   * Resolves to the new provider's id; rejects with ProviderCreationError.
   * `log` is the caller's (the request's), so retries are logged under its id.
   */
  createProvider(name: string, log?: { warn(obj: object, msg: string): void }): Promise<number>;
  /** The longest one createProvider call may take, late answers included: how long an approval's claim must last. */
  readonly worstCaseMs: number;
}

/**
 * The provider could not be created, or it is not known whether it was; the
 * message says which, fit to show a client.
 */
export class ProviderCreationError extends CandidateError {
  override readonly name = 'ProviderCreationError';
  constructor(
    message: string,
    /**
     * Set when a try went unanswered in time: billing may still create the
     * provider, and this settles with its id if the answer comes late, or
     * with undefined once no answer is awaited any more.
     */
    readonly late?: Promise<number | undefined>,
  ) {
    super(message);
  }
}
