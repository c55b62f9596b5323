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

const PUBLIC = pathToFileURL(path.join(REPO_ROOT, 'public') + path.sep).href;
const services: EngineService[] = [];
afterAll(async () => {
  for (const s of services) await s.dispose();
});

function service(fetch: FetchLike, baseUrl = PUBLIC): EngineService {
  const s = createEngineService(async () => createNodeRuntime(1), { baseUrl, loader: { store: null, fetch } });
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
    expect(requested).toEqual(['models/common/face-detector/manifest.json', 'models/common/face-detector/blazeface-back.onnx', 'models/common/face-detector/facemesh.onnx']);
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
