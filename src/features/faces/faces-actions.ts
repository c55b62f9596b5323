import type { AlignedFace } from '../../../workers/api';
import { useAppStore } from '../../store';
import type { FaceCrop } from '../../store/facesSlice';
import { drawToRgba } from '../../app/canvas';
import { engine } from '../../worker-client';
import { makeError, toAppError } from '../errors/errors';
import { centerSquareTransform } from '../upload/image-math';

let generation = 0;

/** After a photo loads, the switch flips or a model loads: find (or make) the face crops. */
export async function findFaces(): Promise<void> {
  const my = ++generation;
  const s = useAppStore.getState();
  const photo = s.photo;
  if (!photo) return;
  const model = s.modelInfo;
  if (!model) {
    s.resetFaces();
    if (s.modelStatus !== 'loading') s.facesFailed(makeError('no-model'));
    return;
  }
  if (s.alreadyCropped) {
    s.facesAligning();
    const res = model.resolution;
    // crop from the full-resolution original for quality; the transform is in working pixels
    const o = centerSquareTransform(photo.width, photo.height, res);
    const crop = drawToRgba(photo.bitmap, res, res, { x: o.x, y: o.y, width: o.side, height: o.side });
    const w = centerSquareTransform(photo.working.width, photo.working.height, res);
    const aligned: AlignedFace = { crop, transform: w.transform, inverse: w.inverse };
    if (my !== generation) return;
    useAppStore.setState({ faces: [], selectedFaces: [] });
    useAppStore.getState().facesAligned([{ key: `${photo.id}:whole:${res}`, faceIndex: -1, aligned }]);
    return;
  }
  s.facesDetecting();
  try {
    const faces = await engine.detectFaces(photo.working);
    if (my !== generation) return;
    const st = useAppStore.getState();
    st.facesDetected(faces);
    if (faces.length === 0) {
      st.facesFailed(makeError('no-face', `No face was found in “${photo.name}”.`));
      st.announce('No face found.');
      return;
    }
    // start with the largest face; the person can add the others
    let best = 0;
    faces.forEach((f, i) => {
      const b = faces[best];
      if (b && f.box.width * f.box.height > b.box.width * b.box.height) best = i;
    });
    st.setSelectedFaces([best]);
    st.announce(`${faces.length} face${faces.length === 1 ? '' : 's'} found.`);
    await alignSelected();
  } catch (e) {
    if (my !== generation) return;
    const err = toAppError(e);
    useAppStore.getState().facesFailed(err);
  }
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

export async function toggleFace(index: number): Promise<void> {
  const s = useAppStore.getState();
  const sel = s.selectedFaces.includes(index) ? s.selectedFaces.filter((i) => i !== index) : [...s.selectedFaces, index];
  s.setSelectedFaces(sel);
  await alignSelected();
}

export async function setAlreadyCropped(on: boolean): Promise<void> {
  useAppStore.getState().setAlreadyCropped(on);
  await findFaces();
}
