/**
 * H7b's panels in the running app (vite dev, tiny test model set): the mask editor, the controls and
 * the models panel, driven through the real UI (mouse, keyboard, file inputs).
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { AppPage, openWithCroppedFace } from './pages/app-page';
import { firstFile, noAutoload, routeTinyModels, testImage, tinyModelDir } from './fixtures';

/** A 64x64 grey ramp with one thin bright diagonal scratch. */
async function scratchedPhoto() {
  const w = 64;
  const px = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++) {
      const v = Math.abs(y - (8 + 0.7 * x)) < 0.8 ? 235 : 90 + x;
      px.fill(v, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
  const buffer = await sharp(px, { raw: { width: w, height: w, channels: 3 } })
    .png()
    .toBuffer();
  return { name: 'scratched.png', mimeType: 'image/png', buffer };
}

const coverage = async (page: Page) => Number(await page.getByTestId('mask-canvas').getAttribute('data-coverage'));

test('mask editor: paint, undo/redo by keyboard and buttons, invert, clear, zoom, detect scratches', async ({ page }) => {
  const app = await openWithCroppedFace(page, testImage('old_photos/med_scratch/0_7.jpg'));
  await page.getByTestId('task-old-photo').click();
  const canvas = page.getByTestId('mask-canvas');
  await expect(canvas).toBeVisible();
  expect(await coverage(page)).toBe(0);

  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error('no canvas box');
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 8 });
  await page.mouse.up();
  const painted = await coverage(page);
  expect(painted).toBeGreaterThan(0.01);
  await page.getByTestId('mask-editor').screenshot({ path: test.info().outputPath('mask-editor.png') });
  await expect.poll(async () => (await app.state()).maskSize).toBe(64);

  await canvas.focus();
  await page.keyboard.press('Control+z');
  await expect.poll(() => coverage(page)).toBe(0);
  expect((await app.state()).maskSize).toBeUndefined();
  await page.keyboard.press('Control+Shift+z');
  await expect.poll(() => coverage(page)).toBeCloseTo(painted, 4);
  await page.getByTestId('mask-undo').click();
  await expect.poll(() => coverage(page)).toBe(0);
  await page.keyboard.press('Control+y');
  await expect.poll(() => coverage(page)).toBeCloseTo(painted, 4);

  // eraser removes part of the stroke
  await page.getByTestId('mask-tool-eraser').click();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.up();
  const erased = await coverage(page);
  expect(erased).toBeLessThan(painted);

  await page.getByTestId('mask-invert').click();
  await expect.poll(() => coverage(page)).toBeCloseTo(1 - erased, 4);
  await page.getByTestId('mask-clear').click();
  await expect.poll(() => coverage(page)).toBe(0);

  const zoom = async () => parseInt((await page.getByTestId('mask-zoom').textContent()) ?? '0', 10);
  const z0 = await zoom();
  await page.getByTestId('mask-zoom-in').click();
  expect(await zoom()).toBeGreaterThan(z0);
  await page.getByTestId('mask-zoom-fit').click();
  expect(await zoom()).toBe(z0);
  // wheel over the focused canvas zooms about the pointer; space+drag pans without painting
  await canvas.focus();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -400);
  await expect.poll(zoom).toBeGreaterThan(z0);
  await page.getByTestId('mask-tool-brush').click();
  await canvas.focus();
  await page.keyboard.down(' ');
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.8, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.up(' ');
  expect(await coverage(page)).toBe(0);
  await page.getByTestId('mask-zoom-fit').click();

  // scratch detection runs in the worker on the face at full resolution: the tiny set's crop is 64 px, but the
  // detector sees the 512 px photo (on the 64 px crop itself it found 2% of the marked scratches, measured in Node)
  // and its mask is brought back to 64 px. Scored against the photo's own scratch mask at 64 px.
  await page.getByTestId('mask-detect-scratches').click();
  await expect.poll(() => coverage(page), { timeout: 60_000 }).toBeGreaterThan(0.01);
  const found = await page.evaluate(() => window.__pgdiffTest?.maskPixels());
  if (!found) throw new Error('no mask after scratch detection');
  expect(found).toHaveLength(64 * 64);
  const gt = await sharp(testImage('old_photos/scratch_masks/0_7.jpg').buffer)
    .resize(64, 64, { kernel: 'lanczos3' })
    .greyscale()
    .raw()
    .toBuffer();
  let tp = 0;
  let fp = 0;
  let fn = 0;
  found.forEach((v, i) => {
    const g = (gt[i] as number) > 127;
    if (v && g) tp++;
    else if (v) fp++;
    else if (g) fn++;
  });
  // measured in Node with sharp's resampling: precision 0.76, recall 0.41
  expect(tp / (tp + fp)).toBeGreaterThan(0.6);
  expect(tp / (tp + fn)).toBeGreaterThan(0.25);
  await page.getByTestId('mask-undo').click();
  await expect.poll(() => coverage(page)).toBe(0);

  // a photo no bigger than the crop is detected as it is (the enlarged working copy inside the detector)
  const scratched = await scratchedPhoto();
  await app.upload(scratched);
  // the new photo's crop must be the one on screen before detecting (under load the old crop lingers a moment)
  await expect.poll(async () => (await app.state()).photo?.name).toBe(scratched.name);
  await expect.poll(async () => (await app.state()).faceStatus).toBe('ready');
  await expect(page.getByTestId('mask-canvas')).toHaveAttribute('data-coverage', '0.0000');
  await page.getByTestId('mask-detect-scratches').click();
  await expect.poll(() => coverage(page), { timeout: 60_000 }).toBeGreaterThan(0.005);
  await page.getByTestId('mask-undo').click();
  await expect.poll(() => coverage(page)).toBe(0);
});

