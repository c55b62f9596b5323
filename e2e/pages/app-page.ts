/** Page object for the whole app, on data-testid. */
import fs from 'node:fs';
import { expect } from '@playwright/test';
import type { Locator, Page } from '@playwright/test';
import type { ModelSource, SamplerSettings, TaskName } from '../../workers/api';
import type { TestStateSummary } from '../../src/test-api';
import type { RequestSummary } from '../../src/worker-client';
import type { FilePayload } from '../fixtures';
import { firstFile, noAutoload, routeTinyModels, testImage, warmUpDevServer } from '../fixtures';

export class AppPage {
  readonly root: Locator;
  readonly fileInput: Locator;
  readonly dropZone: Locator;
  readonly photoError: Locator;
  readonly photoName: Locator;
  readonly photoCanvas: Locator;
  readonly alreadyCropped: Locator;
  readonly facesError: Locator;
  readonly facePicker: Locator;
  readonly alignedCrops: Locator;
  readonly runButton: Locator;
  readonly cancelButton: Locator;
  readonly runBlocker: Locator;
  readonly progress: Locator;
  readonly progressBar: Locator;
  readonly progressText: Locator;
  readonly preview: Locator;
  readonly runCancelled: Locator;
  readonly runError: Locator;
  readonly results: Locator;
  readonly compareSlider: Locator;
  readonly compareBefore: Locator;
  readonly downloadCrop: Locator;
  readonly downloadFull: Locator;
  readonly history: Locator;
  readonly capabilities: Locator;
  readonly modelNotice: Locator;

  constructor(readonly page: Page) {
    const t = (id: string) => page.getByTestId(id);
    this.root = t('app-root');
    this.fileInput = t('file-input');
    this.dropZone = t('drop-zone');
    this.photoError = t('photo-error');
    this.photoName = t('photo-name');
    this.photoCanvas = t('photo-canvas');
    this.alreadyCropped = t('already-cropped');
    this.facesError = t('faces-error');
    this.facePicker = t('face-picker');
    this.alignedCrops = t('aligned-crops');
    this.runButton = t('run-button');
    this.cancelButton = t('cancel-button');
    this.runBlocker = t('run-blocker');
    this.progress = t('run-progress');
    this.progressBar = t('progress-bar');
    this.progressText = t('progress-text');
    this.preview = t('run-preview');
    this.runCancelled = t('run-cancelled');
    this.runError = t('run-error');
    this.results = t('results-panel');
    this.compareSlider = t('compare-slider');
    this.compareBefore = t('compare-before');
    this.downloadCrop = t('download-crop');
    this.downloadFull = t('download-full');
    this.history = t('history-list');
    this.capabilities = t('capabilities');
    this.modelNotice = t('model-notice');
  }

  async goto(): Promise<void> {
    await warmUpDevServer(this.page);
    await this.page.goto('/');
    await expect(this.root).toBeVisible();
    await this.page.waitForFunction(() => window.__pgdiffTest !== undefined);
  }

  async upload(file: FilePayload): Promise<void> {
    await this.fileInput.setInputFiles(file);
  }

