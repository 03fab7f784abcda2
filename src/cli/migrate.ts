#!/usr/bin/env node
import { runCli, secondsToMs } from '../migrate/cli/index.js';
import { errorText } from '../migrate/errors.js';
import { SERVICE_CLI } from './environment.js';

/**
 * `npm run migrate -- <command>`: the engine's CLI bound to this service
 * (./environment.ts), as a process.
 */
// A reader that stops early (`migrate history | head -1`) is not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

/** MIGRATE_LOCK_WAIT / MIGRATE_LOCK_TIMEOUT (seconds) over the CLI's defaults; a bad value ends here with one line. */
function policyFromEnv(): { lockWaitMs?: number; lockTimeoutMs?: number } | undefined {
  try {
    const wait = process.env.MIGRATE_LOCK_WAIT;
    const timeout = process.env.MIGRATE_LOCK_TIMEOUT;
    return {
      ...(wait ? { lockWaitMs: secondsToMs(wait, 'MIGRATE_LOCK_WAIT') } : {}),
      ...(timeout ? { lockTimeoutMs: secondsToMs(timeout, 'MIGRATE_LOCK_TIMEOUT') } : {}),
    };
  } catch (e) {
    process.stderr.write(`error: ${errorText(e)}\n`);
    process.exit(2);
  }
}

const code = await runCli(process.argv.slice(2), { ...SERVICE_CLI, version: PACKAGE_VERSION, policy: policyFromEnv() });
process.exitCode = code;
