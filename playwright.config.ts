import { defineConfig } from '@playwright/test';

// Debian's Chromium with the software WebGPU adapter (swiftshader). Never `npx playwright install`.
const chromiumArgs = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-quic'];
const port = Number(process.env.E2E_PORT ?? 5179);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  timeout: 300_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  // not test-results/ itself: Playwright empties its outputDir, and the unit results live beside it
  outputDir: 'test-results/playwright',
  use: {
    baseURL: `http://localhost:${port}`,
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: `E2E=1 E2E_PORT=${port} npx vite --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
