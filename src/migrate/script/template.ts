import { randomBytes } from 'node:crypto';
import { MAX_ID_LENGTH } from './loader.js';

export interface NewRevision {
  id: string;
  downRevisions: readonly string[];
  message: string;
  createDate: string;
  /** Import specifier of the engine's types, relative to the new file. */
  typesFrom: string;
  upgradeBody?: string;
  downgradeBody?: string;
}

/** `Add rejection reason!` → `add_rejection_reason`. */
export function slug(message: string): string {
  return message
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The next id: where every id so far is `NNN_words` (this project's habit,
 * inherited from the Python service) the next number and the message's
 * words; otherwise twelve random hex digits, as Alembic does.
 */
export function nextRevisionId(existing: readonly string[], message: string): string {
  const numbered = existing.map((id) => /^(\d+)_/.exec(id));
  if (existing.length > 0 && numbered.every(Boolean)) {
    const width = numbered[0]![1]!.length;
    const next = Math.max(...numbered.map((m) => Number(m![1]))) + 1;
    const prefix = `${String(next).padStart(width, '0')}_`;
    return (prefix + slug(message)).slice(0, MAX_ID_LENGTH).replace(/_+$/, '');
  }
  return randomBytes(6).toString('hex');
}

const js = (s: string): string => JSON.stringify(s);

export function renderRevision(r: NewRevision): string {
  const down =
    r.downRevisions.length === 0 ? 'null' : r.downRevisions.length === 1 ? js(r.downRevisions[0]!) : `[${r.downRevisions.map(js).join(', ')}]`;
  const indent = (body: string): string => body.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n');
  return `import type { Operations, RevisionModule } from ${js(r.typesFrom)};

/**
 * ${r.message.replace(/\*\//g, '*\\/')}
 *
 * Keep this module self-contained (type imports only): it records the schema
 * as it was at this revision, whatever the model says later.
 */
export default {
  revision: ${js(r.id)},
  downRevision: ${down},
  message: ${js(r.message)},
  createDate: ${js(r.createDate)},

  async upgrade(op: Operations) {
${indent(r.upgradeBody ?? "// await op.execute('ALTER TABLE ...');")}
  },

  async downgrade(op: Operations) {
${indent(r.downgradeBody ?? "// await op.execute('ALTER TABLE ...');")}
  },
} satisfies RevisionModule;
`;
}
