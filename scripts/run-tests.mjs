// The whole test suite in one command (npm test): typecheck, lint, unit tests (vitest), e2e
// (Playwright in headless Chromium). Every stage runs even if an earlier one failed; the last line is
// the summary "N passed, M failed" over all tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

mkdirSync('test-results', { recursive: true });
const stages = [];
function run(name, cmd, args, env = {}) {
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  stages.push({ name, ok: r.status === 0, seconds: Math.round((Date.now() - t0) / 1000) });
  return r.status === 0;
}

run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
run('lint', 'npx', ['eslint', '.']);
run('unit', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/unit.json']);
run('e2e', 'npx', ['playwright', 'test'], { CI: process.env.CI ?? 'true' });

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync('test-results/unit.json')) {
  const u = JSON.parse(readFileSync('test-results/unit.json', 'utf8'));
  passed += u.numPassedTests ?? 0;
  failed += (u.numFailedTests ?? 0) + (u.numTotalTestSuites && u.success === false && !u.numFailedTests ? 1 : 0);
  skipped += (u.numPendingTests ?? 0) + (u.numTodoTests ?? 0);
}
if (existsSync('test-results/e2e.json')) {
  const e = JSON.parse(readFileSync('test-results/e2e.json', 'utf8'));
  passed += e.stats?.expected ?? 0;
  failed += (e.stats?.unexpected ?? 0) + (e.stats?.flaky ?? 0);
  skipped += e.stats?.skipped ?? 0;
}
for (const s of stages) {
  if (!s.ok && (s.name === 'typecheck' || s.name === 'lint')) failed += 1;
}
process.stdout.write(`\n${stages.map((s) => `${s.name}: ${s.ok ? 'ok' : 'FAILED'} (${s.seconds} s)`).join('\n')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(stages.every((s) => s.ok) && failed === 0 ? 0 : 1);
