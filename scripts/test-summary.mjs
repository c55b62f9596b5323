// The summary line of `npm test`, computed from the stages' exit codes and their JSON reports (pure: tested on fake
// reports in scripts/test-summary.test.ts). A stage that failed without a failing test in its report (a crash, a
// web server that never started, a beforeAll that threw) counts as a failure; so does a missing report.

/**
 * @param {{ name: string, ok: boolean }[]} stages
 * @param {any} unit  vitest's JSON report, or null when it is missing
 * @param {any} e2e   Playwright's JSON report, or null when it is missing
 * @returns {{ passed: number, failed: number, skipped: number, notes: string[] }}
 */
export function summarise(stages, unit, e2e) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const notes = [];
  const stage = (name) => stages.find((s) => s.name === name);
  for (const s of stages) {
    if (!s.ok && (s.name === 'typecheck' || s.name === 'lint' || s.name === 'format')) {
      failed += 1;
      notes.push(`${s.name} failed`);
    }
  }
  if (stage('unit')) {
    if (!unit) {
      failed += 1;
      notes.push('unit: no report (the runner crashed or never started)');
    } else {
      passed += unit.numPassedTests ?? 0;
      failed += unit.numFailedTests ?? 0;
      skipped += (unit.numPendingTests ?? 0) + (unit.numTodoTests ?? 0);
      // files that failed without a failing test: an import error, a throwing beforeAll (its tests show as skipped)
      const broken = (unit.testResults ?? []).filter(
        (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
      );
      if (broken.length) {
        failed += broken.length;
        notes.push(`unit: ${broken.length} file(s) failed outside any test: ${broken.map((f) => f.name).join(', ')}`);
      }
      if (!stage('unit').ok && (unit.numFailedTests ?? 0) === 0 && broken.length === 0) {
        failed += 1;
        notes.push('unit: the runner exited with an error but reported no failure');
      }
    }
  }
  if (stage('e2e')) {
    if (!e2e) {
      failed += 1;
      notes.push('e2e: no report (the runner crashed or never started)');
    } else {
      passed += e2e.stats?.expected ?? 0;
      failed += (e2e.stats?.unexpected ?? 0) + (e2e.stats?.flaky ?? 0);
      skipped += e2e.stats?.skipped ?? 0;
      const errors = e2e.errors ?? [];
      if (errors.length) {
        failed += errors.length;
        notes.push(`e2e: ${errors.length} error(s) outside tests: ${errors.map((e) => (e.message ?? '').split('\n')[0]).join(' | ')}`);
      }
      if (!stage('e2e').ok && !(e2e.stats?.unexpected > 0) && errors.length === 0) {
        failed += 1;
        notes.push('e2e: the runner exited with an error but reported no failure');
      }
    }
  }
  return { passed, failed, skipped, notes };
}
