import { ResolutionError } from '../errors.js';
import type { RevisionMap } from './map.js';

/**
 * A target is the set of heads the database should end at; the empty set is
 * `base`. Grammar (Alembic's): `base`, `head`, `heads`, `current`, `+N`,
 * `-N` (relative to the current revision), `<rev>`, `<rev>+N`, `<rev>-N`,
 * where `<rev>` is an id, a unique prefix of one, a branch label or `head`.
 */
export type Heads = readonly string[];

const RELATIVE = /^([+-])(\d+)$/;
const ANCHORED = /^(.+?)([+-])(\d+)$/;

function single(map: RevisionMap, heads: Heads, what: string): string | undefined {
  if (heads.length > 1) {
    throw new ResolutionError(`${what} is ambiguous with several heads (${heads.join(', ')}); name a revision instead`);
  }
  return heads[0];
}

/** Walks `n` steps from `from` (undefined = base); only through unbranched stretches. */
export function walk(map: RevisionMap, from: string | undefined, delta: number, spec: string): Heads {
  let at = from;
  for (let i = 0; i < Math.abs(delta); i++) {
    if (delta > 0) {
      const next = at === undefined ? map.bases : map.childrenOf(at);
      if (next.length === 0) {
        throw new ResolutionError(
          `'${spec}' goes past the top: ${at ?? 'base'} has no revision above it (only ${i} step${i === 1 ? '' : 's'} available)`,
        );
      }
      if (next.length > 1) {
        throw new ResolutionError(`'${spec}' is ambiguous: ${at ?? 'base'} branches into ${next.join(', ')}; name one`);
      }
      at = next[0];
    } else {
      if (at === undefined) {
        throw new ResolutionError(`'${spec}' goes below base (only ${i} step${i === 1 ? '' : 's'} available)`);
      }
      const down = map.get(at).downRevisions;
      if (down.length > 1) {
        throw new ResolutionError(`'${spec}' is ambiguous: ${at} merges ${down.join(', ')}; name one`);
      }
      at = down[0];
    }
  }
  return at === undefined ? [] : [at];
}

/** `<rev>@head` (or `<label>@head`): the one head whose history holds `rev`. */
function branchHead(map: RevisionMap, rev: string, spec: string): string {
  const heads = map.heads.filter((h) => map.closure([h]).has(rev));
  if (heads.length !== 1) {
    throw new ResolutionError(`'${spec}' is ambiguous: ${rev} leads to several heads (${heads.join(', ')}); name one of them`);
  }
  return heads[0]!;
}

function named(map: RevisionMap, spec: string, current: Heads): Heads {
  switch (spec) {
    case 'base':
      return [];
    case 'heads':
      return map.heads;
    case 'head': {
      if (map.heads.length > 1) {
        throw new ResolutionError(
          `there are several heads (${map.heads.join(', ')}): name one (e.g. ${map.heads[0]}@head), use 'heads', or join them with 'merge -m "<message>" heads'`,
        );
      }
      return map.heads;
    }
    case 'current':
      return current;
    default: {
      const at = /^(.+)@head$/.exec(spec);
      if (at) return [branchHead(map, map.resolveId(at[1]!), spec)];
      return [map.resolveId(spec)];
    }
  }
}

export function resolveTarget(map: RevisionMap, spec: string, current: Heads): Heads {
  const s = spec.trim();
  if (s === '') throw new ResolutionError('empty revision');
  const rel = RELATIVE.exec(s);
  if (rel) {
    const n = Number(rel[2]) * (rel[1] === '-' ? -1 : 1);
    return walk(map, single(map, current, `'${s}' (relative to current)`), n, s);
  }
  if (!map.has(s)) {
    const anchored = ANCHORED.exec(s);
    if (anchored) {
      const base = named(map, anchored[1]!, current);
      const n = Number(anchored[3]) * (anchored[2] === '-' ? -1 : 1);
      return walk(map, single(map, base, `'${s}'`), n, s);
    }
  }
  return named(map, s, current);
}

/** `history -r lower:upper`; either side may be empty (base, heads). */
export function resolveRange(map: RevisionMap, spec: string | undefined, current: Heads): string[] {
  let lower: Heads = [];
  let upper: Heads = map.heads;
  if (spec !== undefined) {
    const parts = spec.split(':');
    if (parts.length !== 2) throw new ResolutionError(`range '${spec}' must be <lower>:<upper> (either side may be empty)`);
    if (parts[0]) lower = resolveTarget(map, parts[0], current);
    if (parts[1]) upper = resolveTarget(map, parts[1], current);
  }
  // Between the bounds: at or below `upper`, and at or above `lower` (its descendants only, not a sibling branch).
  const chosen = new Set([...map.closure(upper)].filter((id) => lower.length === 0 || lower.some((l) => map.closure([id]).has(l))));
  return map.topo(chosen).reverse();
}
