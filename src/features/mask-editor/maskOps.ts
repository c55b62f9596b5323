/**
 * Pure mask logic for the mask editor (no DOM): a mask is a Uint8Array of width*height, 1 = missing.
 * Exported to RgbaImage as white = missing, black elsewhere (the RestoreRequest convention).
 */
import type { RgbaImage } from '../../../workers/api';
import { composeAffine, resizeCentres } from '../../../workers/faces/alignment';

export interface MaskBuffer {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function createMask(width: number, height: number): MaskBuffer {
  return { width, height, data: new Uint8Array(width * height) };
}

export function cloneMask(m: MaskBuffer): MaskBuffer {
  return { width: m.width, height: m.height, data: m.data.slice() };
}

export function countMasked(m: MaskBuffer): number {
  let c = 0;
  for (const v of m.data) c += v;
  return c;
}

/**
 * Paint (value 1, brush) or erase (value 0) a round-capped segment of the given radius from
 * (x0, y0) to (x1, y1), in mask pixels (pixel centres at +0.5). A single click is a zero-length
 * segment: a disc. Returns the touched rectangle (inclusive) or undefined when it misses the mask.
 */
export function paintSegment(
  m: MaskBuffer,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  radius: number,
  value: 0 | 1,
): Rect | undefined {
  const r = Math.max(0.5, radius);
  const bx0 = Math.max(0, Math.floor(Math.min(x0, x1) - r));
  const by0 = Math.max(0, Math.floor(Math.min(y0, y1) - r));
  const bx1 = Math.min(m.width - 1, Math.ceil(Math.max(x0, x1) + r));
  const by1 = Math.min(m.height - 1, Math.ceil(Math.max(y0, y1) + r));
  if (bx0 > bx1 || by0 > by1) return undefined;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const r2 = r * r;
  for (let y = by0; y <= by1; y++) {
    const py = y + 0.5;
    for (let x = bx0; x <= bx1; x++) {
      const px = x + 0.5;
      // distance from the pixel centre to the segment
      let t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - (x0 + t * dx);
      const ey = py - (y0 + t * dy);
      if (ex * ex + ey * ey <= r2) m.data[y * m.width + x] = value;
    }
  }
  return { x0: bx0, y0: by0, x1: bx1, y1: by1 };
}

export function invertMask(m: MaskBuffer): void {
  for (let i = 0; i < m.data.length; i++) m.data[i] = m.data[i] ? 0 : 1;
}

export function clearMask(m: MaskBuffer): void {
  m.data.fill(0);
}

/** White = missing, black elsewhere, opaque. */
export function maskToRgba(m: MaskBuffer): RgbaImage {
  const data = new Uint8ClampedArray(m.width * m.height * 4);
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i] ? 255 : 0;
    data[i * 4] = v;
    data[i * 4 + 1] = v;
    data[i * 4 + 2] = v;
    data[i * 4 + 3] = 255;
  }
  return { width: m.width, height: m.height, data };
}

/** Brightness of an imported mask pixel: luminance times alpha (transparent = not missing), 0..1. */
function maskValue(d: Uint8ClampedArray, i: number): number {
  const lum = 0.299 * (d[i] as number) + 0.587 * (d[i + 1] as number) + 0.114 * (d[i + 2] as number);
  return (lum / 255) * ((d[i + 3] as number) / 255);
}

/**
 * An imported mask image (white = missing) resampled to width x height (stretched if the aspect
 * differs): area average when shrinking, bilinear when enlarging, then thresholded at 50%.
 */
