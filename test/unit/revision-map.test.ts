import { describe, expect, it } from 'vitest';
import { ResolutionError, ScriptError } from '../../src/migrate/errors.js';
import { RevisionMap, type RevisionInfo } from '../../src/migrate/revisions/map.js';
import { downgradePlan, upgradePlan } from '../../src/migrate/revisions/plan.js';
import { resolveRange, resolveTarget } from '../../src/migrate/revisions/targets.js';

const rev = (id: string, ...down: string[]): RevisionInfo => ({ id, downRevisions: down, message: `m ${id}`, branchLabels: [] });
const linear = new RevisionMap([rev('000_initial_schema'), rev('001_add_version_column', '000_initial_schema'), rev('002_add_rejection_reason', '001_add_version_column')]);
// a -> b -> (c1, c2) -> d (merge)
const branched = new RevisionMap([rev('a'), rev('b', 'a'), rev('c1', 'b'), rev('c2', 'b'), rev('d', 'c1', 'c2')]);
const twoHeads = new RevisionMap([rev('a'), rev('b', 'a'), rev('x1', 'b'), rev('y1', 'b')]);

describe('RevisionMap', () => {
  it('finds heads and bases', () => {
    expect(linear.heads).toEqual(['002_add_rejection_reason']);
    expect(linear.bases).toEqual(['000_initial_schema']);
    expect(twoHeads.heads).toEqual(['x1', 'y1']);
    expect(branched.branchPoints()).toEqual(['b']);
  });

  it('orders parents before children', () => {
    expect(branched.all().map((r) => r.id)).toEqual(['a', 'b', 'c1', 'c2', 'd']);
  });

  it('reports duplicate ids, missing down revisions and cycles at load', () => {
    expect(() => new RevisionMap([rev('a'), { ...rev('a'), path: 'x.ts' }])).toThrow(/defined twice/);
    expect(() => new RevisionMap([rev('a', 'ghost')])).toThrow(/names down revision ghost, which no script defines/);
    expect(() => new RevisionMap([rev('a', 'c'), rev('b', 'a'), rev('c', 'b')])).toThrow(ScriptError);
    expect(() => new RevisionMap([rev('a', 'c'), rev('b', 'a'), rev('c', 'b')])).toThrow(/cycle: .*->/);
  });

  it('resolves ids, unique prefixes, and lists candidates when ambiguous or unknown', () => {
    expect(linear.resolveId('001')).toBe('001_add_version_column');
    expect(() => linear.resolveId('00')).toThrow(/ambiguous: it could be 000_initial_schema, 001_add_version_column, 002_add_rejection_reason/);
    expect(() => linear.resolveId('999')).toThrow(/no revision '999'; known revisions: 000_initial_schema/);
  });
});

describe('resolveTarget', () => {
  const cur = ['001_add_version_column'];
  it.each([
    ['head', [], ['002_add_rejection_reason']],
    ['heads', [], ['002_add_rejection_reason']],
    ['base', cur, []],
    ['+1', cur, ['002_add_rejection_reason']],
    ['-1', cur, ['000_initial_schema']],
    ['-2', cur, []],
    ['+1', [], ['000_initial_schema']],
    ['000+2', [], ['002_add_rejection_reason']],
    ['head-2', [], ['000_initial_schema']],
    ['002-1', [], ['001_add_version_column']],
    ['current', cur, cur],
  ])('%s from %j', (spec, current, expected) => {
    expect(resolveTarget(linear, spec, current)).toEqual(expected);
  });

  it('refuses to go past either end or through a branch', () => {
    expect(() => resolveTarget(linear, '-3', ['001_add_version_column'])).toThrow(/below base \(only 2 steps available\)/);
    expect(() => resolveTarget(linear, '+2', ['001_add_version_column'])).toThrow(/past the top/);
    expect(() => resolveTarget(branched, 'b+1', [])).toThrow(/branches into c1, c2/);
    expect(() => resolveTarget(branched, 'd-1', [])).toThrow(/merges c1, c2/);
    expect(() => resolveTarget(twoHeads, 'head', [])).toThrow(/several heads \(x1, y1\)/);
    expect(() => resolveTarget(twoHeads, '+1', ['x1', 'y1'])).toThrow(ResolutionError);
  });
});

describe('plans', () => {
  it('upgrades from base to head in order, replacing the head each step', () => {
    const steps = upgradePlan(linear, [], ['002_add_rejection_reason']);
    expect(steps.map((s) => [s.revision, s.from, s.to])).toEqual([
      ['000_initial_schema', [], ['000_initial_schema']],
      ['001_add_version_column', ['000_initial_schema'], ['001_add_version_column']],
      ['002_add_rejection_reason', ['001_add_version_column'], ['002_add_rejection_reason']],
    ]);
  });

  it('is empty when the target is reached, and refuses a target below it (as Alembic does)', () => {
    expect(upgradePlan(linear, ['002_add_rejection_reason'], ['002_add_rejection_reason'])).toEqual([]);
    expect(() => upgradePlan(linear, ['002_add_rejection_reason'], ['001_add_version_column'])).toThrow(
      /001_add_version_column is below the current revision \(002_add_rejection_reason\): not an upgrade target; use downgrade/,
    );
  });

  it('downgrades in reverse and refuses a target that is not applied', () => {
    expect(downgradePlan(linear, ['002_add_rejection_reason'], []).map((s) => s.revision)).toEqual([
      '002_add_rejection_reason',
      '001_add_version_column',
      '000_initial_schema',
    ]);
    expect(() => downgradePlan(linear, ['000_initial_schema'], ['002_add_rejection_reason'])).toThrow(/not applied/);
  });

  it('tracks several heads through a branch and a merge', () => {
    const up = upgradePlan(branched, [], ['d']);
    expect(up.map((s) => [s.revision, s.to])).toEqual([
      ['a', ['a']],
      ['b', ['b']],
      ['c1', ['c1']],
      ['c2', ['c1', 'c2']],
      ['d', ['d']],
    ]);
    const down = downgradePlan(branched, ['d'], ['b']);
    expect(down.map((s) => [s.revision, s.to])).toEqual([
      ['d', ['c1', 'c2']],
      ['c2', ['c1']],
      ['c1', ['b']],
    ]);
  });
});

describe('resolveRange', () => {
  it('lists newest first within bounds', () => {
    expect(resolveRange(linear, undefined, [])).toEqual(['002_add_rejection_reason', '001_add_version_column', '000_initial_schema']);
    expect(resolveRange(linear, '001:', [])).toEqual(['002_add_rejection_reason', '001_add_version_column']);
    expect(resolveRange(linear, ':001', [])).toEqual(['001_add_version_column', '000_initial_schema']);
    expect(() => resolveRange(linear, '001', [])).toThrow(/<lower>:<upper>/);
  });
});
