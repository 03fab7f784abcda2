import type { Status } from './rules.js';

/**
 * What can go wrong with a candidate, as the domain sees it. Each is mapped to
 * a status and message once, at the HTTP edge; nothing here knows about HTTP.
 */
export abstract class CandidateError extends Error {}

export class CandidateNotFoundError extends CandidateError {
  override readonly name = 'CandidateNotFoundError';
  constructor(readonly candidateId: string) {
    super(`candidate ${candidateId} not found`);
  }
}

export class CandidateNotPendingError extends CandidateError {
  override readonly name = 'CandidateNotPendingError';
  constructor(readonly status: Exclude<Status, 'pending'>) {
    super(`candidate already ${status}`);
  }
}

export class DuplicateEmailError extends CandidateError {
  override readonly name = 'DuplicateEmailError';
  constructor() {
    super('a candidate with this email already exists');
  }
}

/** Someone else changed the candidate, or is deciding on it right now. */
export class ConcurrentModificationError extends CandidateError {
  override readonly name = 'ConcurrentModificationError';
  constructor(reason: string) {
    super(reason);
  }
}

/** The caller's expected version (If-Match) is not the current one. */
export class StaleVersionError extends CandidateError {
  override readonly name = 'StaleVersionError';
  constructor(readonly currentVersion: number) {
    super(`candidate is at version ${currentVersion}`);
  }
}

/** Billing already created this candidate's provider; only approving may finish the decision now. */
export class ProviderAwaitingRecordError extends CandidateError {
  override readonly name = 'ProviderAwaitingRecordError';
  constructor(readonly providerId: number) {
    super(`provider ${providerId} was created in billing for this candidate and awaits recording`);
  }
}
