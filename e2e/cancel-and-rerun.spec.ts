import { expect, test } from '@playwright/test';
import { openWithCroppedFace } from './pages/app-page';
import { firstFile, testImage } from './fixtures';

test('cancel mid-run keeps everything; run again; re-run from history restores its settings', async ({ page }) => {
  test.setTimeout(600_000);
  const photo = testImage(`cropped_faces/${firstFile('cropped_faces')}`);
  const app = await openWithCroppedFace(page, photo);

  // a long run, cancelled after its first step
  await app.setSampler({ steps: 50, seed: 3 });
  await app.runButton.click();
  await app.waitForFirstStep(180_000);
  const cancelledAt = Date.now();
  await app.cancelButton.click();
  await expect(app.runCancelled).toBeVisible({ timeout: 120_000 });
  const stopMs = Date.now() - cancelledAt;
  let s = await app.state();
  // either the engine stopped between steps, or the client replaced the worker after its grace time
  test.info().annotations.push({ type: 'cancel-stop-ms', description: `${stopMs} (engine restarts: ${s.engineRestarts})` });
  expect(s.runStatus).toBe('cancelled');
  expect(s.photo?.name).toBe(photo.name);
  expect(s.crops).toHaveLength(1);
  expect(s.currentRun).toBeUndefined();
  expect(s.history).toHaveLength(0);
  // the UI stayed responsive: the controls still work
  await expect(app.runButton).toBeEnabled();

  // run again, short
  await app.setSampler({ steps: 2, seed: 5 });
  await app.runButton.click();
  await expect(app.results).toBeVisible({ timeout: 240_000 });
  // the history entry is written to IndexedDB right after the result shows
  await expect.poll(async () => (await app.state()).history.length, { timeout: 30_000 }).toBe(1);
  s = await app.state();
  expect(s.history[0]?.seed).toBe(5);

  // change the settings, then re-run the history entry: its settings come back
  await app.setSampler({ steps: 2, seed: 999 });
  await app.historyEntry(0).getByTestId('history-rerun').click();
  await expect(app.progress).toBeVisible();
  await expect.poll(async () => (await app.state()).history.length, { timeout: 240_000 }).toBe(2);
  s = await app.state();
  expect(s.history[0]?.seed).toBe(5);
  expect(s.runStatus).toBe('done');
});
