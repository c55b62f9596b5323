/**
 * Reference photos: decode, find the face and align it like the input (through the worker), or
 * fall back to a centred square when no face detector is available or no face is found.
 */
import type { DetectedFace, RgbaImage } from '../../../workers/api';
import { useAppStore } from '../../store';
import type { ReferenceItem } from '../../store/referencesSlice';
import { drawToRgba } from '../../canvas/canvas';
import { engine } from '../../worker-client';
import { decodePhoto } from '../upload/decode';
import { centerSquareTransform } from '../upload/image-math';
import { toAppError } from '../errors/errors';

export const MAX_REFERENCES = 8;

/** The face to use from a reference photo: the largest, most confident one. */
export function pickReferenceFace(faces: DetectedFace[]): DetectedFace | undefined {
  let best: DetectedFace | undefined;
  let bestScore = -Infinity;
  for (const f of faces) {
    const s = f.box.width * f.box.height * Math.max(0.05, f.score);
    if (s > bestScore) {
      bestScore = s;
      best = f;
    }
  }
  return best;
}

let counter = 0;

async function alignOne(file: File, resolution: number): Promise<{ crop: RgbaImage; note?: string }> {
  const photo = await decodePhoto(file, file.name);
  try {
    try {
      const faces = await engine.detectFaces(photo.working);
      const face = pickReferenceFace(faces);
      if (face) return { crop: (await engine.alignFace(photo.working, face)).crop };
      const o = centerSquareTransform(photo.width, photo.height, resolution);
      return {
        crop: drawToRgba(photo.bitmap, resolution, resolution, { x: o.x, y: o.y, width: o.side, height: o.side }),
        note: `No face was found in “${file.name}”; its centre square is used as is.`,
      };
    } catch (e) {
      // no face detector in this model set, or detection failed: use the photo as a cropped face
      const o = centerSquareTransform(photo.width, photo.height, resolution);
      return {
        crop: drawToRgba(photo.bitmap, resolution, resolution, { x: o.x, y: o.y, width: o.side, height: o.side }),
        note: `Faces could not be detected in “${file.name}” (${toAppError(e).message}); it is used as an already cropped face.`,
      };
    }
  } finally {
    photo.bitmap.close();
  }
}

/** Add reference photos (file pick or drop). */
export async function addReferenceFiles(files: File[]): Promise<void> {
  const st = useAppStore.getState();
  const room = MAX_REFERENCES - st.references.length;
  const images = files.filter((f) => f.type.startsWith('image/') || /\.(jpe?g|png|webp|avif|gif|bmp)$/i.test(f.name));
  if (images.length === 0) {
    st.setReferencesError('Choose image files (JPEG, PNG or WebP) of the same person.');
    return;
  }
  if (room <= 0) {
    st.setReferencesError(`At most ${MAX_REFERENCES} reference photos; remove one first.`);
    return;
  }
  const take = images.slice(0, room);
  const resolution = st.modelInfo?.resolution ?? 512;
  st.setReferencesBusy(true);
  st.setReferencesError(undefined);
  const notes: string[] = [];
  const added: ReferenceItem[] = [];
  for (const f of take) {
    try {
      const { crop, note } = await alignOne(f, resolution);
      if (note) notes.push(note);
      added.push({ id: `ref-${Date.now()}-${counter++}`, name: f.name, crop });
    } catch (e) {
      notes.push(`“${f.name}”: ${toAppError(e).message}`);
    }
  }
  const s2 = useAppStore.getState();
  if (added.length) s2.addReferences(added);
  if (images.length > take.length) notes.push(`Only ${take.length} of ${images.length} photos were added (at most ${MAX_REFERENCES}).`);
  s2.setReferencesError(notes.length ? notes.join(' ') : undefined);
  s2.setReferencesBusy(false);
  s2.announce(`${added.length} reference photo${added.length === 1 ? '' : 's'} added.`);
}
