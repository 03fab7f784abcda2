// Prints what CI ran, per engine, from vitest's JSON report, and the closing
// line "N passed, N failed" (a failed type check counts as one failure).
import { existsSync, readFileSync } from 'node:fs';

const [file, failedChecks = '0', testRc = '0', seconds = '?'] = process.argv.slice(2);
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
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
