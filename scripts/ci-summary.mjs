// Prints what CI ran, per engine, from vitest's JSON report, and the closing
// line "N passed, N failed" (a failed type check counts as one failure).
import { existsSync, readFileSync } from 'node:fs';

const [file, failedChecks = '0', testRc = '0', seconds = '?', timeFile, rssSumFile] = process.argv.slice(2);

/** `npm test`'s wall time and peak memory, from /usr/bin/time -v and the sampled sum over its processes. */
function resources() {
  if (!timeFile || !existsSync(timeFile)) return undefined;
  const text = readFileSync(timeFile, 'utf8');
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.+)/.exec(text)?.[1]?.trim() ?? '?';
  const maxKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1] ?? NaN);
  const sumKb = rssSumFile && existsSync(rssSumFile) ? Number(readFileSync(rssSumFile, 'utf8')) : NaN;
  const seconds = wall.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  // CPU seconds do not grow with other work on the machine, as wall time does.
  const cpu = ['User', 'System'].reduce((t, k) => t + Number(new RegExp(`${k} time \\(seconds\\): ([\\d.]+)`).exec(text)?.[1] ?? NaN), 0);
  const share = /Percent of CPU this job got: (\d+)%/.exec(text)?.[1] ?? '?';
  const gb = (kb) => (Number.isFinite(kb) ? `${(kb / 1024 / 1024).toFixed(2)} GB` : '?');
  return (
    `npm test: ${seconds.toFixed(1)} s wall (goal <= 120 s; ${cpu.toFixed(0)} s of CPU, ${share}% of one core on average), ` +
    `peak memory ${gb(sumKb)} summed over its processes (goal <= 1.5 GB), largest single process ${gb(maxKb)}`
  );
}
if (!existsSync(file)) {
  console.log(`no test report at ${file}: the test run did not complete (exit ${testRc})`);
  console.log(`0 passed, ${1 + Number(failedChecks)} failed`);
  process.exit(0);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const groups = new Map();
let passed = 0;
let failed = Number(failedChecks);
let skipped = 0;
const failures = [];
for (const f of report.testResults) {
  for (const t of f.assertionResults) {
    const title = [...t.ancestorTitles, t.title].join(' > ');
    const engine = / on '?(pglite|server)\b/.exec(title)?.[1] ?? 'engine-free';
    const g = groups.get(engine) ?? { passed: 0, failed: 0, skipped: 0 };
    if (t.status === 'passed') (g.passed++, passed++);
    else if (t.status === 'failed') (g.failed++, failed++, failures.push(`${f.name.replace(process.cwd() + '/', '')}: ${title}`));
    else (g.skipped++, skipped++);
    groups.set(engine, g);
  }
}
console.log('');
console.log(`summary (${seconds} s):`);
for (const [engine, g] of [...groups].sort()) {
  console.log(`  ${engine.padEnd(12)} ${g.passed} passed, ${g.failed} failed${g.skipped ? `, ${g.skipped} skipped` : ''}`);
}
if (Number(failedChecks)) console.log('  typecheck    FAILED');
for (const f of failures) console.log(`  FAILED ${f}`);
if (!groups.has('server')) console.log('  WARNING: no server test ran');
const used = resources();
if (used) console.log(`  ${used}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
