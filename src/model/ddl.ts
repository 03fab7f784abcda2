import { candidateColumnComments, candidateRoutines } from './candidates.js';
import * as model from './index.js';

export interface ModelParts {
  /** The module's exports: drizzle-kit picks the tables out of them. */
  tables: Record<string, unknown>;
  /** Column comments per table, keyed by SQL column name. */
  comments: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** SQL that creates the functions and triggers beside the tables. */
  routines: readonly string[];
}

export const MODEL: ModelParts = {
  tables: { ...model },
  comments: { candidates: candidateColumnComments },
  routines: candidateRoutines,
};

/**
 * The SQL that builds the model on an empty database: drizzle-kit renders the
 * tables (it is right about them, and a diff from nothing never prompts), the
 * model adds what Drizzle cannot say. drizzle-kit is a development
 * dependency, loaded only here, only by check and autogenerate.
 */
export async function modelDdl(parts: ModelParts = MODEL): Promise<string[]> {
  const { generateDrizzleJson, generateMigration } = await import('drizzle-kit/api');
  const tables = await generateMigration(generateDrizzleJson({}), generateDrizzleJson(parts.tables));
  const comments = Object.entries(parts.comments).flatMap(([table, cols]) =>
    Object.entries(cols).map(([column, text]) => `COMMENT ON COLUMN "${table}"."${column}" IS '${text.replace(/'/g, "''")}'`),
  );
  return [...tables, ...comments, ...parts.routines];
}
