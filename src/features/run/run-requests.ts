/**
 * The requests a run sends to the engine, one per selected face, built from the store (pure: no worker, no DOM).
 * A mask goes with the crop it was painted on; if its size does not match that crop it is an error the user sees,
 * never a silent drop.
 */
import type { GuidanceSettings, RestoreRequest, RgbaImage, SamplerSettings } from '../../../workers/api';
import type { FaceCrop } from '../../store/facesSlice';
import { keepsLightness, keepsUnmasked } from '../../../workers/shared/requests';
import { usesMask } from '../controls/controls-model';
import { makeError } from '../errors/errors';
import type { AppError } from '../errors/errors';

export interface RequestInputs {
  crops: FaceCrop[];
  activeCropKey: string | undefined;
  /** the crop the mask was painted on (undefined: the active one) */
  maskCropKey: string | undefined;
  mask: RgbaImage | undefined;
  references: RgbaImage[];
  keepUnmasked: boolean | undefined;
  settings: { guidance: GuidanceSettings; sampler: SamplerSettings; variants: number };
}

export function buildFaceRequests(
  inp: RequestInputs,
  previewSteps: number,
): { requests: { crop: FaceCrop; request: RestoreRequest }[] } | { error: AppError } {
  const maskKey = inp.maskCropKey ?? inp.activeCropKey ?? inp.crops[0]?.key;
  const out: { crop: FaceCrop; request: RestoreRequest }[] = [];
  for (const crop of inp.crops) {
    const img = crop.aligned.crop;
    const request: RestoreRequest = {
      image: img,
      guidance: inp.settings.guidance,
      sampler: inp.settings.sampler,
      variants: inp.settings.variants,
      previewEvery: Math.max(1, Math.round(previewSteps / 30)),
      previewSize: Math.min(128, img.width),
    };
    if (inp.mask && crop.key === maskKey) {
      if (inp.mask.width !== img.width || inp.mask.height !== img.height) {
        return {
          error: makeError(
            'bad-input',
            `The mask is ${inp.mask.width}×${inp.mask.height} but the face crop is ${img.width}×${img.height}.`,
            'Paint the mask again on this face, or import a mask of the same size.',
          ),
        };
      }
      if (usesMask(inp.settings.guidance)) {
        request.mask = inp.mask;
        if (inp.keepUnmasked !== undefined) request.keepUnmasked = inp.keepUnmasked;
      }
    }
    if (inp.references.length) request.references = inp.references;
    out.push({ crop, request });
  }
  return { requests: out };
}

// the engine's rules, shared with workers/engine/plan.ts: the run record keeps their answers for full-size downloads
export { keepsLightness, keepsUnmasked };