test('controls: presets, keyboard slider, reset, custom properties, seed dice, advanced', async ({ page }) => {
  const app = await openWithCroppedFace(page);
  await page.getByTestId('task-colorization').click();
  await expect(page.getByTestId('scale-advice')).toHaveText('0.01');
  await expect(page.getByTestId('property-lightness-toggle')).toBeChecked();
  await expect(page.getByTestId('property-color-toggle')).toBeChecked();
  await expect(page.getByTestId('style-picker')).toBeVisible();

  // the log-scale slider is keyboard operable and shows when it leaves the advised range
  const range = page.getByTestId('scale-range');
  await range.focus();
  for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowRight');
  const raised = Number(await page.getByTestId('scale-number').inputValue());
  expect(raised).toBeGreaterThan(0.01);
  await expect(page.getByTestId('scale-outside')).toBeVisible();
  await page.getByTestId('scale-reset').click();
  await expect(page.getByTestId('scale-number')).toHaveValue('0.01');
  // a typed value beyond the slider is used as typed and said so; one beyond the allowed range is refused, never clamped
  await page.getByTestId('scale-number').fill('10');
  await expect(page.getByTestId('scale-beyond')).toBeVisible();
  await page.getByTestId('scale-number').fill('5000');
  await expect(page.getByTestId('scale-refused')).toContainText('outside the allowed range');
  await expect(page.getByTestId('scale-number')).toHaveValue('10');
  await page.getByTestId('scale-reset').click();
  await expect(page.getByTestId('scale-number')).toHaveValue('0.01');

  // switching a property on makes a custom mix
  await page.getByTestId('property-identity-toggle').check();
  expect((await app.state()).task).toBe('custom');
  await expect(page.getByTestId('identity-needs-refs')).toBeVisible();
  await page.getByTestId('task-blind').click();
  await expect(page.getByTestId('property-identity-toggle')).not.toBeChecked();

  const seed = await page.getByTestId('seed-input').inputValue();
  await page.getByTestId('seed-dice').click();
  await expect(page.getByTestId('seed-input')).not.toHaveValue(seed);

  await page.getByText('Advanced settings').click();
  await page.getByTestId('sampler-ddim').check();
  await expect(page.getByTestId('eta')).toBeVisible();
  await page.getByTestId('variants-input').fill('3');
  expect((await app.state()).task).toBe('blind');
  await page.screenshot({ path: test.info().outputPath('controls.png'), fullPage: true });
});

