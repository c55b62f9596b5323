/**
 * Layout checks at phone and desktop widths, and the screenshots in docs/screenshots/ (written on
 * every run, so the docs show what the app looks like now).
 */
import path from 'node:path';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { AppPage } from './pages/app-page';
import { firstFile, noAutoload, repoRoot, routeTinyModels, testImage, textAsPng } from './fixtures';

const shots = path.join(repoRoot, 'docs', 'screenshots');

async function noHorizontalScroll(page: Page): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: document.documentElement.clientWidth,
  }));
  expect(scroll, 'page is not wider than the screen').toBeLessThanOrEqual(width);
}

test('phone (360 px): readable without sideways scrolling, keyboard focus visible', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 780 });
  await noAutoload(page);
  const manifestUrl = await routeTinyModels(page);
  const app = new AppPage(page);
  await app.goto();
  await expect(app.capabilities).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await noHorizontalScroll(page);
  await page.screenshot({ path: path.join(shots, 'phone-start.png'), fullPage: false });

  // keyboard: Tab reaches the skip link and then the photo button, with a visible outline
  await page.keyboard.press('Tab');
  await expect(page.locator('.skip-link')).toBeFocused();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  const focused = page.locator(':focus');
  await expect(focused).toHaveAttribute('data-testid', 'choose-photo');
  const outline = await focused.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');

  await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });
  await app.upload(textAsPng());
  await expect(app.photoError).toBeVisible();
  await noHorizontalScroll(page);
  await app.photoError.screenshot({ path: path.join(shots, 'phone-error-not-an-image.png') });

  await app.alreadyCropped.check();
  await app.upload(testImage(`old_photos/med/${firstFile('old_photos/med')}`));
  await expect(app.alignedCrops).toBeVisible();
  await noHorizontalScroll(page);
  await page.getByTestId('faces-panel').screenshot({ path: path.join(shots, 'phone-faces.png') });
});

test('desktop: the main screens; no request leaves this site', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await noAutoload(page);
  const requests: string[] = [];
  page.context().on('request', (r) => requests.push(r.url()));
  const app = new AppPage(page);
  await app.goto();
  await expect(app.capabilities).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await page.screenshot({ path: path.join(shots, 'desktop-no-model.png') });

  const manifestUrl = await routeTinyModels(page);
  await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });
  await app.alreadyCropped.check();
  await app.upload(testImage(`old_photos/med_scratch/0_7.jpg`));
  await page.getByTestId('task-old-photo').click();
  await page.getByTestId('mask-import-input').setInputFiles(testImage('old_photos/scratch_masks/0_7.jpg'));
  await expect.poll(async () => (await app.state()).maskSize).toBeGreaterThan(0);
  await noHorizontalScroll(page);
  await page.screenshot({ path: path.join(shots, 'desktop-photo-and-mask.png'), fullPage: true });

  // enough steps for the progress screen to be seen: the CPU (WASM) path runs the tiny set fast
  await app.setSampler({ steps: 400, seed: 1 });
  await app.runButton.click();
  await expect(app.preview).toBeVisible({ timeout: 180_000 });
  await page.getByTestId('run-panel').screenshot({ path: path.join(shots, 'desktop-progress.png') });
  await expect(app.results).toBeVisible({ timeout: 240_000 });
  await app.results.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(shots, 'desktop-results.png'), fullPage: true });
  await noHorizontalScroll(page);

  // the photo, the mask and the result never leave the device: every request went to this site
  const origin = new URL(page.url()).origin;
  const elsewhere = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  expect(requests.length).toBeGreaterThan(0);
  expect(elsewhere).toEqual([]);
});
