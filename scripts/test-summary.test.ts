import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without types
import { summarise } from './test-summary.mjs';

type S = { passed: number; failed: number; skipped: number; notes: string[] };
const ok = (name: string) => ({ name, ok: true });
const bad = (name: string) => ({ name, ok: false });
const all = [ok('typecheck'), ok('lint'), ok('unit'), ok('e2e')];
const unit = (over: object = {}) => ({
  numPassedTests: 10,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  testResults: [],
  ...over,
});
const e2e = (over: object = {}) => ({ stats: { expected: 5, unexpected: 0, flaky: 0, skipped: 0 }, errors: [], ...over });

describe('npm test summary (scripts/test-summary.mjs)', () => {
  it('adds up a clean run', () => {
    expect(summarise(all, unit(), e2e()) as S).toEqual({ passed: 15, failed: 0, skipped: 0, notes: [] });
  });

  it('counts a missing report (a crashed or never-started runner) as a failure', () => {
    const r = summarise([ok('typecheck'), ok('lint'), bad('unit'), ok('e2e')], null, e2e()) as S;
    expect(r.failed).toBe(1);
    expect(r.notes[0]).toMatch(/no report/);
  });

  it('counts a file that failed outside its tests (a throwing beforeAll) and shows the skipped tests', () => {
    const u = unit({
      numPendingTests: 3,
      testResults: [{ name: 'a.test.ts', status: 'failed', assertionResults: [{ status: 'skipped' }, { status: 'skipped' }] }],
    });
    const r = summarise([ok('typecheck'), ok('lint'), bad('unit'), ok('e2e')], u, e2e()) as S;
    expect(r.failed).toBe(1);
    expect(r.skipped).toBe(3);
  });

  it("counts Playwright's top-level errors (a web server that failed to start skips every spec)", () => {
    const r = summarise(
      [ok('typecheck'), ok('lint'), ok('unit'), bad('e2e')],
      unit(),
      e2e({
        stats: { expected: 0, unexpected: 0, flaky: 0, skipped: 29 },
        errors: [{ message: 'Timed out waiting 120000ms from config.webServer.' }],
      }),
    ) as S;
    expect(r.failed).toBe(1);
    expect(r.skipped).toBe(29);
    expect(r.notes[0]).toMatch(/webServer/);
  });

  it('counts a failing stage with a clean report, and failing typecheck/lint', () => {
    const r = summarise([bad('typecheck'), bad('lint'), bad('unit'), ok('e2e')], unit(), e2e()) as S;
    expect(r.failed).toBe(3);
  });
});
