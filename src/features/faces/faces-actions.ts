import type { Affine, AlignedFace, RgbaImage } from '../../../workers/api';
import { useAppStore } from '../../store';
import { selectActiveCrop, type FaceCrop } from '../../store/facesSlice';
import { countMasked, maskToRgba, warpMaskToCrop } from '../mask-editor/maskOps';
import { drawToRgba } from '../../canvas/canvas';
import { engine } from '../../worker-client';
import { makeError, toAppError } from '../errors/errors';
import { centerSquareTransform, cropToWorkingCentres, invertAffine } from '../upload/image-math';
import type { LoadedPhoto } from '../../store/photoSlice';
import { checkAlreadyAligned } from '../../../workers/faces/already-aligned';
import { composeAffine } from '../../../workers/faces/alignment';

let generation = 0;

/** After a photo loads, the switch flips or a model loads: find (or make) the face crops. */
export async function findFaces(): Promise<void> {
  const my = ++generation;
  let s = useAppStore.getState();
  const photo = s.photo;
  if (!photo) return;
  const model = s.modelInfo;
  if (!model) {
    s.resetFaces();
    if (s.modelStatus !== 'loading') s.facesFailed(makeError('no-model'));
    return;
  }
  const checkKey = alignmentCheckKey(photo, model);
  // the switch was turned on by the app for another photo or model: that photo was a crop, this one may not be
  if (s.alreadyCropped && s.autoAligned && s.autoAligned.key !== checkKey) {
    useAppStore.setState({ alreadyCropped: false, autoAligned: undefined });
    s = useAppStore.getState();
  }
  if (s.alreadyCropped) {
    s.facesAligning();
    const crops = wholePhotoCrop(photo, model.resolution);
    if (my !== generation) return;
    useAppStore.setState({ faces: [], selectedFaces: [] });
    useAppStore.getState().facesAligned(crops);
    return;
  }
  s.facesDetecting();
  try {
    // numbered left to right (then top to bottom), as people read a group photo
    const faces = sortLeftToRight(await engine.detectFaces(photo.working, { quarterTurns: s.quarterTurns }));
    if (my !== generation) return;
    const st = useAppStore.getState();
    // a photo that already is a crop in the model's framing is used as it is, not cropped again (once per photo
    // and model: when the person turns the switch off, their choice stands)
    if (st.alignedCheckKey !== checkKey && s.quarterTurns === 0) {
      useAppStore.setState({ alignedCheckKey: checkKey });
      const check = checkAlreadyAligned(faces, photo.working.width, photo.working.height, model.template, model.resolution);
      if (check.aligned) {
        const autoAligned = { key: checkKey, distance: check.distance };
        useAppStore.setState({ alreadyCropped: true, autoAligned, faces: [], selectedFaces: [] });
        useAppStore.getState().facesAligned(wholePhotoCrop(photo, model.resolution));
        useAppStore.getState().announce('This photo is already a face aligned for the model, so it is used as it is.');
        return;
      }
    }
    st.facesDetected(faces);
    if (faces.length === 0) {
      st.facesFailed(makeError('no-face', `No face was found in “${photo.name}”.`));
      st.announce('No face found.');
      return;
    }
    // every face starts selected; the person can drop the ones they do not want
    st.setSelectedFaces(faces.map((_, i) => i));
    st.announce(`${faces.length} face${faces.length === 1 ? '' : 's'} found${faces.length > 1 ? ', all selected' : ''}.`);
    await alignSelected();
  } catch (e) {
    if (my !== generation) return;
    const err = toAppError(e);
    useAppStore.getState().facesFailed(err);
  }
}

/** The photo and model the "already aligned" check is decided for. */
function alignmentCheckKey(photo: { id: string }, model: { name: string; resolution: number }): string {
  return `${photo.id}:${model.name}:${model.resolution}`;
}

/** "The whole photo is the face": its centred square at the model's resolution. */
function wholePhotoCrop(photo: LoadedPhoto, res: number): FaceCrop[] {
  // crop from the full-resolution original for quality; the transform is in working pixels
  const o = centerSquareTransform(photo.width, photo.height, res);
  const crop = drawToRgba(photo.bitmap, res, res, { x: o.x, y: o.y, width: o.side, height: o.side });
  const w = centerSquareTransform(photo.working.width, photo.working.height, res);
  const aligned: AlignedFace = { crop, transform: w.transform, inverse: w.inverse };
  return [{ key: `${photo.id}:whole:${res}`, faceIndex: -1, aligned }];
}