test('models panel: shows the loaded set, its licence and the test-model flag; previews a manifest URL', async ({ page }) => {
  await openWithCroppedFace(page);
  const panel = page.getByTestId('models-panel');
  await panel.scrollIntoViewIfNeeded();
  await expect(panel.getByTestId('model-name')).toContainText('tiny-test');
  await expect(panel.getByTestId('model-test-only')).toHaveText('test model (random weights)');
  await expect(panel.getByTestId('model-licence')).toContainText('TEST WEIGHTS ONLY');
  await expect(panel.getByTestId('model-roles')).toContainText('prior');

  await panel.getByText('Load the official PGDiff models').click();
  await panel.getByTestId('models-url-input').fill('http://example.org/manifest.json');
  await panel.getByTestId('models-url-check').click();
  await expect(panel.getByTestId('models-url-error')).toContainText('https');
  await panel.getByTestId('models-url-input').fill(new URL('/test-models/tiny/manifest.json', page.url()).href);
  await panel.getByTestId('models-url-check').click();
  await expect(panel.getByTestId('models-preview')).toContainText('tiny-test');
  // a test set needs an explicit acknowledgement before it loads
  await expect(panel.getByTestId('models-url-load')).toBeDisabled();
  await panel.getByTestId('models-test-ack').click();
  await expect(panel.getByTestId('models-url-load')).toBeEnabled();
  await page.screenshot({ path: test.info().outputPath('models.png'), fullPage: true });

  // the cache: the loaded set is stored on this device; clearing it (with a confirmation) says so
  await expect(panel.getByTestId('model-cached')).toBeVisible();
  await panel.getByText('Stored models').click();
  await expect(panel.getByTestId('models-cache-set').filter({ hasText: 'tiny-test' })).toBeVisible();
  await panel.getByTestId('models-cache-clear').click();
  await panel.getByTestId('models-cache-clear-confirm').click();
  await expect(panel.getByTestId('models-cache-empty')).toBeVisible();
  await expect(panel.getByTestId('models-cache-message')).toContainText('Removed');
  await expect(panel.getByTestId('model-not-cached')).toBeVisible();
});

