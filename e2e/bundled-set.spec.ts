/**
 * The app's own default model set (public/models/pgdiff-utk-latent), not a test set: it loads at start-up, its
 * per-task defaults reach the controls (blind: DDIM, a start below 1, i.e. the chain begins at the restorer's noised
 * estimate), and a short blind restoration in headless Chromium (WASM) gives a 256 px face, downloaded at the face's
 * size in the photo. Kept short: 10 respaced steps, of which only those at or below the start run (each a prior call,
 * the TAEF2 decoder and its VJP: about 5 s on WASM, plus the restorer and the encoder once).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import type { ModelManifest } from '../workers/models/manifest-types';
import { spaceTimesteps } from '../workers/shared/steps';
import { AppPage } from './pages/app-page';
import { firstFile, repoRoot, testImage } from './fixtures';

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'public/models/pgdiff-utk-latent/manifest.json'), 'utf8')) as ModelManifest;
const blind = manifest.defaults?.blind;

test('the bundled latent set loads at start-up and restores a face at 256 px from its restorer estimate', async ({ page }) => {
  // measured on a shared 2-core machine: 3.5 min with light load, up to 10 min under heavy load (most of it the page's
  // first load in the dev server, the set's download into the cache and the sessions' creation)
  test.setTimeout(900_000);
  // the set's blind defaults start below pure noise (what this test is about)
  expect(blind?.start).toBeGreaterThan(0);
  expect(blind?.start).toBeLessThan(1);
  const start = blind!.start!;

  const app = new AppPage(page);
  await app.goto();
  // no noAutoload: the app loads its bundled set by itself
  await expect.poll(async () => (await app.state()).modelStatus, { timeout: 300_000 }).toBe('ready');
  expect((await app.state()).model).toMatchObject({ name: 'pgdiff-utk-latent', resolution: 256 });

  // the reference task starts from the set's identity weight (for its own identity network, face-api's, far above the
  // paper's 25), inside the weight slider's range, not beyond it
  const idWeight = manifest.defaults?.reference?.weights?.identity;
  expect(idWeight).toBeGreaterThan(100);
  await page.getByTestId('task-reference').click();
  await expect(page.getByTestId('weight-identity-number')).toHaveValue(String(idWeight));
  await expect(page.getByTestId('weight-identity-beyond')).toHaveCount(0);
  expect(Number(await page.getByTestId('weight-identity-range').getAttribute('max'))).toBeGreaterThanOrEqual(2 * idWeight!);

  // the set's blind defaults are in the controls: steps, sampler, and the start (the Advanced slider)
  await page.getByTestId('task-blind').click();
  await expect(page.getByTestId('steps-select')).toHaveValue(String(blind!.steps));
  await page.getByTestId('advanced').locator('summary').click();
  await expect(page.getByTestId(`sampler-${blind!.sampler}`)).toBeChecked();
  await expect(page.getByTestId('start-number')).toHaveValue(String(start));

  const photo = testImage(`cropped_faces/${firstFile('cropped_faces')}`);
  await app.alreadyCropped.check();
  await app.upload(photo);
  await expect(app.alignedCrops).toBeVisible();
  // the crop is made at the model's resolution
  expect((await app.state()).crops).toEqual([expect.objectContaining({ width: 256, height: 256 })]);

  // only the respaced steps at or below the start run (t <= start * (T - 1)), not all 10: the run panel says so
  // before the run, and the engine's progress counts them
  await app.setSampler({ steps: 10, seed: 7 });
  const T = manifest.diffusion.steps;
  const below = spaceTimesteps(T, 10).filter((t) => t <= start * (T - 1)).length;
  expect(below).toBeGreaterThan(0);
  expect(below).toBeLessThan(10);
  await expect(page.getByTestId('run-estimate')).toContainText(`10 steps (${below} model calls)`);
  await expect(app.runButton).toBeEnabled();
  await app.runButton.click();
  await expect(app.progress).toBeVisible();
  await app.waitForFirstStep(360_000);
  await expect(app.progressBar).toHaveAttribute('data-total', String(below));
  await expect(app.preview).toBeVisible();
  await expect(app.results).toBeVisible({ timeout: 360_000 });
  const s = await app.state();
  expect(s.runStatus).toBe('done');
  expect(s.currentRun).toMatchObject({ faces: 1, variants: 1, width: 256, height: 256, task: 'blind' });
  expect(s.previewSize).toBeGreaterThan(0);
  // the measured time is per model call, as the estimate counts them
  expect(s.measuredStepMs).toBeGreaterThan(0);
  await expect(page.getByTestId('run-estimate')).toContainText(`10 steps (${below} model calls): `);
  await expect(page.getByTestId('run-estimate')).toContainText('per model call');

  // what the bundled set gives (a short run: 10 steps, of which those below the start run), for the README
  await app.results.screenshot({ path: path.join(repoRoot, 'docs', 'screenshots', 'desktop-results-bundled.png') });

  // the face crop comes at the face's size in the photo (the whole 512 px photo), not the model's 256
  const [dl] = await Promise.all([page.waitForEvent('download'), app.downloadCrop.click()]);
  expect(await sharp(fs.readFileSync(await dl.path())).metadata()).toMatchObject({ format: 'png', width: 512, height: 512 });
});
