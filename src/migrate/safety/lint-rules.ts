/**
 * The lint rules, each with why it matters: a statement that holds a lock
 * blocking the application for as long as the table is read or rewritten.
 * Apart from the checks (lint.ts), so the loader can validate a revision's
 * accepted rules without loading the parser.
 */
export const LINT_RULES = {
  'index-not-concurrent': 'CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build',
  'not-null-without-default': 'a NOT NULL column added without a DEFAULT fails on a table with rows (or forces a backfill under lock)',
  'set-not-null': 'SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock (add a CHECK (... IS NOT NULL) NOT VALID, validate it, then set)',
  'column-type-change': 'ALTER COLUMN ... TYPE may rewrite the table and its indexes under an ACCESS EXCLUSIVE lock',
  'constraint-not-valid': 'a CHECK or FOREIGN KEY added without NOT VALID scans the table under lock (add it NOT VALID, then VALIDATE CONSTRAINT)',
  'constraint-builds-index': 'a UNIQUE or PRIMARY KEY constraint builds its index under lock (build it CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX)',
  'not-recordable': 'the revision reads the database to decide what to run, so its statements cannot be checked before it runs',
} as const;

export type LintRule = keyof typeof LINT_RULES;

export const isLintRule = (r: string): r is LintRule => Object.hasOwn(LINT_RULES, r);

