import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fileFetch, manifestUrlOf, REPO_ROOT } from '../../cli/node-engine';
import { createOrtRunner, loadRgba } from '../../tools/faces/node-io';
import { detectorPath, meshPath, sharedDir } from '../../tools/faces/test-support';
import { createEngineService, type EngineService } from '../../workers/engine-service';
import { findFaces } from '../../workers/faces/index';
import type { FetchLike } from '../../workers/models/download';
import { createNodeRuntime } from '../../workers/runtime/node';
import { CodedError, ERRORS } from '../../workers/shared/errors';
import { TINY } from './helpers';
import { CacheStorageModelStore, type ModelStore } from '../../workers/models/cache';
import { MemoryCacheStorage } from '../helpers/models/memory-cache-storage';
import { resizeBicubic } from '../../workers/upscaler/resample';

const PUBLIC = pathToFileURL(path.join(REPO_ROOT, 'public') + path.sep).href;
const services: EngineService[] = [];
afterAll(async () => {
  for (const s of services) await s.dispose();
});

function service(fetch: FetchLike, baseUrl = PUBLIC, store: ModelStore | null = null): EngineService {
  const s = createEngineService(async () => createNodeRuntime(1), { baseUrl, loader: { store, fetch } });
  services.push(s);
  return s;
}

async function rejection(p: Promise<unknown>): Promise<CodedError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CodedError);
  return e as CodedError;
}

describe('createEngineService (the service the worker, the CLI, bench and the e2e harness share)', () => {
  it('loads the face detector and mesh from their components manifest and finds the same faces as the models run directly', async () => {
    const requested: string[] = [];
    const s = service(async (url, init) => {
      requested.push(url.slice(PUBLIC.length));
      return fileFetch(url, init);
    });
    const photo = await loadRgba(path.join(sharedDir, 'testdata/old_photos/med/026_Bjork_00.png'));
    const faces = await s.detectFaces(photo);
    expect(requested).toEqual([
      'models/common/face-detector/manifest.json',
      'models/common/face-detector/blazeface-back.onnx',
      'models/common/face-detector/facemesh.onnx',
    ]);
    expect(faces).toHaveLength(1);
    // the same models through the Node tools' runner (the same session adapter): the same answer
    const d = await createOrtRunner(detectorPath);
    const m = await createOrtRunner(meshPath);
    try {
      const direct = await findFaces(photo, { detector: d.run, mesh: m.run });
      expect(faces).toEqual(direct);
    } finally {
      await d.release();
      await m.release();
    }
    // loaded once: a second photo makes no requests
    requested.length = 0;
    await s.detectFaces(photo, { quarterTurns: 2 });
    expect(requested).toEqual([]);
  }, 180_000);

  it('refuses a face detector whose bytes differ from the manifest (sha256), with the code the UI explains', async () => {
    const s = service(async (url, init) => {
      const res = await fileFetch(url, init);
      if (!url.endsWith('blazeface-back.onnx')) return res;
      const bytes = new Uint8Array(await res.arrayBuffer());
      bytes[1000] = bytes[1000]! ^ 0xff;
      return new Response(bytes, { status: 200 });
    });
    const e = await rejection(s.detectFaces({ width: 8, height: 8, data: new Uint8ClampedArray(256) }));
    expect(e.code).toBe('invalid-model');
    expect(e.message).toMatch(/blazeface-back\.onnx: sha256 mismatch/);
    expect(e.hint).toBe(ERRORS['invalid-model'].hint);
  }, 60_000);

  it('loads the upscaler from its components manifest into the model cache, and enlarges from the cache offline', async () => {
    const store = new CacheStorageModelStore(new MemoryCacheStorage());
    const requested: string[] = [];
    const online = service(
      async (url, init) => {
        requested.push(url.slice(PUBLIC.length));
        return fileFetch(url, init);
      },
      PUBLIC,
      store,
    );
    const face = resizeBicubic(await loadRgba(path.join(sharedDir, 'testdata/ref_faces/00016.png')), 32, 32);
    const first = await online.upscale(face, 64, 64, 'esrgan');
    expect(first).toMatchObject({ method: 'esrgan', passes: [2] });
    expect(first.fallbackReason).toBeUndefined();
    expect(requested).toEqual([
      'models/common/upscaler/manifest.json',
      'models/common/upscaler/esrgan-slim-x2.onnx',
      'models/common/upscaler/esrgan-slim-x4.onnx',
    ]);
    expect(
      (await store.list())
        .filter((e) => e.kind === 'model')
        .map((e) => e.file)
        .sort(),
    ).toEqual(['esrgan-slim-x2.onnx', 'esrgan-slim-x4.onnx']);
    // the next visit, without a network: the manifest and the models come from the cache
    const offline = service(async () => Promise.reject(new TypeError('Failed to fetch')), PUBLIC, store);
    const again = await offline.upscale(face, 64, 64, 'esrgan');
    expect(again.fallbackReason).toBeUndefined();
    expect(again.method).toBe('esrgan');
    expect(Buffer.from(again.image.data).equals(Buffer.from(first.image.data))).toBe(true);
  }, 120_000);

  it('says "no model installed" when there is no bundled set, and keeps other load failures apart', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'no-models-'));
    try {
      const s = service(fileFetch, pathToFileURL(empty + path.sep).href);
      const e = await rejection(s.loadModels({ kind: 'bundled' }));
      expect(e.code).toBe('no-model');
      expect(e.message).toBe('No model is installed in this copy of the app.');
      const u = await rejection(s.loadModels({ kind: 'url', manifestUrl: pathToFileURL(path.join(empty, 'set/manifest.json')).href }));
      expect(u.code).toBe('model-load-failed');
      expect(u.message).toMatch(/No model-set manifest at .*set\/manifest\.json \(HTTP 404\)/);
    } finally {
      await rm(empty, { recursive: true });
    }
  });

  it('returns the loader info once, with the backend and testOnly from the manifest', async () => {
    const s = service(fileFetch);
    const info = await s.loadModels({ kind: 'url', manifestUrl: await manifestUrlOf(TINY) });
    expect(info).toMatchObject({ name: 'tiny-test', resolution: 64, backend: 'cpu', testOnly: true });
    expect(s.info).toEqual(info);
  });
});
