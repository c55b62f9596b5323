/**
 * The super-resolution step as a service for any host (the worker, the Node runner): loads the bundled
 * ESRGAN-slim models on first use through the models module, from their components manifest
 * (public/models/common/upscaler/manifest.json: sha256 and size checks, Cache Storage, offline fallback, as every
 * model), and enlarges restored faces; if the models cannot be loaded it says why and uses bicubic instead.
 */
import type { RgbaImage, UpscaleMethod, UpscaleResult } from '../api';
import type { DetectorRunner } from '../faces/detector';
import { loadComponents, type LoadOptions } from '../models/loader';
import { resizeBicubic } from './resample';
import { upscaleImage, type UpscaleOptions, type UpscalerRunners } from './upscale';

/** The components manifest of the two models: <base>models/common/upscaler/manifest.json. */
export const UPSCALER_COMPONENTS = 'common/upscaler';
/** The manifest's role of each model, by scale. */
export const UPSCALER_ROLES = { x2: 'upscaler-x2', x4: 'upscaler-x4' } as const;

export type UpscalerModelBytes = Partial<Record<keyof typeof UPSCALER_ROLES, Uint8Array>>;

export interface UpscalerHost {
  /** the models' bytes by scale, already checked against their manifest (componentsLoader) */
  loadModels(): Promise<UpscalerModelBytes>;
  /** an ONNX session on the CPU (WASM in the browser) as a runner, and how to release it */
  createRunner(bytes: Uint8Array, label: string): Promise<{ run: DetectorRunner; release(): Promise<void> }>;
}

/** loadModels through the models module (loadComponents): the host's fetch, cache and base URL. */
export function componentsLoader(options: LoadOptions): UpscalerHost['loadModels'] {
  return async () => {
    const { files } = await loadComponents(UPSCALER_COMPONENTS, options);
    const out: UpscalerModelBytes = {};
    for (const [key, role] of Object.entries(UPSCALER_ROLES) as [keyof typeof UPSCALER_ROLES, string][]) {
      const bytes = files[role as keyof typeof files];
      if (bytes) out[key] = bytes;
    }
    return out;
  };
}

export class Upscaler {
  private loading: Promise<{ runners: UpscalerRunners; release: () => Promise<void> }> | null = null;

  constructor(
    private readonly host: UpscalerHost,
    private readonly options: UpscaleOptions = {},
  ) {}

  private models() {
    this.loading ??= (async () => {
      const bytes = await this.host.loadModels();
      if (!bytes.x2 && !bytes.x4) throw new Error(`the upscaler manifest lists neither "${UPSCALER_ROLES.x2}" nor "${UPSCALER_ROLES.x4}"`);
      const made: { run: DetectorRunner; release(): Promise<void> }[] = [];
      const runners: UpscalerRunners = {};
      try {
        for (const key of ['x2', 'x4'] as const) {
          const b = bytes[key];
          if (!b) continue;
          const r = await this.host.createRunner(b, `upscaler-${key}`);
          made.push(r);
          runners[key] = r.run;
        }
      } catch (err) {
        for (const m of made) await m.release();
        throw err;
      }
      return { runners, release: async () => void (await Promise.all(made.map((m) => m.release()))) };
    })();
    // a failed load is tried again next time (the network may be back)
    this.loading.catch(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /**
   * `image` at width x height. Larger with 'esrgan': the model passes then bicubic to the exact size; when the
   * model cannot be loaded, bicubic with `fallbackReason`. Not larger, or 'bicubic': bicubic.
   */
  async upscale(image: RgbaImage, width: number, height: number, method: UpscaleMethod): Promise<UpscaleResult> {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1 && width <= 8192 && height <= 8192)) {
      throw new RangeError(`Cannot enlarge a face to ${width}x${height}: the size must be whole pixels between 1 and 8192.`);
    }
    const larger = width > image.width || height > image.height;
    if (method === 'bicubic' || !larger) return { image: resizeBicubic(image, width, height), method: 'bicubic', passes: [] };
    let runners: UpscalerRunners;
    try {
      runners = (await this.models()).runners;
    } catch (err) {
      return {
        image: resizeBicubic(image, width, height),
        method: 'bicubic',
        passes: [],
        fallbackReason: `The super-resolution model could not be loaded (${(err as Error).message}); the face was enlarged with bicubic instead.`,
      };
    }
    const { image: out, passes } = await upscaleImage(image, width, height, 'esrgan', runners, this.options);
    return { image: out, method: 'esrgan', passes };
  }

  async dispose(): Promise<void> {
    const l = this.loading;
    this.loading = null;
    if (l)
      await l.then(
        (m) => m.release(),
        () => undefined,
      );
  }
}

export { scaleCropInverse } from './geometry';
