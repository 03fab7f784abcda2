import { describe, expect, it } from 'vitest';
import { nextRevisionId, renderRevision, slug } from '../../src/migrate/script/template.js';

describe('revision template', () => {
  it('numbers new revisions the way this project does, within 32 characters', () => {
    expect(slug('Add provider index!')).toBe('add_provider_index');
    const id = nextRevisionId(['000_initial_schema', '002_add_rejection_reason'], 'add a rather long description of the change');
    expect(id.startsWith('003_add_a_rather')).toBe(true);
    expect(id.length).toBeLessThanOrEqual(32);
    expect(nextRevisionId(['ae1027a6acf'], 'x')).toMatch(/^[0-9a-f]{12}$/);
  });

  it('writes a module with the right down revision', () => {
    const text = renderRevision({ id: '003_x', downRevisions: ['002_add_rejection_reason'], message: 'x', createDate: 'now', typesFrom: '../t.js' });
    expect(text).toContain("downRevision: '002_add_rejection_reason'");
    expect(text).toContain('satisfies RevisionModule');
  });
});
