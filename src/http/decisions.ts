import type { Issue } from './validation.js';

/**
 * An approve whose body asks for the opposite: the Gan Shmuel frontend's
 * Reject button sends `{"approved": false, "rejection_reason": ...}` to
 * /approve, which the Python service approved. Refused with a 422 that says
 * where a rejection goes, and nothing changes.
 */
export class ContradictoryDecisionError extends Error {
  override readonly name = 'ContradictoryDecisionError';
  constructor(readonly issues: Issue[]) {
    super('an approve request that asks for a rejection');
  }
}

const TO_REJECT =
  'this endpoint only approves: to reject the candidate, POST /candidates/{candidate_id}/reject with {"reason": "..."}';

/** Throws when an approve's body says not to approve; any other body, or none, is ignored as before. */
export function refuseContradictoryApproval(body: unknown): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const fields = body as Record<string, unknown>;
  const issues: Issue[] = [];
  if (fields.approved === false) {
    issues.push({ type: 'value_error', loc: ['body', 'approved'], msg: `Value error, ${TO_REJECT}`, input: false });
  }
  if (fields.rejection_reason !== undefined && fields.rejection_reason !== null) {
    issues.push({ type: 'value_error', loc: ['body', 'rejection_reason'], msg: `Value error, ${TO_REJECT}`, input: fields.rejection_reason });
  }
  if (issues.length) throw new ContradictoryDecisionError(issues);
}
