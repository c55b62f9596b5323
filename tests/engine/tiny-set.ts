import { readFileSync } from 'node:fs';
import type { ModelSetBytes } from '../../workers/engine/engine';
import type { ModelManifest } from '../../workers/models/manifest-types';
import { REPO } from './helpers';

/** The tiny model set (or another fixture set, e.g. 'tiny-latent'), with the schedule/variance a golden case assumes. */
export function tinySet(schedule: 'linear' | 'cosine', variance: ModelManifest['diffusion']['variance'], set = 'tiny'): ModelSetBytes {
  const dir = `${REPO}/tests/fixtures/models/${set}`;
  const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as ModelManifest;
  manifest.diffusion = { ...manifest.diffusion, schedule, variance };
  const files: ModelSetBytes['files'] = {};
  for (const m of manifest.models) {
    if (m.role === 'face-detector') continue;
    files[m.role] = new Uint8Array(readFileSync(`${dir}/${m.files.fp32.path}`));
  }
  return { manifest, files };
}
