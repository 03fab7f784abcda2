import { ResolutionError } from '../errors.js';
import type { RevisionMap } from './map.js';
import type { Heads } from './targets.js';

/** One revision applied or undone, with the version-table heads before and after it. */
export interface Step {
  readonly revision: string;
  readonly direction: 'upgrade' | 'downgrade';
  readonly from: Heads;
  readonly to: Heads;
}

/**
 * The revisions between the current heads and the target, in the order to
 * run them. Pure: the same graph and heads always give the same plan.
 */
export function upgradePlan(map: RevisionMap, current: Heads, target: Heads): Step[] {
  const applied = map.closure(current);
  const wanted = map.closure(target);
  const missing = [...target].filter((t) => !applied.has(t));
  if (missing.length === 0) {
    const below = target.filter((t) => !current.includes(t));
    if (below.length > 0) {
      throw new ResolutionError(
        `${below.join(', ')} is below the current revision (${current.join(', ')}): not an upgrade target; use downgrade`,
      );
    }
    return [];
  }
  const todo = new Set([...wanted].filter((id) => !applied.has(id)));
  const steps: Step[] = [];
  for (const revision of map.topo(todo)) {
    const from = map.headsOf(applied);
    applied.add(revision);
    steps.push({ revision, direction: 'upgrade', from, to: map.headsOf(applied) });
  }
  return steps;
}

export function downgradePlan(map: RevisionMap, current: Heads, target: Heads): Step[] {
  const applied = map.closure(current);
  const notApplied = target.filter((t) => !applied.has(t));
  if (notApplied.length > 0) {
    throw new ResolutionError(
      `cannot downgrade to ${notApplied.join(', ')}: it is not applied (current: ${current.length ? current.join(', ') : 'base'}); use upgrade`,
    );
  }
  const keep = map.closure(target);
  const todo = new Set([...applied].filter((id) => !keep.has(id)));
  const steps: Step[] = [];
  for (const revision of map.topo(todo).reverse()) {
    const from = map.headsOf(applied);
    applied.delete(revision);
    steps.push({ revision, direction: 'downgrade', from, to: map.headsOf(applied) });
  }
  return steps;
}
