// Compiles src/ to dist/ with esbuild, file by file (no bundling), so the CLI
// and the service start from plain JavaScript instead of paying a TypeScript
// loader's start-up cost. Type checking is `npm run typecheck` (tsc).
// `--if-stale` skips the work when no source is newer than the last build.
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');

// Directories count too: their mtime changes when a file is added or removed.
function walk(dir) {
  return [dir, ...readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  })];
}

const tree = walk(join(root, 'src'));
const files = tree.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'));
if (process.argv.includes('--if-stale') && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs;
  const newest = Math.max(...tree.map((p) => statSync(p).mtimeMs));
  if (newest <= built) process.exit(0);
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
const started = Date.now();
await build({
  entryPoints: files,
  outdir: join(root, 'dist', 'src'),
  outbase: join(root, 'src'),
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
writeFileSync(stamp, String(Date.now()));
process.stderr.write(`built ${files.length} files into dist/ in ${Date.now() - started} ms\n`);
