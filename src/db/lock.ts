import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseConnectError, DataDirectoryLockedError } from './types.js';

/**
 * PGlite has no lock of its own: two processes opening one data directory
 * both "work" and one silently loses its writes. This lock file beside the
 * directory names its owner (pid, command, and a token of this process).
 *
 * It is made atomic with a hard link: the holder's record is written to a
 * file of its own, then linked to the lock's name, which fails if the name
 * exists. So the lock never exists half-written (an empty lock file, once
 * taken for a half-written one and deleted, let two processes in).
 *
 * A lock whose owner is gone (a crash) is taken over under a second lock of
 * the same kind, and removed only if it still holds that dead owner's
 * record: two processes that both found it stale cannot remove a lock the
 * other has just taken.
 */
export interface DirLock {
  readonly path: string;
  release(): void;
}

interface Holder {
  pid: number;
  token: string;
  command: string;
  since: string;
}

/** This process, as lock files name it: the pid alone could be a previous incarnation's (pid 1 in a restarted container). */
const PROCESS_TOKEN = randomUUID();

function alive(h: Holder): boolean {
  if (h.pid === process.pid) return h.token === PROCESS_TOKEN;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder recorded at `path`; undefined when there is no file; 'corrupt' when it is not a record (never one of ours). */
function readHolder(path: string): Holder | 'corrupt' | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    // Locks written before the token existed name their owner by pid alone.
    return typeof h.pid === 'number' ? { command: '', since: '?', ...h, pid: h.pid, token: h.token ?? '' } : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

/** Links the record at `record` to `path`; false when `path` exists. */
function linkOnce(record: string, path: string): boolean {
  try {
    linkSync(record, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

const sameHolder = (a: Holder | 'corrupt' | undefined, b: Holder | 'corrupt'): boolean =>
  a !== undefined && (a === 'corrupt' || b === 'corrupt' ? a === b : a.token === b.token && a.pid === b.pid);

export function lockDataDir(dataDir: string): DirLock {
  const path = `${dataDir}.lock`;
  const takeover = `${path}.takeover`;
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DatabaseConnectError(`cannot create the embedded database's folder ${dirname(path)}: ${err.code ?? err.message}`);
  }
  const me: Holder = {
    pid: process.pid,
    token: PROCESS_TOKEN,
    command: process.argv.slice(1).join(' ').slice(0, 200),
    since: new Date().toISOString(),
  };
  const record = `${path}.${process.pid}.${randomUUID()}`;
  writeFileSync(record, JSON.stringify(me), { flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (linkOnce(record, path)) {
        let released = false;
        const release = (): void => {
          if (released) return;
          released = true;
          const holder = readHolder(path);
          if (holder !== undefined && holder !== 'corrupt' && holder.token === PROCESS_TOKEN) rmSync(path, { force: true });
          process.off('exit', release);
        };
        process.on('exit', release);
        return { path, release };
      }
      const holder = readHolder(path);
      if (holder === undefined) continue;
      if (holder !== 'corrupt' && alive(holder)) {
        throw new DataDirectoryLockedError(
          holder.token === PROCESS_TOKEN
            ? `embedded database ${dataDir} is already open in this process`
            : `embedded database ${dataDir} is in use by process ${holder.pid} (${holder.command || 'unknown'}, since ${holder.since}); ` +
                `stop it, or set DATABASE_URL to use a PostgreSQL server`,
        );
      }
      removeStale(path, takeover, record, holder);
    }
  } finally {
    rmSync(record, { force: true });
  }
  throw new DataDirectoryLockedError(`could not take the lock ${path} on embedded database ${dataDir}`);
}

/** Removes the lock at `path` if it is still `stale`'s, holding the takeover lock meanwhile. */
function removeStale(path: string, takeover: string, record: string, stale: Holder | 'corrupt'): void {
  if (!linkOnce(record, takeover)) {
    const other = readHolder(takeover);
    if (other !== undefined && (other === 'corrupt' || !alive(other))) {
      throw new DataDirectoryLockedError(
        `a takeover of the lock ${path} was interrupted by a crash; make sure no service uses the embedded database, then delete ${takeover}`,
      );
    }
    // Another process is taking the stale lock over right now: look again shortly.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    return;
  }
  try {
    if (sameHolder(readHolder(path), stale)) rmSync(path, { force: true });
  } finally {
    rmSync(takeover, { force: true });
  }
}
