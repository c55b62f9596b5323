import { expect, test } from '@playwright/test';
import { AppPage } from './pages/app-page';
import { bigPhoto, firstFile, flatImage, hugePngHeader, noAutoload, routeTinyModels, testImage, textAsPng, truncatedPng } from './fixtures';

test.describe('upload and input errors', () => {
  test.beforeEach(async ({ page }) => {
    await noAutoload(page);
  });

  test('shows the device capabilities and says plainly when no model is installed', async ({ page }) => {
    const app = new AppPage(page);
    await app.goto();
    await expect(app.capabilities).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    const backend = await app.capabilities.getAttribute('data-backend');
    expect(['webgpu', 'wasm']).toContain(backend);
    await expect(page.getByTestId('cap-webgpu')).toContainText(/WebGPU: (yes|no)/);
    if (backend !== 'webgpu') await expect(page.getByTestId('cap-fallback')).toContainText('WebAssembly');
    await expect(app.modelNotice).toContainText('No model is installed');
    await expect(page.getByTestId('open-models')).toBeVisible();
    // nothing to run yet, and the button says why
    await expect(app.runButton).toBeDisabled();
    await expect(app.runBlocker).toHaveAttribute('data-reason', 'no-model');
  });

  test('a software WebGPU adapter is not chosen over the CPU unless the person asks', async ({ page }) => {
    // headless Chromium's WebGPU is SwiftShader, a software renderer: the app must pick WASM and say why
    const app = new AppPage(page);
    await app.goto();
    await expect(app.capabilities).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    // the test machines' Chromium offers a (software) WebGPU adapter: without one this test cannot check anything
    await expect(page.getByTestId('cap-webgpu')).toContainText('WebGPU: yes');
    await expect(app.capabilities).toHaveAttribute('data-backend', 'wasm');
    await expect(page.getByTestId('cap-fallback')).toContainText('software renderer');
    await page.getByTestId('device-webgpu').click();
    await expect(app.capabilities).toHaveAttribute('data-backend', 'webgpu', { timeout: 60_000 });
    await expect(page.getByTestId('device-cpu')).toBeVisible();
    await page.getByTestId('device-cpu').click();
    await expect(app.capabilities).toHaveAttribute('data-backend', 'wasm', { timeout: 60_000 });
  });

  test('loads a photo from the file picker, by drag and drop and by paste', async ({ page }) => {
    const app = new AppPage(page);
    await app.goto();
    const a = testImage(`cropped_faces/${firstFile('cropped_faces')}`);
    await app.upload(a);
    await expect(app.photoName).toHaveText(a.name);
    await expect(app.photoCanvas).toBeVisible();
    let s = await app.state();
    expect(s.photo).toMatchObject({ width: 512, height: 512, scale: 1 });

    const b = testImage(`grayscale_faces/${firstFile('grayscale_faces')}`);
    await app.drop(b);
    await expect(app.photoName).toHaveText(b.name);

    const c = testImage(`old_photos/med/${firstFile('old_photos/med')}`);
    await app.paste(c);
    await expect(app.photoName).toHaveText(c.name);
    s = await app.state();
    expect(s.photo?.name).toBe(c.name);
  });

  test('keeps the full-size original and works on a downscaled copy of a big photo', async ({ page }) => {
    const app = new AppPage(page);
    await app.goto();
    await app.upload(await bigPhoto());
    await expect(app.photoName).toHaveText('big.jpg');
    const s = await app.state();
    expect(s.photo).toMatchObject({ width: 3000, height: 2000, workingWidth: 2048, workingHeight: 1365 });
    expect(s.photo?.scale).toBeCloseTo(2048 / 3000, 6);
  });

  test('refuses a text file named .png, a truncated PNG and a huge image, keeping the current photo', async ({ page }) => {
    const app = new AppPage(page);
    await app.goto();
    const good = testImage(`cropped_faces/${firstFile('cropped_faces')}`);
    await app.upload(good);
    await expect(app.photoName).toHaveText(good.name);

    await app.upload(textAsPng());
    await expect(app.photoError).toHaveAttribute('data-error-code', 'not-an-image');
    await expect(app.photoError).toContainText('not an image');
    await expect(app.photoError).toContainText('JPEG, PNG or WebP');
    await expect(app.photoName).toHaveText(good.name);

    await app.upload(truncatedPng());
    await expect(app.photoError).toHaveAttribute('data-error-code', 'corrupt-image');
    await expect(app.photoError).toContainText('damaged or incomplete');
    await expect(app.photoName).toHaveText(good.name);

    await app.upload(hugePngHeader());
    await expect(app.photoError).toHaveAttribute('data-error-code', 'too-large');
    await expect(app.photoError).toContainText('30000 × 30000');
    await expect(app.photoName).toHaveText(good.name);
    expect((await app.state()).photo?.name).toBe(good.name);

    // a good file clears the error
    await app.upload(good);
    await expect(app.photoError).toHaveCount(0);
  });

  test('says "no face found" with the next step, and the cropped-face switch gets past it', async ({ page }) => {
    const app = new AppPage(page);
    const manifestUrl = await routeTinyModels(page);
    await app.goto();
    await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });
    await expect(app.modelNotice).toHaveAttribute('data-state', 'test-only');
    await app.upload(await flatImage());
    await expect(app.facesError).toHaveAttribute('data-error-code', 'no-face', { timeout: 60_000 });
    await expect(app.facesError).toContainText('already a cropped face');
    await page.getByTestId('use-as-cropped').click();
    await expect(app.alreadyCropped).toBeChecked();
    await expect(app.facesError).toHaveCount(0);
    await expect(app.alignedCrops).toBeVisible();
    const s = await app.state();
    expect(s.crops).toHaveLength(1);
    expect(s.crops[0]).toMatchObject({ width: 64, height: 64 });
  });

  test('a model set that fails to load is reported with the next step, and the app keeps working', async ({ page }) => {
    const app = new AppPage(page);
    await app.goto();
    const ok = await page.evaluate(
      (u) => window.__pgdiffTest?.loadModels({ kind: 'url', manifestUrl: u }),
      new URL('/no-such-models/manifest.json', page.url()).href,
    );
    expect(ok).toBe(false);
    await expect(app.modelNotice).toHaveAttribute('data-state', 'error');
    await expect(app.modelNotice).toContainText('could not be loaded');
    await expect(app.modelNotice).toContainText('Models panel');
    // the photo input still works
    const a = testImage(`cropped_faces/${firstFile('cropped_faces')}`);
    await app.upload(a);
    await expect(app.photoName).toHaveText(a.name);
    await expect(app.runBlocker).toHaveAttribute('data-reason', 'no-model');
  });
});

test('at start-up, a missing bundled model set is reported as "no model installed"', async ({ page }) => {
  // whatever public/ holds, this test's server has no bundled set
  await page.context().route('**/models/pgdiff-utk-latent/**', (route) => route.fulfill({ status: 404, body: 'not found' }));
  const app = new AppPage(page);
  await app.goto();
  await expect(app.modelNotice).toHaveAttribute('data-state', 'none', { timeout: 60_000 });
  await expect(app.modelNotice).toContainText('No model is installed');
  expect((await app.state()).modelStatus).toBe('error');
});
