import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Download } from '@playwright/test';
import sharp from 'sharp';
import { AppPage } from './pages/app-page';
import { firstFile, noAutoload, routeTinyModels, testdata } from './fixtures';

test('group photo: detects every face, boxes, picks two, restores both and pastes them back at full size', async ({ page }) => {
  test.setTimeout(600_000);
  await noAutoload(page);
  const manifestUrl = await routeTinyModels(page);
  const app = new AppPage(page);
  await app.goto();
  await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });

  // two real faces on a background, bigger than the 2048 px working copy
  const a = fs.readFileSync(path.join(testdata, 'old_photos/med', firstFile('old_photos/med')));
  const b = fs.readFileSync(path.join(testdata, 'cropped_faces', firstFile('cropped_faces')));
  const buffer = await sharp({ create: { width: 2600, height: 1500, channels: 3, background: { r: 90, g: 110, b: 120 } } })
    .composite([
      { input: await sharp(a).resize(760, 760).toBuffer(), left: 220, top: 360 },
      { input: await sharp(b).resize(760, 760).toBuffer(), left: 1560, top: 320 },
    ])
    .jpeg({ quality: 90 })
    .toBuffer();
  await app.upload({ name: 'two-people.jpg', mimeType: 'image/jpeg', buffer });
  await expect.poll(async () => (await app.state()).photo?.workingWidth).toBe(2048);

  await expect(app.facePicker).toBeVisible({ timeout: 120_000 });
  await expect(app.facePicker.locator('[data-testid^="face-thumb-"]')).toHaveCount(2);
  expect((await app.state()).faces).toBe(2);
  // every face starts selected, aligned to the model's 64x64 template, numbered left to right
  await expect.poll(async () => (await app.state()).crops.length).toBe(2);
  expect((await app.state()).crops[0]).toMatchObject({ width: 64, height: 64 });
  await expect(page.locator('.face-box--selected')).toHaveCount(2);
  const xs = await page.locator('.face-box rect').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('x'))));
  expect(xs[0]).toBeLessThan(xs[1]!);

  // select none, then one face with the keyboard (focus the thumbnail, press Space), then all again
  await page.getByTestId('faces-select-none').click();
  await expect.poll(async () => (await app.state()).crops.length).toBe(0);
  await app.facePicker.locator('[data-testid="face-thumb-1"]').focus();
  await page.keyboard.press('Space');
  await expect.poll(async () => (await app.state()).crops.length).toBe(1);
  await expect(page.locator('.face-box--selected')).toHaveCount(1);
  await page.getByTestId('faces-select-all').click();
  await expect.poll(async () => (await app.state()).crops.length).toBe(2);
  await expect(page.locator('.face-box--selected')).toHaveCount(2);

  // restore both faces (one step each: this checks the plumbing, not quality)
  await app.setSampler({ steps: 1, seed: 2 });
  await app.runButton.click();
  await expect(app.results).toBeVisible({ timeout: 360_000 });
  expect((await app.state()).currentRun).toMatchObject({ faces: 2, width: 64 });
  await page.getByTestId('result-face-1').click();
  await expect(page.getByTestId('result-face-1')).toHaveAttribute('aria-pressed', 'true');

  // the whole photo, before and after, in the results view (scaled to 1024 px for the screen)
  await page.getByTestId('view-photo').click();
  await expect(page.getByTestId('compare-photo')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('compare-photo')).toHaveAttribute('data-width', '1024');
  await expect(page.getByTestId('compare-photo')).toHaveAttribute('data-height', String(Math.round((1500 * 1024) / 2600)));
  await page.getByTestId('view-face').click();

  // the full photo comes back at its original size, not the working copy's (a JPEG photo offers JPEG first;
  // PNG here, to compare pixels exactly)
  await expect(page.getByTestId('download-format')).toHaveValue('jpeg');
  await page.getByTestId('download-format').selectOption('png');
  const [dl] = await Promise.all([page.waitForEvent('download'), app.downloadFull.click()]);
  const meta = await sharp(fs.readFileSync(await dl.path())).metadata();
  expect(meta).toMatchObject({ format: 'png', width: 2600, height: 1500 });

  // and the restored faces land where the faces are: the face centres changed (the test model
  // paints noise), the background did not
  const out = await sharp(fs.readFileSync(await dl.path()))
    .removeAlpha()
    .raw()
    .toBuffer();
  const inp = await sharp(buffer).removeAlpha().raw().toBuffer();
  const meanDiff = (x0: number, y0: number, size: number): number => {
    let sum = 0;
    for (let y = y0; y < y0 + size; y++) {
      for (let x = x0; x < x0 + size; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * 2600 + x) * 3 + c;
          sum += Math.abs((out[i] ?? 0) - (inp[i] ?? 0));
        }
      }
    }
    return sum / (size * size * 3);
  };
  expect(meanDiff(560, 700, 80)).toBeGreaterThan(10); // face A centre (220 + 380, 360 + 380)
  expect(meanDiff(1900, 660, 80)).toBeGreaterThan(10); // face B centre (1560 + 380, 320 + 380)
  expect(meanDiff(1250, 60, 80)).toBeLessThan(3); // background between and above them

  // "download all faces": one file per face, numbered left to right, each at its size in the photo (the faces are
  // 760 px there, FFHQ-framed, so their aligned crops are about that size), not the model's 64
  const all: Download[] = [];
  page.on('download', (d) => all.push(d));
  await page.getByTestId('download-all-faces').click();
  await expect.poll(() => all.length, { timeout: 180_000 }).toBe(2);
  expect(all.map((d) => d.suggestedFilename())).toEqual(['two-people-restored-face1.png', 'two-people-restored-face2.png']);
  for (const d of all) {
    const m = await sharp(fs.readFileSync(await d.path())).metadata();
    expect(m.width).toBe(m.height);
    expect(m.width).toBeGreaterThan(600);
    expect(m.width).toBeLessThan(950);
  }
});

