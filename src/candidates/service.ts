import {
  CandidateNotFoundError,
  CandidateNotPendingError,
  ConcurrentModificationError,
  StaleVersionError,
} from './errors.js';
import type { CandidateRepository, DecisionWriter } from './repository.js';
import { normalizeEmail, type Status } from './rules.js';
import type { Candidate, CandidateFilter, CandidatePage, NewCandidate, ProviderRegistry, VersionCondition } from './types.js';

/** What the service needs of a logger (pino's shape). */
export interface DomainLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const MODIFIED = 'candidate changed between reading and writing';

/** Registering, reading and deciding on candidates. */
export class CandidateService {
  constructor(
    private readonly repo: CandidateRepository,
    private readonly providers: ProviderRegistry,
  ) {}

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
   * Creates the provider in billing, then records its id. `log` hears of a
   * provider that was created but could not be recorded, which someone must
   * then reconcile by hand.
   */
  approve(id: string, condition: VersionCondition | undefined, log: DomainLogger): Promise<Candidate> {
    return this.decide(id, condition, async (current, write) => {
      const providerId = await this.providers.createProvider(current.company_name, log);
      const orphaned = (err?: unknown): void =>
        log.error({ err, candidate_id: id, provider_id: providerId }, 'provider created in billing but the approval was not recorded');
      let recorded: Candidate | undefined;
      try {
        recorded = await write.approve(current.version, providerId);
      } catch (e) {
        orphaned(e);
        throw e;
      }
      if (!recorded) orphaned();
      return recorded;
    });
  }

  reject(id: string, reason: string | null, condition: VersionCondition | undefined): Promise<Candidate> {
    return this.decide(id, condition, (current, write) => write.reject(current.version, reason));
  }

  /**
   * The rules shared by approving and rejecting, checked under the
   * repository's hold, in the order a client sees them: unknown (404), no
   * longer pending (400), then the caller's If-Match (412), as HTTP wants
   * preconditions weighed only for a request that would otherwise succeed.
   */
  private decide(
    id: string,
    condition: VersionCondition | undefined,
    act: (current: Candidate, write: DecisionWriter) => Promise<Candidate | undefined>,
  ): Promise<Candidate> {
    return this.repo.decide(id, async (current, write) => {
      if (!current) throw new CandidateNotFoundError(id);
      if (current.status !== 'pending') throw new CandidateNotPendingError(current.status as Exclude<Status, 'pending'>);
      if (condition && !condition(current.version)) throw new StaleVersionError(current.version);
      const updated = await act(current, write);
      if (!updated) throw new ConcurrentModificationError(MODIFIED);
      return updated;
    });
  }
}