export function maskFromImage(src: RgbaImage, width: number, height: number): MaskBuffer {
  const out = createMask(width, height);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v: number;
      if (sx >= 1 && sy >= 1) {
        // area average over the source footprint
        const fx0 = x * sx;
        const fx1 = (x + 1) * sx;
        const fy0 = y * sy;
        const fy1 = (y + 1) * sy;
        let acc = 0;
        let wsum = 0;
        for (let yy = Math.floor(fy0); yy < Math.ceil(fy1) && yy < src.height; yy++) {
          const wy = Math.min(fy1, yy + 1) - Math.max(fy0, yy);
          for (let xx = Math.floor(fx0); xx < Math.ceil(fx1) && xx < src.width; xx++) {
            const wx = Math.min(fx1, xx + 1) - Math.max(fx0, xx);
            acc += wx * wy * maskValue(src.data, (yy * src.width + xx) * 4);
            wsum += wx * wy;
          }
        }
        v = wsum > 0 ? acc / wsum : 0;
      } else {
        const fx = Math.min(src.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
        const fy = Math.min(src.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
        const xa = Math.floor(fx);
        const ya = Math.floor(fy);
        const xb = Math.min(src.width - 1, xa + 1);
        const yb = Math.min(src.height - 1, ya + 1);
        const tx = fx - xa;
        const ty = fy - ya;
        const at = (xx: number, yy: number) => maskValue(src.data, (yy * src.width + xx) * 4);
        v = (at(xa, ya) * (1 - tx) + at(xb, ya) * tx) * (1 - ty) + (at(xa, yb) * (1 - tx) + at(xb, yb) * tx) * ty;
      }
      out.data[y * width + x] = v >= 0.5 ? 1 : 0;
    }
  }
  return out;
}

/** An RgbaImage mask (engine convention: missing where red > 0) back to a buffer. */
export function maskFromEngine(src: RgbaImage): MaskBuffer {
  const out = createMask(src.width, src.height);
  for (let i = 0; i < out.data.length; i++) out.data[i] = (src.data[i * 4] as number) > 0 ? 1 : 0;
  return out;
}

/**
 * Undo/redo of whole-mask snapshots (512x512 = 256 KiB each; `limit` caps memory).
 * Call `record(current)` BEFORE a change; undo/redo take the current mask and return the one to show.
 */
export class MaskHistory {
  private past: Uint8Array[] = [];
  private future: Uint8Array[] = [];
  constructor(private readonly limit = 50) {}

  record(current: MaskBuffer): void {
    this.past.push(current.data.slice());
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  undo(current: MaskBuffer): MaskBuffer | undefined {
    const prev = this.past.pop();
    if (!prev) return undefined;
    this.future.push(current.data.slice());
    return { width: current.width, height: current.height, data: prev };
  }

  redo(current: MaskBuffer): MaskBuffer | undefined {
    const next = this.future.pop();
    if (!next) return undefined;
    this.past.push(current.data.slice());
    return { width: current.width, height: current.height, data: next };
  }

  reset(): void {
    this.past = [];
    this.future = [];
  }
}

/** Which history action a keyboard event asks for (Ctrl/Cmd+Z, Ctrl/Cmd+Shift+Z, Ctrl/Cmd+Y). */
export function historyShortcut(e: { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean }): 'undo' | 'redo' | undefined {
  if (!(e.ctrlKey || e.metaKey)) return undefined;
  const k = e.key.toLowerCase();
  if (k === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (k === 'y' && !e.shiftKey) return 'redo';
  return undefined;
}

/** The view: image pixels to screen pixels, screen = image * zoom + offset. */
export interface View {
  zoom: number;
  offsetX: number;
  offsetY: number;
}

export const MIN_ZOOM = 0.25;
export const MAX_ZOOM = 16;

export function screenToImage(v: View, sx: number, sy: number): [number, number] {
  return [(sx - v.offsetX) / v.zoom, (sy - v.offsetY) / v.zoom];
}

/** Zoom by `factor` keeping the screen point (sx, sy) fixed (wheel, pinch and buttons use this). */
export function zoomAt(v: View, factor: number, sx: number, sy: number): View {
  const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.zoom * factor));
  const k = zoom / v.zoom;
  return { zoom, offsetX: sx - (sx - v.offsetX) * k, offsetY: sy - (sy - v.offsetY) * k };
}

