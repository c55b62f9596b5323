/** Shared e2e helpers: test images from ../shared/testdata, generated bad files, the tiny model set. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { Page } from '@playwright/test';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..');
export const testdata = path.resolve(repoRoot, '..', 'shared', 'testdata');
export const tinyModelDir = path.resolve(repoRoot, 'tests', 'fixtures', 'models', 'tiny');

export interface FilePayload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

export function testImage(rel: string): FilePayload {
  const p = path.join(testdata, rel);
  const ext = path.extname(p).toLowerCase();
  return {
    name: path.basename(p),
    mimeType: ext === '.png' ? 'image/png' : ext === '.webp' ? 'image/webp' : 'image/jpeg',
    buffer: fs.readFileSync(p),
  };
}

/** A text file that pretends to be a PNG. */
export function textAsPng(): FilePayload {
  return { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('These are my notes, not a photo.\n'.repeat(20)) };
}

/** A real PNG cut off after its first 600 bytes. */
export function truncatedPng(): FilePayload {
  const full = fs.readFileSync(path.join(testdata, 'cropped_faces', firstFile('cropped_faces')));
  return { name: 'broken.png', mimeType: 'image/png', buffer: full.subarray(0, 600) };
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A well-formed PNG header saying 30000 x 30000 pixels (900 megapixels), with a tiny body. */
export function hugePngHeader(): FilePayload {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30000, 0);
  ihdr.writeUInt32BE(30000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const idat = zlib.deflateSync(Buffer.alloc(1024));
  const buffer = Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
  return { name: 'huge.png', mimeType: 'image/png', buffer };
}

/** A flat grey picture: a valid image with no face in it. */
export async function flatImage(): Promise<FilePayload> {
  const buffer = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 128, g: 128, b: 120 } } })
    .png()
    .toBuffer();
  return { name: 'wall.png', mimeType: 'image/png', buffer };
}

/** A big photo (3000 x 2000) made from a test face, to check the working copy is downscaled. */
export async function bigPhoto(): Promise<FilePayload> {
  const face = fs.readFileSync(path.join(testdata, 'cropped_faces', firstFile('cropped_faces')));
  const buffer = await sharp(face).resize(3000, 2000, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();
  return { name: 'big.jpg', mimeType: 'image/jpeg', buffer };
}

export function firstFile(dir: string): string {
  const f = fs
    .readdirSync(path.join(testdata, dir))
    .filter((n) => /\.(png|jpe?g|webp)$/i.test(n))
    .sort()[0];
  if (!f) throw new Error(`no images in ${dir}`);
  return f;
}

export function dataUrl(file: FilePayload): string {
  return `data:${file.mimeType};base64,${file.buffer.toString('base64')}`;
}

/** Serve the tiny test model set at /test-models/tiny/ (from tests/fixtures, never public/). */
export async function routeTinyModels(page: Page): Promise<string> {
  await page.context().route('**/test-models/tiny/**', async (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.split('/').pop() ?? '');
    const p = path.join(tinyModelDir, path.basename(name));
    if (!fs.existsSync(p)) return route.fulfill({ status: 404, body: 'not found' });
    await route.fulfill({
      path: p,
      headers: {
        'content-type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        'cross-origin-resource-policy': 'same-origin',
      },
    });
  });
  return '/test-models/tiny/manifest.json';
}

/** Stop the app loading its bundled model set at start-up (tests load the tiny set instead). */
export async function noAutoload(page: Page): Promise<void> {
  await page.addInitScript(() => {
    (window as unknown as { __pgdiffNoAutoload: boolean }).__pgdiffNoAutoload = true;
  });
}

let warmedUp = false;

/**
 * Vite's dev server finds the worker's dependencies only when the worker first loads, optimises
 * them and then reloads the page once. Do that reload before a test starts, once per process.
 */
export async function warmUpDevServer(page: Page): Promise<void> {
  if (warmedUp) return;
  // the e2e dev server's own dependency cache (vite.config.ts: node_modules/.vite-e2e-<port>)
  const meta = path.join(repoRoot, 'node_modules', `.vite-e2e-${process.env.E2E_PORT ?? '5179'}`, 'deps', '_metadata.json');
  const optimised = () => fs.existsSync(meta) && fs.readFileSync(meta, 'utf8').includes('protobufjs');
  if (!optimised()) {
    const reloaded = page.waitForEvent('framenavigated', { timeout: 120_000 }).catch(() => undefined);
    await page.goto('/');
    const deadline = Date.now() + 120_000;
    while (!optimised() && Date.now() < deadline) await page.waitForTimeout(500);
    await Promise.race([reloaded, page.waitForTimeout(15_000)]);
  }
  warmedUp = true;
}
