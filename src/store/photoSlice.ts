import type { RgbaImage } from '../../workers/api';
import type { AppError } from '../features/errors/errors';
import type { SliceCreator } from './index';

/** A photo the person chose, decoded with EXIF orientation applied. */
export interface LoadedPhoto {
  /** changes whenever a new photo is loaded (keys crops, masks and history) */
  id: string;
  name: string;
  /** the original file, kept for history (so a reload can paste back into the full photo) */
  file: Blob;
  /** full resolution (decoded, EXIF orientation applied), read back only for the final composite */
  bitmap: ImageBitmap;
  width: number;
  height: number;
  /** downscaled copy (longest side <= WORK_MAX_SIDE) used for detection and display */
  working: RgbaImage;
  /** working = original * scale (scale <= 1) */
  scale: number;
}

export interface PhotoSlice {
  photo: LoadedPhoto | undefined;
  photoLoading: boolean;
  /** the last input error; the previous photo stays loaded */
  photoError: AppError | undefined;
  photoLoadStarted: () => void;
  photoLoaded: (photo: LoadedPhoto) => void;
  photoFailed: (error: AppError) => void;
  clearPhotoError: () => void;
}

export const createPhotoSlice: SliceCreator<PhotoSlice> = (set) => ({
  photo: undefined,
  photoLoading: false,
  photoError: undefined,
  photoLoadStarted: () => set({ photoLoading: true, photoError: undefined }),
  // a new photo starts upright
  photoLoaded: (photo) => set({ photo, photoLoading: false, photoError: undefined, quarterTurns: 0 }),
  photoFailed: (error) => set({ photoLoading: false, photoError: error }),
  clearPhotoError: () => set({ photoError: undefined }),
});
