/**
 * Face detection, landmarks and alignment for the engine (pure TS: worker and Node).
 * The worker wires these into EngineApi.detectFaces / alignFace / pasteBack (workers/api.ts).
 */
import type { DetectedFace, RgbaImage } from '../api';
import { BLAZEFACE_BACK, detectFaces, type BlazeFaceSpec, type DetectOptions, type DetectorRunner } from './detector';
import { refineFaces } from './landmarks';

export { alignFace, pasteBack, similarityTransform, invertAffine, applyAffine, warpAffine } from './alignment';
export { detectFaces, BLAZEFACE_BACK, type DetectorRunner, type RunnerTensor, type DetectOptions, type BlazeFaceSpec } from './detector';
export { refineLandmarks, refineFaces } from './landmarks';
export { FFHQ_TEMPLATE_512, UTKFACE_TEMPLATE_200, ffhqTemplate, utkfaceTemplate, namedTemplate, scaleTemplate, deriveTemplate } from './templates';

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
  options: DetectOptions & { spec?: BlazeFaceSpec; meshMinConfidence?: number } = {},
): Promise<DetectedFace[]> {
  const faces = await detectFaces(photo, runners.detector, options.spec ?? BLAZEFACE_BACK, options);
  return runners.mesh ? refineFaces(photo, faces, runners.mesh, options.meshMinConfidence ?? 0.5) : faces;
}
