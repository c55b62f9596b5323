import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { AppPage } from './pages/app-page';
import { firstFile, noAutoload, routeTinyModels, testdata } from './fixtures';

test('detects every face in a group photo, draws boxes, and aligns the faces the person picks', async ({ page }) => {
  await noAutoload(page);
  const manifestUrl = await routeTinyModels(page);
  const app = new AppPage(page);
  await app.goto();
  await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });

  // two real faces side by side on a background, like a small group photo
  const a = fs.readFileSync(path.join(testdata, 'old_photos/med', firstFile('old_photos/med')));
  const b = fs.readFileSync(path.join(testdata, 'cropped_faces', firstFile('cropped_faces')));
  const buffer = await sharp({ create: { width: 1400, height: 800, channels: 3, background: { r: 90, g: 110, b: 120 } } })
    .composite([
      { input: await sharp(a).resize(420, 420).toBuffer(), left: 120, top: 190 },
      { input: await sharp(b).resize(420, 420).toBuffer(), left: 820, top: 170 },
    ])
    .jpeg({ quality: 90 })
    .toBuffer();
  await app.upload({ name: 'two-people.jpg', mimeType: 'image/jpeg', buffer });

  await expect(app.facePicker).toBeVisible({ timeout: 120_000 });
  await expect(app.facePicker.locator('[data-testid^="face-thumb-"]')).toHaveCount(2);
  let s = await app.state();
  expect(s.faces).toBe(2);
  // the largest face starts selected and aligned to the model's 64x64 template
  await expect.poll(async () => (await app.state()).crops.length).toBe(1);
  expect((await app.state()).crops[0]).toMatchObject({ width: 64, height: 64 });
  await expect(page.locator('.face-box--selected')).toHaveCount(1);

  // pick the other face as well
  const unselected = app.facePicker.locator('[aria-pressed="false"]');
  await unselected.first().click();
  await expect.poll(async () => (await app.state()).crops.length).toBe(2);
  await expect(page.locator('.face-box--selected')).toHaveCount(2);
  s = await app.state();
  expect(s.crops.every((c) => c.width === 64)).toBe(true);
});