test('on a 360 px phone the panels fit without sideways scrolling', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await openWithCroppedFace(page);
  await page.getByTestId('task-old-photo').click();
  await page.getByText('Advanced settings').click();
  await expect(page.getByTestId('mask-canvas')).toBeVisible();
  await expect(page.getByTestId('models-panel')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  // name the widest offenders, to make a failure actionable
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 8)
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`,
      ),
  );
  expect(wide, 'elements wider than the screen').toEqual([]);
  expect(overflow).toBeLessThanOrEqual(0);
  const canvasBox = await page.getByTestId('mask-canvas').boundingBox();
  expect(canvasBox?.width ?? 0).toBeGreaterThan(200);
  // the Restore button is on screen at the top of the page and after scrolling to the bottom
  for (const y of [0, 100_000]) {
    await page.evaluate((top) => window.scrollTo(0, top), y);
    const run = await page.getByTestId('run-button').boundingBox();
    expect(run, `Restore button at scroll ${y}`).not.toBeNull();
    expect(run!.y).toBeGreaterThanOrEqual(0);
    expect(run!.y + run!.height).toBeLessThanOrEqual(740);
  }
  await page.screenshot({ path: test.info().outputPath('phone.png'), fullPage: true });
});

test('references: pick photos, see thumbnails and their colour style, use it, remove', async ({ page }) => {
  const app = await openWithCroppedFace(page);
  await page.getByTestId('task-reference').click();
  const panel = page.getByTestId('references-panel');
  await expect(panel).toBeVisible();
  const name = firstFile('ref_faces');
  await panel
    .getByTestId('references-input')
    .setInputFiles([testImage(`ref_faces/${name}`), testImage(`cropped_faces/${firstFile('cropped_faces')}`)]);
  await expect(panel.getByTestId('reference-item')).toHaveCount(2, { timeout: 60_000 });
  expect((await app.state()).references).toBe(2);
  await expect(panel.getByTestId('references-style')).toBeVisible();

  // the references' colour style can drive colour statistics
  await page.getByTestId('task-colorization').click();
  const fromRefs = page.getByTestId('style-references').locator('input');
  await expect(fromRefs).toBeEnabled();
  await page.getByTestId('style-references').click();
  await expect(fromRefs).toBeChecked();

  await panel.getByTestId('reference-remove').first().click();
  await expect(panel.getByTestId('reference-item')).toHaveCount(1);
  await panel.getByTestId('reference-remove').first().click();
  await expect(panel.getByTestId('reference-item')).toHaveCount(0);
  await expect(fromRefs).toBeDisabled();
});

test('models panel: load a set from picked files (manifest + ONNX), refusing an incomplete pick', async ({ page }) => {
  await noAutoload(page);
  const app = new AppPage(page);
  await app.goto();
  const panel = page.getByTestId('models-panel');
  const files = fs.readdirSync(tinyModelDir).map((f) => path.join(tinyModelDir, f));
  const manifest = files.filter((f) => f.endsWith('manifest.json'));
  await panel.getByTestId('models-files-input').setInputFiles(manifest);
  await expect(panel.getByTestId('models-preview')).toContainText('tiny-test');
  await expect(panel.getByTestId('models-files-missing')).toContainText('.onnx');
  await expect(panel.getByTestId('models-files-load')).toBeDisabled();

  await panel.getByTestId('models-files-input').setInputFiles(files.filter((f) => /\.(json|onnx)$/.test(f)));
  await expect(panel.getByTestId('models-files-missing')).toHaveCount(0);
  await panel.getByTestId('models-test-ack').click();
  await panel.getByTestId('models-files-load').click();
  await expect(panel.getByTestId('model-name')).toContainText('tiny-test', { timeout: 120_000 });
  await expect(panel.getByTestId('model-test-only')).toBeVisible();
  expect((await app.state()).modelStatus).toBe('ready');
});

test('the photo, mask, references and settings survive a reload', async ({ page }) => {
  const name = firstFile('masked_faces');
  const app = await openWithCroppedFace(page, testImage(`masked_faces/${name}`));
  await page.getByTestId('task-inpainting').click();
  await page.getByTestId('mask-import-input').setInputFiles(testImage(`append_masks/${name}`));
  await expect.poll(async () => (await app.state()).maskSize).toBe(64);
  const missing = (await app.state()).maskMissing;
  await page.getByTestId('references-input').setInputFiles(testImage(`ref_faces/${firstFile('ref_faces')}`));
  await expect.poll(async () => (await app.state()).references).toBe(1);
  await page.getByTestId('scale-number').fill('0.05');
  await page.waitForTimeout(1000); // the session is saved 0.4 s after the last change

  await page.reload();
  // the model set is loaded again by hand here (the test opts out of the bundled set's autoload)
  const manifestUrl = await routeTinyModels(page);
  await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });
  await expect.poll(async () => (await app.state()).photo?.name).toBe(name);
  const s = await app.state();
  expect(s.task).toBe('inpainting');
  expect(s.references).toBe(1);
  await expect(page.getByTestId('scale-number')).toHaveValue('0.05');
  await expect.poll(async () => (await app.state()).maskMissing, { timeout: 60_000 }).toBe(missing);
});

test('flipping "already a cropped face" carries the painted mask onto the new crop', async ({ page }) => {
  const app = await openWithCroppedFace(page);
  await page.getByTestId('task-old-photo').click();
  const canvas = page.getByTestId('mask-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error('no canvas box');
  // a stroke across the middle of the face (the eyes' height), where both framings show the face
  await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.65, box.y + box.height * 0.5, { steps: 6 });
  await page.mouse.up();
  const painted = (await app.state()).maskMissing ?? 0;
  expect(painted).toBeGreaterThan(20);
  const wholeKey = (await app.state()).crops[0]?.key;
  expect(wholeKey).toContain(':whole:');

  await app.alreadyCropped.uncheck();
  await expect.poll(async () => (await app.state()).crops[0]?.key ?? '', { timeout: 60_000 }).not.toContain(':whole:');
  await expect.poll(async () => (await app.state()).faceStatus).toBe('ready');
  // the stroke is still there on the detected face's crop (warped, so its pixel count changes a little)
  await expect.poll(async () => (await app.state()).maskMissing ?? 0).toBeGreaterThan(painted * 0.3);
  await expect.poll(() => coverage(page)).toBeGreaterThan(0);

  // and back: the mask returns to the whole-photo crop
  await app.alreadyCropped.check();
  await expect.poll(async () => (await app.state()).crops[0]?.key ?? '').toContain(':whole:');
  await expect.poll(async () => (await app.state()).maskMissing ?? 0).toBeGreaterThan(painted * 0.3);
});