test('an upside-down scan: turning it reaches the detector and the face comes out upright', async ({ page }) => {
  await noAutoload(page);
  const manifestUrl = await routeTinyModels(page);
  const app = new AppPage(page);
  await app.goto();
  await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });
  const face = await sharp(path.join(testdata, 'ref_faces/00010.png')).resize(400, 400).toBuffer();
  const photo = (buf: Buffer) =>
    sharp({ create: { width: 900, height: 700, channels: 3, background: { r: 90, g: 110, b: 120 } } })
      .composite([{ input: buf, left: 250, top: 150 }])
      .png()
      .toBuffer();
  const corr = (a: number[], b: number[]) => {
    const m = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    const ma = m(a);
    const mb = m(b);
    let num = 0;
    let da = 0;
    let db = 0;
    a.forEach((v, i) => {
      num += (v - ma) * (b[i]! - mb);
      da += (v - ma) ** 2;
      db += (b[i]! - mb) ** 2;
    });
    return num / Math.sqrt(da * db);
  };
  // upright: the reference crop
  await app.upload({ name: 'upright.png', mimeType: 'image/png', buffer: await photo(face) });
  await expect.poll(async () => (await app.state()).crops.length, { timeout: 120_000 }).toBe(1);
  const upright = (await app.cropThumb())!;
  // the same face upside down: two clockwise turns make it upright again
  await app.upload({ name: 'sideways.png', mimeType: 'image/png', buffer: await photo(await sharp(face).rotate(180).toBuffer()) });
  await expect.poll(async () => (await app.state()).photo?.name).toBe('sideways.png');
  await expect.poll(async () => (await app.state()).faceStatus, { timeout: 120_000 }).toMatch(/ready|error/);
  const naive = await app.cropThumb();
  await page.getByTestId('turn-photo').click();
  await expect(page.getByTestId('turns')).toContainText('90°');
  await expect.poll(async () => (await app.state()).faceStatus, { timeout: 120_000 }).toMatch(/ready|error/);
  await page.getByTestId('turn-photo').click();
  await expect(page.getByTestId('turns')).toContainText('180°');
  await expect.poll(async () => (await app.state()).faceStatus, { timeout: 120_000 }).toBe('ready');
  const turned = (await app.cropThumb())!;
  const before = naive ? corr(naive, upright) : -1;
  console.log(`crop vs the upright crop: without the turn ${before.toFixed(3)}, with it ${corr(turned, upright).toFixed(3)}`);
  expect(corr(turned, upright)).toBeGreaterThan(0.9);
  expect(corr(turned, upright)).toBeGreaterThan(before + 0.1);
});
