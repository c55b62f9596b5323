import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { openWithCroppedFace } from './pages/app-page';
import { firstFile, testImage } from './fixtures';

test('blind restoration: cropped face, progress with preview, compare, download, history after reload', async ({ page }) => {
  const photo = testImage(`cropped_faces/${firstFile('cropped_faces')}`);
  const app = await openWithCroppedFace(page, photo);
  await app.setTask('blind');
  await app.setSampler({ steps: 3, seed: 7 });

  // real step events drive the bar; the preview arrives with them
  const s = await app.runToResults({ firstStepTimeout: 120_000 });
  expect(s.currentRun).toMatchObject({ faces: 1, variants: 1, width: 64, height: 64, task: 'blind' });
  expect(s.previewSize).toBeGreaterThan(0);
  expect(s.measuredStepMs).toBeGreaterThan(0);

  // before/after slider: keyboard operable
  await app.compareSlider.focus();
  await page.keyboard.press('Home');
  await expect(app.compareSlider).toHaveValue('0');
  await page.keyboard.press('ArrowRight');
  await expect(app.compareSlider).toHaveValue('1');
  await page.keyboard.press('End');
  await expect(app.compareSlider).toHaveValue('100');

  // download the face crop: at the face's size in the photo (512 here: the whole photo is the face), not the
  // model's 64, as a PNG since the photo was a PNG
  const dl = await app.download(app.downloadCrop);
  expect(dl.name).toMatch(/-restored\.png$/);
  const meta = await sharp(dl.bytes).metadata();
  expect(meta).toMatchObject({ format: 'png', width: 512, height: 512 });
  // other formats on request
  await page.getByTestId('download-format').selectOption('jpeg');
  await page.getByTestId('download-quality').fill('80');
  const dlj = await app.download(app.downloadCrop);
  expect(dlj.name).toMatch(/-restored\.jpg$/);
  expect(await sharp(dlj.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 512 });
  await page.getByTestId('download-format').selectOption('png');

  // the full photo with the face pasted back, at the photo's size
  const meta2 = await sharp((await app.download(app.downloadFull)).bytes).metadata();
  expect(meta2).toMatchObject({ format: 'png', width: 512, height: 512 });

  // the run is in the history, and still there after a reload
  await expect(app.historyEntry(0)).toBeVisible();
  await expect(app.historyEntry(0).getByTestId('history-settings')).toContainText('seed 7');
  await page.reload();
  await expect(app.historyEntry(0)).toBeVisible();
  await expect(app.historyEntry(0).getByTestId('history-settings')).toContainText('Blind restoration');
  const thumb = app.historyEntry(0).getByTestId('history-thumb');
  await expect.poll(() => thumb.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
  await app.historyEntry(0).getByTestId('history-open').click();
  await expect(app.results).toBeVisible();
  expect((await app.state()).currentRun).toMatchObject({ width: 64, task: 'blind' });
  // after the reload the photo on screen is the restored session's (a new photo id): the full photo of this run
  // comes from the copy the history kept
  const meta3 = await sharp((await app.download(app.downloadFull)).bytes).metadata();
  expect(meta3).toMatchObject({ format: 'png', width: 512, height: 512 });
});