/** The view that fits an image of w x h centred in a viewport of vw x vh. */
export function fitView(w: number, h: number, vw: number, vh: number): View {
  const zoom = Math.min(vw / w, vh / h);
  return { zoom, offsetX: (vw - w * zoom) / 2, offsetY: (vh - h * zoom) / 2 };
}

/**
 * A mask drawn for the whole photo, brought into a face crop with the face's own alignment: every crop pixel takes
 * the mask's value where the crop -> mask transform lands (bilinear), so the mask stays on the features it covers.
 * `cropToMask` maps pixel centres to pixel centres (workers/faces/alignment.ts), as warpAffine reads a transform.
 */
export function warpMaskToCrop(
  src: RgbaImage,
  cropToMask: readonly [number, number, number, number, number, number],
  width: number,
  height: number,
): MaskBuffer {
  const out = createMask(width, height);
  const [a, b, c, d, e, f] = cropToMask;
  const at = (xx: number, yy: number) =>
    xx < 0 || yy < 0 || xx >= src.width || yy >= src.height ? 0 : maskValue(src.data, (yy * src.width + xx) * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const px = a * x + b * y + c;
      const py = d * x + e * y + f;
      const xa = Math.floor(px);
      const ya = Math.floor(py);
      const tx = px - xa;
      const ty = py - ya;
      const v = (at(xa, ya) * (1 - tx) + at(xa + 1, ya) * tx) * (1 - ty) + (at(xa, ya + 1) * (1 - tx) + at(xa + 1, ya + 1) * tx) * ty;
      out.data[y * width + x] = v >= 0.5 ? 1 : 0;
    }
  return out;
}

export type MaskImportPlan =
  | { kind: 'crop'; note?: string }
  | { kind: 'photo'; cropToMask: [number, number, number, number, number, number]; note: string }
  | { kind: 'refuse'; message: string };

/**
 * What an imported mask image is for: this face crop (its size, or the same shape at another size: scaled), or the
 * whole photo (the original's or the working copy's size: warped with the face's alignment). Any other shape is
 * refused with the sizes named, never stretched. `cropToWorking` and the plan's `cropToMask` map pixel centres
 * (workers/faces/alignment.ts); the original is the working copy 1 / scale times as large.
 */
export function planMaskImport(
  mask: { width: number; height: number },
  crop: { width: number; height: number },
  photo?: {
    width: number;
    height: number;
    workingWidth: number;
    workingHeight: number;
    cropToWorking: [number, number, number, number, number, number];
    scale: number;
  },
): MaskImportPlan {
  if (mask.width === 0 || mask.height === 0) return { kind: 'refuse', message: 'The mask image is empty (0 pixels).' };
  if (mask.width === crop.width && mask.height === crop.height) return { kind: 'crop' };
  if (photo) {
    const k = photo.cropToWorking;
    if (mask.width === photo.width && mask.height === photo.height) {
      return {
        kind: 'photo',
        cropToMask: composeAffine(resizeCentres(1 / photo.scale), k),
        note: `a mask for the whole ${mask.width}×${mask.height} photo, placed on this face`,
      };
    }
    if (mask.width === photo.workingWidth && mask.height === photo.workingHeight) {
      return { kind: 'photo', cropToMask: [...k], note: `a mask for the whole photo, placed on this face` };
    }
  }
  if (Math.abs(mask.width / mask.height - crop.width / crop.height) < 0.01) {
    return { kind: 'crop', note: `resized from ${mask.width}×${mask.height}` };
  }
  const photoPart = photo ? ` or the photo (${photo.width}×${photo.height})` : '';
  return {
    kind: 'refuse',
    message: `The mask is ${mask.width}×${mask.height}, a different shape from the face crop (${crop.width}×${crop.height})${photoPart}, so it would be stretched. Use a mask of the crop's or the photo's size.`,
  };
}
