/**
 * The quality tools' identity judge: MobileFace on its own, independent of the set's guidance network.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../workers/api';
import type { ModelManifest } from '../../workers/models/manifest-types';
import { JUDGE_MODEL, assertIndependent, createIdentityJudge, guidesWithJudge } from './judge';
import { cosine } from './metrics/psnr';

const root = path.resolve(import.meta.dirname, '..', '..');
const setDir = path.join(root, 'public/models/pgdiff-utk-latent');
const testdata = path.resolve(root, '..', 'shared', 'testdata');
const bundled = JSON.parse(readFileSync(path.join(setDir, 'manifest.json'), 'utf8')) as ModelManifest;

async function load(rel: string): Promise<RgbaImage> {
  const { data, info } = await sharp(path.join(testdata, rel)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

/** the bundled manifest with its identity entry pointing at another file (path and sha256 as given) */
function withIdentity(p: string, sha256: string): ModelManifest {
  return {
    ...bundled,
    models: bundled.models.map((m) => (m.role === 'identity' ? { ...m, files: { fp32: { ...m.files.fp32, path: p, sha256 } } } : m)),
  };
}

describe('identity judge (tools/quality/judge.ts)', () => {
  it('accepts the bundled set, whose guide is another network, and refuses a set guided by the judge itself', () => {
    expect(guidesWithJudge(bundled, setDir)).toBe(false);
    expect(() => assertIndependent(bundled, setDir)).not.toThrow();
    expect(guidesWithJudge(withIdentity('../common/identity/mobileface.onnx', '0'.repeat(64)), setDir)).toBe(true);
    const judgeSha = '9a91801941186cb0077e9d56d9556246333bf01d03b1bcc5d3ee30e1f3cd20dc';
    // by path (whatever the recorded hash) and by content (whatever the path)
    expect(() => assertIndependent(withIdentity('../common/identity/mobileface.onnx', '0'.repeat(64)), setDir)).toThrow(/own guidance/);
    expect(() => assertIndependent(withIdentity('elsewhere/copy.onnx', judgeSha), setDir)).toThrow(/own guidance/);
  });

  it('embeds with MobileFace (256-d) and separates the people of the real pairs', async () => {
    expect(path.basename(JUDGE_MODEL)).toBe('mobileface.onnx');
    const judge = await createIdentityJudge(1);
    try {
      const names = readdirSync(path.join(testdata, 'ref_faces')).sort();
      const degraded = await Promise.all(names.map(async (n) => judge.embed(await load(`ref_cropped_faces/${n}`))));
      const clean = await Promise.all(names.map(async (n) => judge.embed(await load(`ref_faces/${n}`))));
      expect(degraded[0]!.length).toBe(256);
      const face0 = await load(`ref_faces/${names[0]!}`);
      expect(await judge.cos(face0, face0)).toBeCloseTo(1, 5);
      let same = 0;
      let other = 0;
      for (let i = 0; i < names.length; i++)
        for (let j = 0; j < names.length; j++) {
          const c = cosine(degraded[i]!, clean[j]!);
          if (i === j) same += c / names.length;
          else other += c / (names.length * (names.length - 1));
        }
      // public/models/common/identity/README.md: 0.469 same person against 0.299 for different people
      expect(same).toBeGreaterThan(other + 0.1);
    } finally {
      await judge.release();
    }
  });
});
