/**
 * Five-point alignment templates (left eye, right eye, nose tip, left mouth corner, right mouth
 * corner, as seen in the image), in crop pixels.
 */

export type Point = [number, number];

/** FFHQ 512x512 template used by facexlib / GFPGAN / CodeFormer (and PGDiff's aligned test data). */
export const FFHQ_TEMPLATE_512: Point[] = [
  [192.98138, 239.94708],
  [318.90277, 240.1936],
  [256.63416, 314.01935],
  [201.26117, 371.41043],
  [313.08905, 371.15118],
];

/** Scale a template made for one crop size to another (pixel centres: (x + 0.5) * k - 0.5). */
export function scaleTemplate(template: readonly Point[], fromSize: number, toSize: number): Point[] {
  const k = toSize / fromSize;
  return template.map(([x, y]) => [(x + 0.5) * k - 0.5, (y + 0.5) * k - 0.5]);
}

/** The FFHQ template for a square crop of any size. */
export function ffhqTemplate(size: number): Point[] {
  return scaleTemplate(FFHQ_TEMPLATE_512, 512, size);
}

/**
 * A template for another framing, measured from landmarks detected on crops that already have
 * that framing: the mean of each of the five points over all faces.
 */
export function deriveTemplate(landmarks: readonly (readonly Point[])[]): Point[] {
  if (landmarks.length === 0) throw new Error('deriveTemplate: no faces');
  const out: Point[] = [0, 1, 2, 3, 4].map(() => [0, 0]);
  for (const pts of landmarks) {
    if (pts.length !== 5) throw new Error('deriveTemplate: need five points per face');
    pts.forEach(([x, y], i) => {
      out[i]![0] += x;
      out[i]![1] += y;
    });
  }
  return out.map(([x, y]) => [x / landmarks.length, y / landmarks.length]);
}
