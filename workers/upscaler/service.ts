/**
 * The super-resolution step as a service for any host (the worker, the Node runner): loads the bundled
 * ESRGAN-slim models (public/models/common/upscaler/, checked against their sha256) on first use and enlarges
 * restored faces; if the models cannot be loaded it says why and uses bicubic instead.
 */
import type { RgbaImage, UpscaleMethod, UpscaleResult } from '../api';
import type { DetectorRunner } from '../faces/detector';
import { sha256Hex } from '../models/download';
import { resizeBicubic } from './resample';
import { upscaleImage, type UpscaleOptions, type UpscalerRunners } from './upscale';

/** The shipped models, relative to <base>models/common/upscaler/ (see the README there). */
export const UPSCALER_FILES = {
  x2: { path: 'esrgan-slim-x2.onnx', sha256: '172b7438ff8f85903dd13eae81a685f60858738400bec7f17ba888250fe796dd' },
  x4: { path: 'esrgan-slim-x4.onnx', sha256: '36e7e44b942c30715c0545af3d652dbf82b4e32cc44a945752006feac48ff4c1' },
} as const;
export const UPSCALER_DIR = 'models/common/upscaler/';

export interface UpscalerHost {
  /** bytes of a file of the upscaler folder (name as in UPSCALER_FILES) */
  fetchFile(name: string): Promise<Uint8Array>;
  /** an ONNX session on the CPU (WASM in the browser) as a runner, and how to release it */
  createRunner(bytes: Uint8Array, label: string): Promise<{ run: DetectorRunner; release(): Promise<void> }>;
}

/** fetch-based fetchFile for a base URL (the app's origin + BASE_URL, or a file: URL with a fetch that reads files). */
export function fetchFromBase(baseUrl: string, fetchFn: (url: string) => Promise<Response> = (u) => fetch(u)): UpscalerHost['fetchFile'] {
  return async (name) => {
    const url = new URL(UPSCALER_DIR + name, baseUrl).href;
    const res = await fetchFn(url);
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
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
      const made: { run: DetectorRunner; release(): Promise<void> }[] = [];
      try {
        for (const key of ['x2', 'x4'] as const) {
          const f = UPSCALER_FILES[key];
          const bytes = await this.host.fetchFile(f.path);
          const sum = await sha256Hex(bytes);
          if (sum !== f.sha256) throw new Error(`${f.path} is damaged or another version (sha256 ${sum.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…)`);
          made.push(await this.host.createRunner(bytes, `upscaler-${key}`));
        }
      } catch (err) {
        for (const m of made) await m.release();
        throw err;
      }
      return { runners: { x2: made[0]!.run, x4: made[1]!.run }, release: async () => void (await Promise.all(made.map((m) => m.release()))) };
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
    if (l) await l.then((m) => m.release(), () => undefined);
  }
}

export { scaleCropInverse } from './geometry';
