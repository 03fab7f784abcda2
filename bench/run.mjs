// `npm run bench`: every bench in turn. The HTTP bench belongs to another
// piece of work and may not exist yet, so it is loaded only if present.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runMigrateBench } from './migrate.mjs';
import { runStallBench } from './stall.mjs';

const here = dirname(fileURLToPath(import.meta.url));

await runMigrateBench();
console.log('');
await runStallBench();

const http = join(here, 'http.mjs');
console.log('');
if (existsSync(http)) {
  const { runHttpBench } = await import(pathToFileURL(http).href);
  await runHttpBench();
} else {
  console.log('http bench skipped: bench/http.mjs does not exist yet');
}
