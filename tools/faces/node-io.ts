/**
 * Node-only helpers for tests and tools: a runner for one ONNX file (the face detector, the mesh), and
 * image I/O with sharp. Not imported by workers/ code that ships to the browser.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { RgbaImage } from '../../workers/api';
import type { DetectorRunner } from '../../workers/faces/detector';
import { tensorRunner } from '../../workers/runtime/backend';
import { createNodeBackend } from '../../workers/runtime/node';

/** One ONNX file on onnxruntime-node, through the runtime's own session adapter (as the worker runs it). */
export async function createOrtRunner(modelPath: string, threads = 1): Promise<{ run: DetectorRunner; release: () => Promise<void> }> {
  const backend = createNodeBackend(threads);
  const session = await backend.createSession(new Uint8Array(await readFile(modelPath)), path.basename(modelPath));
  return { run: tensorRunner(backend, session), release: () => backend.dispose() };
}

export async function loadRgba(path: string): Promise<RgbaImage> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

export async function saveRgba(img: RgbaImage, path: string): Promise<void> {
  await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 4 },
  }).toFile(path);
}

export async function decodeRgba(bytes: Buffer): Promise<RgbaImage> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}
