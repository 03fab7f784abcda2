import {
  CandidateNotFoundError,
  CandidateNotPendingError,
  ConcurrentModificationError,
  ProviderAwaitingRecordError,
  StaleVersionError,
} from './errors.js';
import type { CandidateRepository, Claim, Decision } from './repository.js';
import { normalizeEmail, type Status } from './rules.js';
import {
  ProviderCreationError,
  type Candidate,
  type CandidateFilter,
  type CandidatePage,
  type NewCandidate,
  type ProviderRegistry,
  type VersionCondition,
} from './types.js';

/** What the service needs of a logger (pino's shape). */
export interface DomainLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CandidateServiceOptions {
  /** How often, and for how long, a provider id that could not be written is written again (the database was away). */
  persistRetryMs?: number;
  persistForMs?: number;
}

const MODIFIED = 'candidate changed between reading and writing';
/** A rejection is two statements; its claim only has to outlive those. */
const REJECT_LEASE_MS = 10_000;

/** Registering, reading and deciding on candidates. */
export class CandidateService {
  private readonly persistRetryMs: number;
  private readonly persistForMs: number;
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(
    private readonly repo: CandidateRepository,
    private readonly providers: ProviderRegistry,
    private readonly log: DomainLogger,
    o: CandidateServiceOptions = {},
  ) {
    this.persistRetryMs = o.persistRetryMs ?? 2_000;
    this.persistForMs = o.persistForMs ?? 10 * 60_000;
  }

  register(input: NewCandidate): Promise<Candidate> {
    return this.repo.insert({ ...input, contact_email: normalizeEmail(input.contact_email) });
  }

  async get(id: string): Promise<Candidate> {
    const found = await this.repo.findById(id);
    if (!found) throw new CandidateNotFoundError(id);
    return found;
  }

  list(filter: CandidateFilter): Promise<CandidatePage> {
    return this.repo.list(filter);
  }

  /**
   * Claims the candidate, creates its provider in billing with no database
   * connection held, then records the provider's id under the claim and the
   * version read. A provider id an earlier approval got but could not record
   * is used instead of calling billing again.
   */
  /** `log` is the request's, so what this approval logs carries its request id. */
  async approve(id: string, condition: VersionCondition | undefined, log: DomainLogger = this.log): Promise<Candidate> {
    const current = await this.pendingCandidate(id, condition);
    const claim = await this.claim(current, 'approve', this.providers.worstCaseMs);
    let providerId = claim.providerId;
    if (providerId === null) {
      try {
        providerId = await this.providers.createProvider(current.company_name, log);
      } catch (e) {
        await this.afterFailedCall(id, claim, e);
        throw e;
      }
    } else {
      log.info({ candidate_id: id, provider_id: providerId }, 'finishing an approval with the provider billing created earlier');
    }
    let recorded: Candidate | undefined;
    try {
      recorded = await this.repo.approve(id, claim, current.version, providerId);
    } catch (e) {
      this.persistLater(id, claim, current.version, providerId, e);
      throw e;
    }
    if (!recorded) {
      log.error(
        { candidate_id: id, provider_id: providerId },
        'provider created in billing but the candidate changed meanwhile: its id is kept in decision_claims for the next approve',
      );
      throw new ConcurrentModificationError(MODIFIED);
    }
    return recorded;
  }

  async reject(id: string, reason: string | null, condition: VersionCondition | undefined): Promise<Candidate> {
    const current = await this.pendingCandidate(id, condition);
    const claim = await this.claim(current, 'reject', REJECT_LEASE_MS);
    const recorded = await this.repo.reject(id, claim, current.version, reason);
    if (!recorded) throw new ConcurrentModificationError(MODIFIED);
    return recorded;
  }

  /** Stops the retries of unwritten provider ids (their ids are in the log). */
  close(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }

  /**
   * The rules shared by approving and rejecting, in the order a client sees
   * them: unknown (404), no longer pending (400), then the caller's If-Match
   * (412), as HTTP wants preconditions weighed only for a request that would
   * otherwise succeed.
   */
  private async pendingCandidate(id: string, condition: VersionCondition | undefined): Promise<Candidate> {
    const current = await this.repo.findById(id);
    if (!current) throw new CandidateNotFoundError(id);
    if (current.status !== 'pending') throw new CandidateNotPendingError(current.status as Exclude<Status, 'pending'>);
    if (condition && !condition(current.version)) throw new StaleVersionError(current.version);
    return current;
  }

  private async claim(current: Candidate, action: Decision, leaseMs: number): Promise<Claim> {
    const claim = await this.repo.claim(current.candidate_id, action, current.version, leaseMs);
    if (claim) return claim;
    const holder = await this.repo.claimOf(current.candidate_id);
    if (action === 'reject' && holder?.providerId != null) throw new ProviderAwaitingRecordError(holder.providerId);
    throw new ConcurrentModificationError(`candidate ${current.candidate_id} is being decided by another request`);
  }

  /**
   * A failed call gives the claim up. One that timed out may still have
   * created the provider: the claim is kept until billing's late answer
   * arrives (its id is then kept for the next approve) or stops being awaited.
   */
  private async afterFailedCall(id: string, claim: Claim, e: unknown): Promise<void> {
    const giveUp = (): Promise<void> =>
      this.repo.release(id, claim).catch((err: unknown) => this.log.warn({ err, candidate_id: id }, 'could not release the approval claim; its lease ends it'));
    if (!(e instanceof ProviderCreationError) || e.late === undefined) return giveUp();
    void e.late.then(
      (lateId) => {
        if (lateId === undefined) return giveUp();
        this.log.warn({ candidate_id: id, provider_id: lateId }, 'billing created the provider after the approval timed out: kept for the next approve');
        this.repo.keepProvider(id, claim, lateId).catch((err: unknown) =>
          this.log.error({ err, candidate_id: id, provider_id: lateId }, 'provider created in billing but its id could not be kept: reconcile by hand'),
        );
      },
      () => giveUp(),
    );
  }

  /**
   * The provider exists but the database did not take its id (it was away):
   * the id is logged now and written again until it is recorded, so it is
   * neither lost nor created twice by the next approve.
   */
  private persistLater(id: string, claim: Claim, version: number, providerId: number, first: unknown): void {
    this.log.error({ err: first, candidate_id: id, provider_id: providerId }, 'provider created in billing but not recorded yet: retrying');
    const until = Date.now() + this.persistForMs;
    const attempt = (): void => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        this.repo.approve(id, claim, version, providerId).then(
          (row) => {
            if (row) this.log.info({ candidate_id: id, provider_id: providerId }, 'provider id recorded on retry');
            else this.log.warn({ candidate_id: id, provider_id: providerId }, 'provider id kept in decision_claims on retry (candidate changed)');
          },
          (err: unknown) => {
            if (Date.now() < until) return attempt();
            this.log.error({ err, candidate_id: id, provider_id: providerId }, 'provider created in billing but never recorded: reconcile by hand');
          },
        );
      }, this.persistRetryMs);
      timer.unref();
      this.pending.add(timer);
    };
    attempt();
  }
}
