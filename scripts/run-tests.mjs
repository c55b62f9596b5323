// The whole test suite in one command (npm test): typecheck, lint, format check (prettier), unit tests (vitest), e2e
// (Playwright in headless Chromium). Every stage runs even if an earlier one failed; the last line is
// the summary "N passed, M failed" over all tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { summarise } from './test-summary.mjs';

mkdirSync('test-results', { recursive: true });
// a previous run's reports must never be read as this run's
for (const f of ['test-results/unit.json', 'test-results/e2e.json']) rmSync(f, { force: true });
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
run('format', 'npx', ['prettier', '--check', '**/*.{ts,tsx,mjs,js,css,html}']);
run('unit', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/unit.json']);
run('e2e', 'npx', ['playwright', 'test'], { CI: process.env.CI ?? 'true' });

const read = (f) => {
  try {
    return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
  } catch {
    return null;
  }
};
const { passed, failed, skipped, notes } = summarise(stages, read('test-results/unit.json'), read('test-results/e2e.json'));
for (const n of notes) process.stdout.write(`note: ${n}\n`);
process.stdout.write(`\n${stages.map((s) => `${s.name}: ${s.ok ? 'ok' : 'FAILED'} (${s.seconds} s)`).join('\n')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(stages.every((s) => s.ok) && failed === 0 ? 0 : 1);
