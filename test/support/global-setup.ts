import { execFileSync } from 'node:child_process';
import postgres from 'postgres';
import { SERVER_ADMIN_URL, SERVER_REQUESTED } from './databases.js';

/**
 * Builds dist/ when stale (CLI and service tests run the compiled program, as
 * users do) and says once, up front, whether the server half of the suite runs.
 */
export default async function setup(): Promise<(() => void) | void> {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
  if (process.env.TEST_ENGINES === 'pglite') {
    console.log('[engines] PGlite only (TEST_ENGINES=pglite): server half skipped');
    return;
  }
  if (!SERVER_REQUESTED) {
    const line =
      '[engines] PGlite only: the server half was SKIPPED; set TEST_DATABASE_URL (e.g. ' +
      'postgres://postgres@127.0.0.1:5432/postgres, a user that may create databases) to run it';
    console.log(line);
    // Said again after the results, where a reader of the summary looks.
    return () => console.log(line);
  }
  const sql = postgres(SERVER_ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    const [row] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    console.log(`[engines] PGlite and PostgreSQL ${row?.v} at ${SERVER_ADMIN_URL.replace(/:[^:@/]*@/, ':***@')}`);
  } catch {
    if (process.env.REQUIRE_PG_SERVER === '1') throw new Error(`REQUIRE_PG_SERVER=1 but no PostgreSQL server answers at ${SERVER_ADMIN_URL}`);
    const line =
      `[engines] no PostgreSQL server at ${SERVER_ADMIN_URL}: the server half was SKIPPED; ` +
      'start one or set TEST_DATABASE_URL to run it';
    console.log(line);
    // Said again after the results, where a reader of the summary looks.
    return () => console.log(line);
  } finally {
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}
