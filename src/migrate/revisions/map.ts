import { ResolutionError, ScriptError } from '../errors.js';

/** What the graph needs of a revision; the script layer adds the code. */
export interface RevisionInfo {
  readonly id: string;
  readonly downRevisions: readonly string[];
  readonly message: string;
  readonly branchLabels: readonly string[];
  readonly createDate?: string | undefined;
  readonly description?: string | undefined;
  readonly path?: string | undefined;
}

const byIdOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The revision graph, pure: no files, no database. Built once from the
 * loaded scripts; every structural fault (duplicate id, missing down
 * revision, cycle) is reported here, at load, naming the culprits.
 */
export class RevisionMap {
  private readonly revs = new Map<string, RevisionInfo>();
  private readonly kids = new Map<string, string[]>();
  readonly heads: readonly string[];
  readonly bases: readonly string[];

  constructor(revisions: readonly RevisionInfo[]) {
    const problems: string[] = [];
    for (const r of revisions) {
      const prior = this.revs.get(r.id);
      if (prior) problems.push(`revision ${r.id} is defined twice (${prior.path ?? '?'} and ${r.path ?? '?'})`);
      else this.revs.set(r.id, r);
      this.kids.set(r.id, []);
    }
    for (const r of this.revs.values()) {
      for (const d of r.downRevisions) {
        const kids = this.kids.get(d);
        if (kids) kids.push(r.id);
        else problems.push(`revision ${r.id} names down revision ${d}, which no script defines`);
      }
    }
    if (problems.length === 0) {
      const cycle = this.findCycle();
      if (cycle) problems.push(`revisions form a cycle: ${cycle.join(' -> ')}`);
    }
    if (problems.length > 0) throw new ScriptError(problems.join('; '));
    for (const k of this.kids.values()) k.sort(byIdOrder);
    this.heads = [...this.revs.keys()].filter((id) => this.kids.get(id)!.length === 0).sort(byIdOrder);
    this.bases = [...this.revs.values()].filter((r) => r.downRevisions.length === 0).map((r) => r.id).sort(byIdOrder);
  }

  private findCycle(): string[] | undefined {
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (id: string): string[] | undefined => {
      const s = state.get(id);
      if (s === 'done') return undefined;
      if (s === 'open') return [...stack.slice(stack.indexOf(id)), id];
      state.set(id, 'open');
      stack.push(id);
      for (const d of this.revs.get(id)!.downRevisions) {
        const c = visit(d);
        if (c) return c;
      }
      stack.pop();
      state.set(id, 'done');
      return undefined;
    };
    for (const id of this.revs.keys()) {
      const c = visit(id);
      if (c) return c.reverse();
    }
    return undefined;
  }

  get size(): number {
    return this.revs.size;
  }

  has(id: string): boolean {
    return this.revs.has(id);
  }

  get(id: string): RevisionInfo {
    const r = this.revs.get(id);
    if (!r) throw new ResolutionError(`no such revision: ${id}`);
    return r;
  }

  childrenOf(id: string): readonly string[] {
    return this.kids.get(id) ?? [];
  }

  /** Every revision, parents before children, ties by id: the order `history` reverses. */
  all(): RevisionInfo[] {
    return this.topo(new Set(this.revs.keys())).map((id) => this.revs.get(id)!);
  }

  /** A full id, or a unique prefix of one, or a branch label. */
  resolveId(spec: string): string {
    if (this.revs.has(spec)) return spec;
    const labelled = [...this.revs.values()].filter((r) => r.branchLabels.includes(spec)).map((r) => r.id);
    if (labelled.length === 1) return labelled[0]!;
    const matches = [...this.revs.keys()].filter((id) => id.startsWith(spec)).sort(byIdOrder);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new ResolutionError(`revision '${spec}' is ambiguous: it could be ${matches.join(', ')}`);
    }
    const known = [...this.revs.keys()].sort(byIdOrder);
    throw new ResolutionError(
      `no revision '${spec}'` + (known.length ? `; known revisions: ${known.join(', ')}` : '; the versions folder is empty'),
    );
  }

  /** The ids given and all that they stand on. */
  closure(ids: Iterable<string>): Set<string> {
    const seen = new Set<string>();
    const todo = [...ids];
    while (todo.length) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      todo.push(...this.get(id).downRevisions);
    }
    return seen;
  }

  /** The members of `set` that no other member stands on. */
  headsOf(set: ReadonlySet<string>): string[] {
    return [...set].filter((id) => !this.childrenOf(id).some((c) => set.has(c))).sort(byIdOrder);
  }

  /** A subset in dependency order (parents first), ties broken by id so plans are stable. */
  topo(set: ReadonlySet<string>): string[] {
    const out: string[] = [];
    const placed = new Set<string>();
    const waiting = new Map<string, number>();
    for (const id of set) waiting.set(id, this.get(id).downRevisions.filter((d) => set.has(d)).length);
    let ready = [...waiting].filter(([, n]) => n === 0).map(([id]) => id).sort(byIdOrder);
    while (ready.length) {
      const id = ready.shift()!;
      out.push(id);
      placed.add(id);
      const next: string[] = [];
      for (const c of this.childrenOf(id)) {
        if (!set.has(c)) continue;
        const n = waiting.get(c)! - 1;
        waiting.set(c, n);
        if (n === 0) next.push(c);
      }
      ready = [...ready, ...next].sort(byIdOrder);
    }
    return out;
  }

  /** Revisions with more than one child. */
  branchPoints(): string[] {
    return [...this.revs.keys()].filter((id) => this.childrenOf(id).length > 1).sort(byIdOrder);
  }
}
