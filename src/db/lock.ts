import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseConnectError, DataDirectoryLockedError } from './types.js';

/**
 * PGlite has no lock of its own: two processes opening one data directory both
 * "work" and one silently loses its writes. This lock file beside the
 * directory is taken with O_EXCL, holds the owner's pid and command, and is
 * taken over only when that pid is gone (a crashed owner).
 */
export interface DirLock {
  readonly path: string;
  release(): void;
}

interface Holder {
  pid: number;
  command: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    return typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

export function lockDataDir(dataDir: string): DirLock {
  const path = `${dataDir}.lock`;
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DatabaseConnectError(`cannot create the embedded database's folder ${dirname(path)}: ${err.code ?? err.message}`);
  }
  const me: Holder = {
    pid: process.pid,
    command: process.argv.slice(1).join(' ').slice(0, 200),
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(path);
      if (holder && holder.pid !== process.pid && alive(holder.pid)) {
        throw new DataDirectoryLockedError(
          `embedded database ${dataDir} is in use by process ${holder.pid} (${holder.command || 'unknown'}, since ${holder.since}); ` +
            `stop it, or set DATABASE_URL to use a PostgreSQL server`,
        );
      }
      if (holder && holder.pid === process.pid) {
        throw new DataDirectoryLockedError(`embedded database ${dataDir} is already open in this process`);
      }
      // A stale lock from a process that died, or a half-written one: remove and retry.
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
      process.off('exit', release);
    };
    process.on('exit', release);
    return { path, release };
  }
  throw new DataDirectoryLockedError(`could not take the lock ${path} on embedded database ${dataDir}`);
}
