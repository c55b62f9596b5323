/**
 * A photo that already is an aligned face crop in the model's framing is recognised after detection and used as
 * it is (the "already a cropped face" switch turns on by itself, with a note the person can undo); a mask made for
 * that photo lands where it was painted. The tiny test set is 64 px in the FFHQ framing of ../shared/testdata.
 */
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { AppPage } from './pages/app-page';
import { noAutoload, routeTinyModels, testImage } from './fixtures';

/** A 512x512 mask (white = missing) with two rectangles on multiples of 8: over the right eye and the mouth. */
const RECTS = [
  { x: 288, y: 216, w: 64, h: 48 },
  { x: 216, y: 352, w: 80, h: 32 },
];
const inRects = (x: number, y: number) => RECTS.some((r) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h);

async function maskFile() {
  const px = Buffer.alloc(512 * 512 * 3);
  for (let y = 0; y < 512; y++) for (let x = 0; x < 512; x++) if (inRects(x, y)) px.fill(255, (y * 512 + x) * 3, (y * 512 + x) * 3 + 3);
  return {
    name: 'mask-512.png',
    mimeType: 'image/png',
    buffer: await sharp(px, { raw: { width: 512, height: 512, channels: 3 } })
      .png()
      .toBuffer(),
  };
}

/** The mask on the 64 px crop if the crop is the photo scaled 8x down: each crop pixel's centre in the photo. */
const expected64: number[] = Array.from({ length: 64 * 64 }, (_, i) => (inRects((i % 64) * 8 + 3.5, Math.floor(i / 64) * 8 + 3.5) ? 1 : 0));
const mismatches = (a: number[], b: number[]) => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);

test('a 512x512 crop already in the model alignment is not re-cropped, and its 512x512 mask lands where it was painted', async ({
  page,
}) => {
  test.setTimeout(360_000);
  await noAutoload(page);
  const manifestUrl = await routeTinyModels(page);
  const app = new AppPage(page);
  await app.goto();
  await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });
  await expect(app.alreadyCropped).not.toBeChecked();
  const crop = testImage('cropped_faces/0130.png');

  // the photo goes through the detector, which finds its one face on the model's template: the switch turns on
  await app.upload(crop);
  await expect(app.alreadyCropped).toBeChecked({ timeout: 120_000 });
  await expect(page.getByTestId('aligned-note')).toContainText('used as it is');
  await expect.poll(async () => (await app.state()).faceStatus).toBe('ready');
  let s = await app.state();
  expect(s.crops).toHaveLength(1);
  expect(s.crops[0]).toMatchObject({ width: 64, height: 64 });
  expect(s.crops[0]!.key).toContain(':whole:');
  // the crop is the photo itself, scaled: its 8x8 thumbnail follows the photo's
  const thumb = (await app.cropThumb())!;
  const photoThumb = [...(await sharp(crop.buffer).resize(8, 8, { kernel: 'cubic' }).greyscale().raw().toBuffer())];
  const err = thumb.reduce((acc, v, i) => acc + Math.abs(v - photoThumb[i]!), 0) / 64;
  expect(err, 'mean grey difference of the 8x8 thumbnails').toBeLessThan(8);

  // a mask made for the 512x512 photo lands on the 64 px crop exactly where it was painted
  await page.getByTestId('task-inpainting').click();
  await page.getByTestId('mask-import-input').setInputFiles(await maskFile());
  await expect.poll(async () => (await app.state()).maskSize).toBe(64);
  const onWhole = (await page.evaluate(() => window.__pgdiffTest?.maskPixels()))!;
  const marked = expected64.reduce((a, b) => a + b, 0);
  expect(marked).toBeGreaterThan(80);
  expect(mismatches(onWhole, expected64), 'crop pixels off the painted mask').toBe(0);

  // undo: detected and cropped to the template after all; the mask follows the face, so on the new crop it no
  // longer sits at the photo's pixels (this is what re-cropping did to imported masks before)
  await page.getByTestId('aligned-undo').click();
  await expect(app.alreadyCropped).not.toBeChecked();
  await expect(page.getByTestId('aligned-note')).toHaveCount(0);
  await expect.poll(async () => (await app.state()).crops[0]?.key ?? ':whole:', { timeout: 120_000 }).not.toContain(':whole:');
  await expect.poll(async () => (await app.state()).faceStatus).toBe('ready');
  s = await app.state();
  expect(s.faces).toBe(1);
  await expect.poll(async () => (await app.state()).maskMissing ?? 0).toBeGreaterThan(0);
  const onRecrop = (await page.evaluate(() => window.__pgdiffTest?.maskPixels()))!;
  console.log(`mask on the photo's own crop: 0 pixels off; on the re-detected crop: ${mismatches(onRecrop, expected64)} of ${marked} off`);
  expect(mismatches(onRecrop, expected64)).toBeGreaterThan(0);
  // the person's "no" stands: the switch stays off for this photo
  await page.waitForTimeout(1000);
  await expect(app.alreadyCropped).not.toBeChecked();

  // a square photo with the face small in it is not a crop: detected and cropped as usual
  const whole = await sharp({ create: { width: 800, height: 800, channels: 3, background: { r: 90, g: 110, b: 120 } } })
    .composite([{ input: await sharp(crop.buffer).resize(360, 360).toBuffer(), left: 380, top: 120 }])
    .png()
    .toBuffer();
  await app.upload({ name: 'small-face.png', mimeType: 'image/png', buffer: whole });
  await expect.poll(async () => (await app.state()).photo?.name).toBe('small-face.png');
  await expect.poll(async () => (await app.state()).faceStatus, { timeout: 120_000 }).toBe('ready');
  s = await app.state();
  expect(s.faces).toBe(1);
  expect(s.crops[0]!.key).not.toContain(':whole:');
  await expect(app.alreadyCropped).not.toBeChecked();

  // the crop again (a new photo): recognised again; then a photo that is not a crop turns the switch back off
  await app.upload({ ...crop, name: 'again.png' });
  await expect(app.alreadyCropped).toBeChecked({ timeout: 120_000 });
  await app.upload({ name: 'small-face-2.png', mimeType: 'image/png', buffer: whole });
  await expect.poll(async () => (await app.state()).photo?.name).toBe('small-face-2.png');
  await expect(app.alreadyCropped).not.toBeChecked({ timeout: 120_000 });
  await expect.poll(async () => (await app.state()).faceStatus, { timeout: 120_000 }).toBe('ready');
  expect((await app.state()).crops[0]!.key).not.toContain(':whole:');
});