/** Align every selected face to the model's template. */
export async function alignSelected(): Promise<void> {
  const my = ++generation;
  const s = useAppStore.getState();
  const photo = s.photo;
  const model = s.modelInfo;
  if (!photo || !model) return;
  if (s.selectedFaces.length === 0) {
    useAppStore.setState({ crops: [], activeCropKey: undefined, faceStatus: 'idle' });
    return;
  }
  s.facesAligning();
  try {
    const crops: FaceCrop[] = [];
    for (const i of s.selectedFaces) {
      const face = s.faces[i];
      if (!face) continue;
      const key = `${photo.id}:${i}:${model.resolution}`;
      const existing = s.crops.find((c) => c.key === key);
      const aligned = existing ? existing.aligned : await engine.alignFace(photo.working, face);
      crops.push({ key, faceIndex: i, aligned });
    }
    if (my !== generation) return;
    useAppStore.getState().facesAligned(crops);
  } catch (e) {
    if (my !== generation) return;
    useAppStore.getState().facesFailed(toAppError(e));
  }
}

/** Faces ordered by the centre of their box, left to right; faces in one column (centres within half a box) top to bottom. */
export function sortLeftToRight<T extends { box: { x: number; y: number; width: number; height: number } }>(faces: T[]): T[] {
  const cx = (f: T) => f.box.x + f.box.width / 2;
  return [...faces].sort((a, b) => {
    const dx = cx(a) - cx(b);
    if (Math.abs(dx) < Math.min(a.box.width, b.box.width) / 2) return a.box.y - b.box.y;
    return dx;
  });
}

/** Select every face, or none. */
export async function selectAllFaces(all: boolean): Promise<void> {
  const s = useAppStore.getState();
  s.setSelectedFaces(all ? s.faces.map((_, i) => i) : []);
  await alignSelected();
}

export async function toggleFace(index: number): Promise<void> {
  const s = useAppStore.getState();
  const sel = s.selectedFaces.includes(index) ? s.selectedFaces.filter((i) => i !== index) : [...s.selectedFaces, index];
  s.setSelectedFaces(sel);
  await alignSelected();
}

/** A sideways or upside-down scan: turn it a quarter clockwise for the detector, and look for faces again. */
export async function turnPhoto(): Promise<void> {
  const s = useAppStore.getState();
  s.setQuarterTurns(s.quarterTurns + 1);
  await findFaces();
}

/**
 * Flip "my photo is already a cropped face". A mask painted on the current crop is carried over: warped through
 * the photo (old crop -> photo -> new crop) onto the new crop, never silently replaced by an empty one.
 */
export async function setAlreadyCropped(on: boolean): Promise<void> {
  const before = useAppStore.getState();
  const prev = selectActiveCrop(before);
  const mask = before.maskImage && prev && before.maskCropKey === prev.key ? before.maskImage : undefined;
  before.setAlreadyCropped(on);
  // the person's own choice from now on: the app does not tick the switch again for this photo and model
  useAppStore.setState({
    autoAligned: undefined,
    alignedCheckKey: before.photo && before.modelInfo ? alignmentCheckKey(before.photo, before.modelInfo) : undefined,
  });
  await findFaces();
  if (!mask || !prev) return;
  const st = useAppStore.getState();
  const next = selectActiveCrop(st);
  if (!next || next.key === prev.key || st.alreadyCropped !== on) return;
  const carried = carryMaskBetween(mask, prev, next);
  st.setMaskImage(carried, next.key);
  st.announce(carried ? 'The painted mask was moved onto the new crop.' : 'The painted mask lies outside the new crop, so it was cleared.');
}

/** A mask painted on crop `prev` carried onto crop `next` (their transforms read on pixel centres). */
export function carryMaskBetween(
  mask: RgbaImage,
  prev: Pick<FaceCrop, 'faceIndex' | 'aligned'>,
  next: Pick<FaceCrop, 'faceIndex' | 'aligned'>,
): RgbaImage | undefined {
  const { width, height } = next.aligned.crop;
  return carryMask(mask, invertAffine(cropToWorkingCentres(prev)), cropToWorkingCentres(next), width, height);
}

/**
 * new crop -> photo (newInverse), then photo -> old crop (oldTransform): where each new crop pixel was. Both map pixel
 * centres (cropToWorkingCentres: the whole photo as the face records its own in corners).
 */
export function carryMask(mask: RgbaImage, oldTransform: Affine, newInverse: Affine, width: number, height: number): RgbaImage | undefined {
  const m = warpMaskToCrop(mask, composeAffine(oldTransform, newInverse), width, height);
  return countMasked(m) ? maskToRgba(m) : undefined;
}
