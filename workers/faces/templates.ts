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

/**
 * The tight UTKFace 200x200 framing (the crops our own prior is trained on), measured with
 * tools/faces/measure-utkface.ts on 300 files of ../shared/datasets/utkface/utkface-aligned-200.tar
 * (every 77th .jpg by sorted name): 299 with a face; the five points averaged.
 * A template must be measured with the landmark source that aligns at run time:
 * - UTKFACE_TEMPLATE_200: BlazeFace + face-mesh refinement (findFaces with a mesh runner), the
 *   recommended pipeline; 296 faces (3 with mesh confidence < 0.5 left out); per-point standard
 *   deviation 3.1-3.3 px (eyes), 5.8-6.6 px (nose, mouth) per axis. Eye distance 77.7 px (0.39
 *   of the crop) versus 0.246 for FFHQ: the face fills much more of the crop.
 * - UTKFACE_TEMPLATE_200_BLAZEFACE: BlazeFace keypoints with estimated mouth corners only
 *   (no mesh); 299 faces; std 6.3-7.3 px.
 */
export const UTKFACE_TEMPLATE_200: Point[] = [
  [59.75, 59.4],
  [137.42, 59.71],
  [98.36, 101.21],
  [64.5, 137.53],
  [132.82, 137.58],
];

export const UTKFACE_TEMPLATE_200_BLAZEFACE: Point[] = [
  [63.93, 62.18],
  [129.38, 62.23],
  [95.19, 94.24],
  [68.3, 124.92],
  [123.2, 124.97],
];

/** The UTKFace template for a square crop of any size. */
export function utkfaceTemplate(size: number): Point[] {
  return scaleTemplate(UTKFACE_TEMPLATE_200, 200, size);
}

export type TemplateName = 'ffhq' | 'utkface';

/** A named template at a crop size. */
export function namedTemplate(name: TemplateName, size: number): Point[] {
  return name === 'ffhq' ? ffhqTemplate(size) : utkfaceTemplate(size);
}
