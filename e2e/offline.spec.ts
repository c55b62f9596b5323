/**
 * The BUILT app (vite build + vite preview, with the production CSP and the service worker):
 * registers a service worker, reloads offline, and runs without CSP violations or third-party requests.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.E2E_PREVIEW_PORT ?? 4179);
const origin = `http://127.0.0.1:${port}`;
let outDir = '';
let server: ChildProcess | undefined;

async function waitForServer(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`vite preview did not answer at ${url}`);
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgdiff-offline-'));
  const vite = path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  // its own dependency cache: the e2e dev server keeps serving from node_modules/.vite-e2e-* meanwhile (vite.config.ts)
  const env = { ...process.env, PGDIFF_VITE_CACHE: 'node_modules/.vite-e2e-build' };
  execFileSync(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: repoRoot,
    stdio: 'inherit',
    env,
  });
  server = spawn(process.execPath, [vite, 'preview', '--outDir', outDir, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
    cwd: repoRoot,
    env,
    stdio: 'ignore',
  });
  await waitForServer(origin, 60_000);
});

test.afterAll(() => {
  if (server?.pid) server.kill('SIGTERM');
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

test('the built app registers a service worker and reloads offline, under a strict CSP', async ({ browser }) => {
  const context = await browser.newContext({ serviceWorkers: 'allow' });
  const page = await context.newPage();
  const foreign: string[] = [];
  const cspErrors: string[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== origin) foreign.push(r.url());
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[]; __pgdiffNoAutoload: boolean };
    w.__csp = [];
    // this test loads the tiny set itself from picked files (the bundled set would load first otherwise)
    w.__pgdiffNoAutoload = true;
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  await page.goto(`${origin}/`);
  await expect(page.getByTestId('app-root')).toBeVisible();
  // the engine worker (onnxruntime-web) starts under the CSP and reports the device
  await expect(page.getByTestId('capabilities')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  // the production page carries the CSP meta
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");

  // the service worker installs and activates, then controls the page after a reload
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toBe(`${origin}/`);
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  const precached = await page.evaluate(async () => {
    const names = await caches.keys();
    const urls: string[] = [];
    for (const n of names) for (const r of await (await caches.open(n)).keys()) urls.push(r.url);
    return urls;
  });
  expect(precached.some((u) => /\/assets\/index-[^/]+\.js/.test(u))).toBe(true);
  expect(precached.filter((u) => /\/models\/|\.onnx(\?|$)|testdata/.test(u))).toEqual([]);

  // onnxruntime-web initialises under the CSP: load the tiny test set from files in the Models panel
  const tiny = path.join(repoRoot, 'tests', 'fixtures', 'models', 'tiny');
  const panel = page.getByTestId('models-panel');
  await panel.getByTestId('models-files-input').setInputFiles(fs.readdirSync(tiny).map((f) => path.join(tiny, f)));
  await panel.getByTestId('models-test-ack').click();
  await panel.getByTestId('models-files-load').click();
  await expect(panel.getByTestId('model-name')).toContainText('tiny-test', { timeout: 120_000 });

  // offline: the app shell still opens and renders
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('app-root')).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/PGDiff Restore/);
  // the worker script comes from the service worker's cache too
  await expect(page.getByTestId('capabilities')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  // really offline: the network answers nothing (navigator.onLine is not reliable under emulation in every
  // Chromium: Debian's 150 reports true here), so the page above came from the service worker's cache
  const reachable = await page.evaluate(() =>
    fetch(`/__offline-probe-${Date.now()}`).then(
      () => true,
      () => false,
    ),
  );
  expect(reachable).toBe(false);

  const violations = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  expect(violations).toEqual([]);
  expect(cspErrors).toEqual([]);
  expect(foreign).toEqual([]);
  await context.close();
});
