/**
 * Face detection, landmarks and alignment for the engine (pure TS: worker and Node).
 * The worker wires these into EngineApi.detectFaces / alignFace / pasteBack (workers/api.ts).
 */
import type { DetectedFace, RgbaImage } from '../api';
import { BLAZEFACE_BACK, detectFaces, type BlazeFaceSpec, type DetectOptions, type DetectorRunner } from './detector';
import { rotateQuarter } from './image';
import { refineFaces } from './landmarks';

export { alignFace, pasteBack, similarityTransform, invertAffine, applyAffine, warpAffine } from './alignment';
export { detectFaces, BLAZEFACE_BACK, type DetectorRunner, type RunnerTensor, type DetectOptions, type BlazeFaceSpec } from './detector';
export { refineLandmarks, refineFaces } from './landmarks';
export {
  FFHQ_TEMPLATE_512,
  UTKFACE_TEMPLATE_200,
  ffhqTemplate,
  utkfaceTemplate,
  namedTemplate,
  scaleTemplate,
  deriveTemplate,
} from './templates';

export interface FaceRunners {
  /** BlazeFace (blazeface-back.onnx) */
  detector: DetectorRunner;
  /** the face mesh (facemesh.onnx); when given, the five points come from the mesh */
  mesh?: DetectorRunner;
}

/**
 * Faces in a whole photo with their five alignment landmarks, best first: BlazeFace finds the
 * faces; the mesh model, when given, replaces BlazeFace's coarse keypoints (and its estimated
 * mouth corners) with eye-contour centres, nose tip and real mouth corners.
 */
export async function findFaces(
  photo: RgbaImage,
  runners: FaceRunners,
  options: DetectOptions & {
    spec?: BlazeFaceSpec;
    meshMinConfidence?: number;
    /**
     * Quarter turns clockwise that make the photo upright (a sideways or upside-down scan), e.g.
     * from a "rotate" button in the UI. Detection runs on the turned photo; boxes and landmarks
     * are returned in the photo's own pixels, landmarks following the face, so alignFace gives an
     * upright crop and pasteBack puts it back in place. BlazeFace does not tell the orientation
     * itself: it also fires on turned faces, with keypoints laid out as if upright. Default 0.
     */
    quarterTurns?: number;
  } = {},
): Promise<DetectedFace[]> {
  const spec = options.spec ?? BLAZEFACE_BACK;
  const k = (((options.quarterTurns ?? 0) % 4) + 4) % 4;
  if (k === 0) {
    const faces = await detectFaces(photo, runners.detector, spec, options);
    return runners.mesh ? refineFaces(photo, faces, runners.mesh, options.meshMinConfidence ?? 0.5) : faces;
  }
  const { image, toOriginal } = rotateQuarter(photo, k);
  const found = await findFaces(image, runners, { ...options, quarterTurns: 0 });
  return found.map((f) => {
    const a = toOriginal(f.box.x, f.box.y);
    const b = toOriginal(f.box.x + f.box.width, f.box.y + f.box.height);
    return {
      box: { x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), width: Math.abs(a[0] - b[0]), height: Math.abs(a[1] - b[1]) },
      landmarks: f.landmarks.map(([u, v]) => toOriginal(u, v)),
      score: f.score,
    };
  });
}
