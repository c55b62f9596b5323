import { useAppStore } from '../../store';
import { toAppError } from '../errors/errors';
import { decodePhoto } from './decode';
import { findFaces } from '../faces/faces-actions';

/** Load a file the person chose (picker, drop or paste). On failure the previous photo stays. */
export async function loadPhotoFile(file: Blob, name: string): Promise<boolean> {
  const s = useAppStore.getState();
  s.photoLoadStarted();
  try {
    const photo = await decodePhoto(file, name);
    const previous = useAppStore.getState().photo;
    useAppStore.getState().photoLoaded(photo);
    useAppStore.getState().announce(`Photo loaded: ${name}, ${photo.width} by ${photo.height} pixels.`);
    // the previous photo's bitmap is no longer shown
    if (previous && previous.bitmap !== photo.bitmap) previous.bitmap.close();
    await findFaces();
    return true;
  } catch (e) {
    const err = toAppError(e);
    useAppStore.getState().photoFailed(err);
    useAppStore.getState().announce(`${err.title}. ${err.message}`);
    return false;
  }
}

/** The first image among dropped or pasted items, else the first file. */
export function pickFile(files: ArrayLike<File>): File | undefined {
  const list = Array.from(files);
  return list.find((f) => f.type.startsWith('image/')) ?? list[0];
}
