import { defineConfig } from 'vite';
import type { Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { cspMetaTag } from './src/pwa/csp.ts';

// Cross-origin isolation lets onnxruntime-web use multithreaded WASM (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The strict Content-Security-Policy goes into the BUILT index.html only (src/pwa/csp.ts explains each
 * directive). Vite dev is left without a CSP: its HMR client needs ws: and injects inline scripts.
 */
const productionCsp: Plugin = {
  name: 'pgdiff-production-csp',
  apply: 'build',
  transformIndexHtml: {
    order: 'post',
    handler: (html) => html.replace(/<head>/i, `<head>\n    ${cspMetaTag()}`),
  },
};

/**
 * Service worker (vite-plugin-pwa, Workbox): precaches the app shell (HTML, JS, CSS, icons) so the app
 * opens offline after the first visit. Never precached: model sets (public/models/**, the model cache
 * in Cache Storage is the loader's job) and onnxruntime's large .wasm files, which are cached at run
 * time the first time the engine loads them (so a first offline visit after one restore still works).
 */
const pwa = VitePWA({
  registerType: 'autoUpdate',
  injectRegister: 'script-defer', // an external registerSW.js: no inline script under the CSP
  manifest: {
    name: 'PGDiff Restore',
    short_name: 'PGDiff Restore',
    description: 'Restore old, blurry or damaged face photos in your browser. Nothing is uploaded.',
    theme_color: '#2f5fd0',
    background_color: '#f6f4f0',
    display: 'standalone',
    start_url: '.',
    icons: [
      { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  },
  workbox: {
    globPatterns: ['**/*.{js,mjs,css,html,svg,png,ico,webmanifest}'],
    globIgnores: ['models/**', '**/*.onnx', '**/testdata/**', '**/ort-wasm*.mjs'],
    maximumFileSizeToCacheInBytes: 6 * 1024 * 1024,
    navigateFallback: 'index.html',
    navigateFallbackDenylist: [/^\/models\//],
    cleanupOutdatedCaches: true,
    runtimeCaching: [
      {
        // onnxruntime-web's WASM binaries and their loaders: same-origin, cached on first use
        urlPattern: ({ url, sameOrigin }) => sameOrigin && /ort-wasm[^/]*\.(wasm|mjs)$/.test(url.pathname),
        handler: 'CacheFirst',
        options: { cacheName: 'pgdiff-runtime-wasm', expiration: { maxEntries: 8 } },
      },
    ],
  },
  devOptions: { enabled: false },
});

export default defineConfig({
  plugins: [react(), productionCsp, pwa],
  // E2E=1: no HMR, so edits elsewhere never reload a page mid-test
  // Each e2e dev server and the e2e build get their own dependency cache: two Vite processes sharing
  // node_modules/.vite re-bundle each other's dependencies, and a page (or its worker) still holding the old
  // bundle's URLs then fails to load them and the run never starts (seen on CI right after the offline test's build)
  ...(process.env.PGDIFF_VITE_CACHE
    ? { cacheDir: process.env.PGDIFF_VITE_CACHE }
    : process.env.E2E
      ? { cacheDir: `node_modules/.vite-e2e-${process.env.E2E_PORT ?? 'default'}` }
      : {}),
  server: { headers: isolation, host: '127.0.0.1', ...(process.env.E2E ? { hmr: false } : {}) },
  preview: { headers: isolation, host: '127.0.0.1' },
  worker: { format: 'es' },
  // Pre-bundle every dependency at start-up, the worker's too (it is not reachable from index.html by a static
  // scan): a dependency discovered later makes the dev server re-bundle and reload pages mid-session, and a worker
  // that already imported the old bundle fails to load its next chunk ("Outdated Optimize Dep").
  optimizeDeps: {
    entries: ['index.html', 'workers/restore.worker.ts'],
    exclude: ['onnxruntime-web'],
    include: ['protobufjs/light.js', 'comlink', 'idb', 'react', 'react-dom/client', 'zustand', 'zustand/react/shallow'],
  },
  build: { target: 'es2022', sourcemap: true },
});
