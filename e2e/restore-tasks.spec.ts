import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import type { TaskName } from '../workers/api';
import { openWithCroppedFace, type AppPage } from './pages/app-page';
import { firstFile, testImage } from './fixtures';
import type { FilePayload } from './fixtures';

/** Open the app with the tiny test set, a cropped face, and the task chosen in the controls. */
async function prepare(page: Page, photo: FilePayload, task: TaskName): Promise<AppPage> {
  const app = await openWithCroppedFace(page, photo);
  await page.getByTestId(`task-${task}`).click();
  expect((await app.state()).task).toBe(task);
  await app.setSampler({ steps: 2, seed: 11 });
  return app;
}

async function runAndCheck(app: AppPage, task: TaskName, variants = 1): Promise<void> {
  const s = await app.runToResults();
  expect(s.currentRun).toMatchObject({ faces: 1, variants, width: 64, height: 64, task });
  await expect(app.historyEntry(0)).toBeVisible();
  expect((await app.state()).history[0]?.task).toBe(task);
}

test('colorization of a grey face, two variants side by side', async ({ page }) => {
  const app = await prepare(page, testImage(`grayscale_faces/${firstFile('grayscale_faces')}`), 'colorization');
  await page.getByTestId('variants-input').fill('2');
  await runAndCheck(app, 'colorization', 2);
  const v1 = page.getByTestId('variant-1');
  await expect(page.getByTestId('variant-0')).toHaveAttribute('aria-pressed', 'true');
  await v1.click();
  await expect(v1).toHaveAttribute('aria-pressed', 'true');
  expect((await app.download(app.downloadCrop)).name).toMatch(/-restored-v2\.png$/);
});

test('inpainting needs a mask, imported in the mask editor', async ({ page }) => {
  const name = firstFile('masked_faces');
  const app = await prepare(page, testImage(`masked_faces/${name}`), 'inpainting');
  // without a mask the run is blocked, and the app says why
  await expect(app.runButton).toBeDisabled();
  await expect(app.runBlocker).toContainText('mask');
  await page.getByTestId('mask-import-input').setInputFiles(testImage(`append_masks/${name}`));
  await expect.poll(async () => (await app.state()).maskSize).toBe(64);
  const missing = (await app.state()).maskMissing ?? 0;
  expect(missing).toBeGreaterThan(0);
  await runAndCheck(app, 'inpainting');
  // the imported mask reached the engine, pixel for pixel
  const [req] = await app.sentRequests();
  expect(req).toMatchObject({ task: 'inpainting', image: [64, 64], mask: { width: 64, height: 64, missing }, references: 0 });
});

test('reference-based restoration with a reference photo of the same person', async ({ page }) => {
  const name = firstFile('ref_cropped_faces');
  const app = await prepare(page, testImage(`ref_cropped_faces/${name}`), 'reference');
  await expect(app.runButton).toBeDisabled();
  await expect(app.runBlocker).toContainText('reference');
  await page.getByTestId('references-input').setInputFiles(testImage(`ref_faces/${name}`));
  await expect.poll(async () => (await app.state()).references).toBe(1);
  await runAndCheck(app, 'reference');
  const [req] = await app.sentRequests();
  expect(req).toMatchObject({ task: 'reference', references: 1 });
  expect(req?.weights.identity).toBeGreaterThan(0);
});

test('old photo with scratches: imported scratch mask', async ({ page }) => {
  const app = await prepare(page, testImage('old_photos/med_scratch/0_7.jpg'), 'old-photo');
  await page.getByTestId('mask-import-input').setInputFiles(testImage('old_photos/scratch_masks/0_7.jpg'));
  await expect.poll(async () => (await app.state()).maskSize).toBe(64);
  const missing = (await app.state()).maskMissing ?? 0;
  expect(missing).toBeGreaterThan(0);
  await runAndCheck(app, 'old-photo');
  const [req] = await app.sentRequests();
  expect(req).toMatchObject({ task: 'old-photo', mask: { width: 64, height: 64, missing } });
});
