import { checkSecrets } from './auth/credentials.js';
import { loadConfig } from './config/index.js';
import { openDatabase, type Database } from './db/index.js';
import { buildApp } from './http/app.js';
import { createLogger, logDestination } from './http/logger.js';
import { DEPLOY_POLICY } from './migrate/index.js';
import { migratorFor } from './migrations.js';

/**
 * The service: configuration, database, schema, then the HTTP listener.
 * A start-up failure is one line on stderr and exit status 1: whoever reads
 * it is at a terminal or in a container log, not in a debugger.
 */
async function start(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, logDestination(config.logFormat));
  for (const warning of checkSecrets(config)) log.warn(warning);

  // A short connect timeout: while the database is unreachable, API calls
  // answer 503 in a second or two instead of hanging.
  const db: Database = await openDatabase(config.database, { connectTimeout: 2 });
  // Migrating on start is a deploy against a live database: the CLI's timeouts and retries.
  const migrator = await migratorFor(db, (e) => {
    if (e.type === 'step-done') log.info({ revision: e.step.revision, ms: Math.round(e.ms) }, 'migration step applied');
    if (e.type === 'waiting-for-lock') log.info('waiting for another migrator to finish');
    if (e.type === 'resume') log.warn({ revision: e.step.revision, done: e.done }, 'resuming an interrupted migration step');
    if (e.type === 'progress' || e.type === 'warning') log.info({ revision: e.revision }, e.message);
    if (e.type === 'retry') log.warn({ revision: e.revision, attempt: e.attempt, of: e.of, waitMs: e.waitMs }, `lock timeout: ${e.reason}`);
  }, DEPLOY_POLICY);
  // The embedded database belongs to this process alone, so it is brought to
  // head here; a server is shared by replicas and migrated on purpose
  // (MIGRATE_ON_START or the migrate CLI), and /health says 503 until then.
  if (db.kind === 'embedded' || config.migrateOnStart) {
    await migrator.upgrade('heads');
  }
  const current = await migrator.current();
  log.info({ database: db.description, schema: current, head: migrator.heads() }, 'database ready');

  const app = await buildApp({ config, db, schema: migrator, logger: log });
  await app.listen({ host: config.host, port: config.port });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'draining in-flight requests; send the signal again to exit at once');
    app
      .close()
      .then(() => db.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ err: e }, 'error while shutting down');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

start().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`provider-registration-service: ${message.split('\n')[0]}\n`);
  process.exit(1);
});
