import { randomBytes } from 'node:crypto';
import { literal } from '../autogen/render.js';
import { MAX_ID_LENGTH } from './loader.js';

export interface NewRevision {
  id: string;
  downRevisions: readonly string[];
  message: string;
  createDate: string;
  /** Import specifier of the engine's types, relative to the new file. */
  typesFrom: string;
  /** Statements, already indented for a method body. */
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

/**
 * The template a project gets when its migrations folder has no
 * `script.ts.tmpl` of its own (Alembic's script.py.mako). `{{name}}` marks
 * are replaced; the bodies arrive indented for a method.
 */
export const DEFAULT_TEMPLATE = `import type { Operations, RevisionModule } from {{typesImport}};

/**
 * {{docMessage}}
 *
 * Keep this module self-contained (type imports only): it records the schema
 * as it was at this revision, whatever the model says later.
 */
export default {
  revision: {{revision}},
  downRevision: {{downRevision}},
  message: {{message}},
  createDate: {{createDate}},

  async upgrade(op: Operations) {
{{upgrade}}
  },

  async downgrade(op: Operations) {
{{downgrade}}
  },
} satisfies RevisionModule;
`;

const js = (s: string): string => literal(s);
const EMPTY_BODY = "    // await op.addColumn('table', 'column', { type: 'text' });";

export function renderRevision(r: NewRevision, template: string = DEFAULT_TEMPLATE): string {
  const down =
    r.downRevisions.length === 0 ? 'null' : r.downRevisions.length === 1 ? js(r.downRevisions[0]!) : `[${r.downRevisions.map(js).join(', ')}]`;
  const values: Record<string, string> = {
    typesImport: js(r.typesFrom),
    docMessage: r.message.replace(/\*\//g, '*\\/'),
    revision: js(r.id),
    downRevision: down,
    message: js(r.message),
    createDate: js(r.createDate),
    upgrade: r.upgradeBody ?? EMPTY_BODY,
    downgrade: r.downgradeBody ?? EMPTY_BODY,
  };
  return template.replace(/\{\{(\w+)\}\}/g, (mark, name: string) => values[name] ?? mark);
}