  /** Drop a file on the drop zone (a real DataTransfer with a File). */
  async drop(file: FilePayload): Promise<void> {
    const dt = await this.page.evaluateHandle(
      ({ b64, name, type }) => {
        const bin = atob(b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const d = new DataTransfer();
        d.items.add(new File([bytes], name, { type }));
        return d;
      },
      { b64: file.buffer.toString('base64'), name: file.name, type: file.mimeType },
    );
    await this.dropZone.dispatchEvent('dragenter', { dataTransfer: dt });
    await this.dropZone.dispatchEvent('drop', { dataTransfer: dt });
  }

  /** Paste a file (a ClipboardEvent carrying a DataTransfer) on the page. */
  async paste(file: FilePayload): Promise<void> {
    await this.page.evaluate(
      ({ b64, name, type }) => {
        const bin = atob(b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const d = new DataTransfer();
        d.items.add(new File([bytes], name, { type }));
        window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: d, bubbles: true }));
      },
      { b64: file.buffer.toString('base64'), name: file.name, type: file.mimeType },
    );
  }

  cropThumb(): Promise<number[] | undefined> {
    return this.page.evaluate(() => window.__pgdiffTest?.cropThumb());
  }

  /** every request the worker was sent since the page loaded */
  sentRequests(): Promise<RequestSummary[]> {
    return this.page.evaluate(() => window.__pgdiffTest?.sentRequests() ?? []);
  }

  state(): Promise<TestStateSummary> {
    return this.page.evaluate(() => {
      const api = window.__pgdiffTest;
      if (!api) throw new Error('test API missing');
      return api.state();
    });
  }

  /**
   * Waits until the run has reported a step; if it does not, the failure carries the app's state (model, backend,
   * run status, engine restarts, errors) so a hang on a CI machine can be told from a slow run.
   */
  async waitForFirstStep(timeout: number): Promise<void> {
    try {
      await expect(this.progressBar).toHaveAttribute('data-step', /^[1-9]/, { timeout });
    } catch (e) {
      const state = await this.state().catch((err: unknown) => `unavailable: ${String(err)}`);
      throw new Error(`${(e as Error).message}\napp state when no step came: ${JSON.stringify(state)}`, { cause: e });
    }
  }

  /**
   * Starts the run and waits for its results; with `firstStepTimeout` it first waits for a step to be reported (a
   * hang then fails with the app's state). Returns the state once the run is done.
   */
  async runToResults(opts: { timeout?: number; firstStepTimeout?: number } = {}): Promise<TestStateSummary> {
    await expect(this.runButton).toBeEnabled();
    await this.runButton.click();
    await expect(this.progress).toBeVisible();
    if (opts.firstStepTimeout) await this.waitForFirstStep(opts.firstStepTimeout);
    await expect(this.results).toBeVisible({ timeout: opts.timeout ?? 240_000 });
    const s = await this.state();
    expect(s.runStatus).toBe('done');
    return s;
  }

  /** Clicks a download button and returns the file's suggested name and bytes. */
  async download(button: Locator, timeout = 240_000): Promise<{ name: string; bytes: Buffer }> {
    const [dl] = await Promise.all([this.page.waitForEvent('download', { timeout }), button.click()]);
    return { name: dl.suggestedFilename(), bytes: fs.readFileSync(await dl.path()) };
  }

  async loadModels(source: ModelSource): Promise<void> {
    const ok = await this.page.evaluate((s) => window.__pgdiffTest?.loadModels(s), source);
    expect(ok, 'model set loads').toBe(true);
  }

  async setTask(task: TaskName): Promise<void> {
    await this.page.evaluate((t) => window.__pgdiffTest?.setTask(t), task);
  }

  async setSampler(patch: Partial<SamplerSettings>): Promise<void> {
    await this.page.evaluate((p) => window.__pgdiffTest?.setSampler(p), patch);
  }

  async setVariants(n: number): Promise<void> {
    await this.page.evaluate((v) => window.__pgdiffTest?.setVariants(v), n);
  }

  async setMask(dataUrl: string): Promise<void> {
    await this.page.evaluate((u) => window.__pgdiffTest?.setMaskFromDataUrl(u), dataUrl);
  }

  async addReference(dataUrl: string): Promise<void> {
    await this.page.evaluate((u) => window.__pgdiffTest?.addReferenceFromDataUrl(u), dataUrl);
  }

  historyEntry(i: number): Locator {
    return this.page.getByTestId(`history-entry-${i}`);
  }
}

/**
 * The app with the tiny test model set (served from tests/fixtures, no autoload of the bundled set)
 * and one cropped face uploaded and aligned: the starting point of most flows.
 */
export async function openWithCroppedFace(
  page: Page,
  photo: FilePayload = testImage(`cropped_faces/${firstFile('cropped_faces')}`),
): Promise<AppPage> {
  await noAutoload(page);
  const manifestUrl = await routeTinyModels(page);
  const app = new AppPage(page);
  await app.goto();
  await app.loadModels({ kind: 'url', manifestUrl: new URL(manifestUrl, page.url()).href });
  await app.alreadyCropped.check();
  await app.upload(photo);
  await expect(app.alignedCrops).toBeVisible();
  return app;
}
