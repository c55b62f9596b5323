import type { RestoreRequest } from '../api';

/**
 * Whether a run keeps the photo's own pixels outside the request's mask: with a mask, when the request says so, else
 * when the unmasked-region property is used. The engine's plan applies it at the model's size; the app records it
 * so that downloads at the photo's size keep the original there too.
 */
export function keepsUnmasked(request: Pick<RestoreRequest, 'mask' | 'keepUnmasked' | 'guidance'>): boolean {
  if (!request.mask) return false;
  return request.keepUnmasked ?? (request.guidance.weights.unmasked ?? 0) > 0;
}

/**
 * Whether a run puts the photo's lightness back into its result (workers/engine/image.ts withLightnessOf): when the
 * request says so, else when the lightness property is used (colorization). Only outside the mask when there is one.
 * The engine's plan applies it at the model's size; the app records it so that downloads at the photo's size take
 * their lightness from the original photo at its full resolution.
 */
export function keepsLightness(request: Pick<RestoreRequest, 'keepLightness' | 'guidance'>): boolean {
  return request.keepLightness ?? (request.guidance.weights.lightness ?? 0) > 0;
}
