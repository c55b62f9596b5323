/**
 * Re-framing of aligned face crops between templates (e.g. FFHQ-aligned test photos into the bundled
 * prior's UTKFace framing), with a least-squares similarity transform and antialiased bilinear sampling.
 */
import type { RgbaImage } from '../../workers/api';
import { similarityTransform } from '../../workers/faces/alignment';
import { FFHQ_TEMPLATE_512, type Point } from '../../workers/faces/templates';

/** Re-frame an FFHQ-aligned crop into the model's framing (size R), supersampled bilinear (antialiased). */
export function reframe(img: RgbaImage, srcTemplate: Point[], dstTemplate: Point[], size: number, binary = false): RgbaImage {
  // output pixel -> source pixel: x' = a x - b y + tx, y' = b x + a y + ty
  const [a, , tx, b, , ty] = similarityTransform(dstTemplate, srcTemplate);
  const scale = Math.hypot(a, b);
  const ss = Math.max(1, Math.min(8, Math.ceil(scale)));
  const out = new Uint8ClampedArray(size * size * 4);
  const px = (x: number, y: number, c: number) => {
    const xi = Math.max(0, Math.min(img.width - 1, x)),
      yi = Math.max(0, Math.min(img.height - 1, y));
    return img.data[(yi * img.width + xi) * 4 + c]!;
  };
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const acc = [0, 0, 0];
      for (let j = 0; j < ss; j++) {
        for (let i = 0; i < ss; i++) {
          const uu = u - 0.5 + (i + 0.5) / ss,
            vv = v - 0.5 + (j + 0.5) / ss;
          const x = a * uu - b * vv + tx,
            y = b * uu + a * vv + ty;
          const x0 = Math.floor(x),
            y0 = Math.floor(y),
            fx = x - x0,
            fy = y - y0;
          for (let c = 0; c < 3; c++) {
            const top = px(x0, y0, c) * (1 - fx) + px(x0 + 1, y0, c) * fx;
            const bottom = px(x0, y0 + 1, c) * (1 - fx) + px(x0 + 1, y0 + 1, c) * fx;
            acc[c]! += top * (1 - fy) + bottom * fy;
          }
        }
      }
      const o = (v * size + u) * 4;
      for (let c = 0; c < 3; c++) {
        const val = acc[c]! / (ss * ss);
        out[o + c] = binary ? (val > 64 ? 255 : 0) : Math.round(val);
      }
      out[o + 3] = 255;
    }
  }
  return { width: size, height: size, data: out };
}

/** An FFHQ-aligned square crop (any size) into a crop of `size` with the given template. */
export function fromFfhq(img: RgbaImage, template: Point[], size: number, binary = false): RgbaImage {
  const k = img.width / 512;
  const src = FFHQ_TEMPLATE_512.map(([x, y]) => [(x + 0.5) * k - 0.5, (y + 0.5) * k - 0.5] as Point);
  return reframe(img, src, template, size, binary);
}
