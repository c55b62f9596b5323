/**
 * The independent identity judge of the quality tools: MobileFace (public/models/common/identity/mobileface.onnx),
 * loaded on its own, never the model set's `identity` role. The bundled set guides identity with another network
 * (face-api's FaceRecognitionNet); a network must never grade its own guidance, so the judge refuses a set whose
 * identity network is the judge itself (same bytes).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { RgbaImage } from '../../workers/api';
import type { ModelManifest } from '../../workers/models/manifest-types';
import { toIdentityInput } from './metrics/identity';
import { cosine } from './metrics/psnr';

export const JUDGE_MODEL = path.resolve(import.meta.dirname, '..', '..', 'public/models/common/identity/mobileface.onnx');
/** MobileFace's input side (public/models/common/identity/README.md) */
export const JUDGE_INPUT = 112;

export interface IdentityJudge {
  /** the judge's file, relative to the repository */
  model: string;
  embed(img: RgbaImage): Promise<Float32Array>;
  /** cosine of the judge's embeddings of two face crops in the same framing */
  cos(a: RgbaImage, b: RgbaImage): Promise<number>;
  release(): Promise<void>;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Whether the set guides identity with the judge's own network (by content, whatever the path, or by path). */
export function guidesWithJudge(manifest: ModelManifest, manifestDir: string, judge = JUDGE_MODEL): boolean {
  const e = manifest.models.find((m) => m.role === 'identity');
  if (!e) return false;
  return e.files.fp32.sha256 === sha256(judge) || path.resolve(manifestDir, e.files.fp32.path) === path.resolve(judge);
}

/** Throws when the set guides identity with the judge's own network: its identity gains would not be evidence. */
export function assertIndependent(manifest: ModelManifest, manifestDir: string, judge = JUDGE_MODEL): void {
  if (guidesWithJudge(manifest, manifestDir, judge)) {
    const e = manifest.models.find((m) => m.role === 'identity')!;
    throw new Error(
      `The set "${manifest.name}" guides identity with the judge's own network (${e.files.fp32.path}); a network must not grade its own guidance.`,
    );
  }
}

export async function createIdentityJudge(threads = 1, file = JUDGE_MODEL): Promise<IdentityJudge> {
  const s = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 });
  const embed = async (img: RgbaImage): Promise<Float32Array> => {
    const input = toIdentityInput(img.data, img.width, img.height, 4, JUDGE_INPUT);
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, JUDGE_INPUT, JUDGE_INPUT]) });
    return out[s.outputNames[0]!]!.data as Float32Array;
  };
  return {
    model: path.relative(path.resolve(import.meta.dirname, '..', '..'), file),
    embed,
    cos: async (a, b) => cosine(await embed(a), await embed(b)),
    release: () => s.release(),
  };
}
