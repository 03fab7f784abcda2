import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Where the tar of a freshly initialised PGlite data directory is kept: under
 * node_modules/.cache, keyed by the PGlite build, so an upgrade of the package
 * makes a new one.
 */
export function templatePath(): string {
  const wasm = createRequire(import.meta.url).resolve('@electric-sql/pglite/pglite.wasm');
  const { size, mtimeMs } = statSync(wasm);
  const key = createHash('sha1').update(`${wasm}\0${size}\0${mtimeMs}`).digest('hex').slice(0, 16);
  // .../node_modules/@electric-sql/pglite/dist/pglite.wasm
  const nodeModules = join(dirname(wasm), '..', '..', '..');
  return join(nodeModules, '.cache', 'pglite-template', `${key}.tar`);
}

/**
 * The contents of a new, empty embedded database. PGlite's initdb is a
 * WebAssembly module of its own and takes 3.5 s or more on this kind of
 * machine, while starting from a tar of its result takes well under one: so
 * it runs once per install (scripts/build.mjs prepares it) and every new
 * data directory, and every in-memory database, starts from the tar.
 */
export async function freshDataDir(): Promise<Blob> {
  const file = templatePath();
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = await PGlite.create();
  let tar: Blob;
  try {
    tar = await pg.dumpDataDir('none');
  } finally {
    await pg.close();
  }
  // Written aside and renamed, so a process starting meanwhile never reads half a file.
  const partial = `${file}.${process.pid}`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(partial, Buffer.from(await tar.arrayBuffer()));
    renameSync(partial, file);
  } catch {
    // A read-only tree: this database still starts, the next one pays initdb again.
    rmSync(partial, { force: true });
  }
  return tar;
}
