import type { AlignedFace, DetectedFace, RgbaImage } from '../../workers/api';
import type { AppError } from '../features/errors/errors';
import type { AppState, SliceCreator } from './index';

export type FaceStatus = 'idle' | 'detecting' | 'aligning' | 'ready' | 'error';

/** One face to restore: where it came from and its aligned crop at the model's resolution. */
export interface FaceCrop {
  /** unique per photo + face + model resolution; the mask editor keys masks with it */
  key: string;
  /** index into `faces`, or -1 for "the whole photo is the face" */
  faceIndex: number;
  aligned: AlignedFace;
}

export interface FacesSlice {
  /** "my photo is already a cropped face": skip detection, resize to the model's resolution */
  alreadyCropped: boolean;
  /**
   * Set when the app, not the person, turned alreadyCropped on: the one face found already sat on the model's
   * alignment template (workers/faces/already-aligned.ts). `key` is the photo + model it was decided for;
   * `distance` the mean landmark distance to the template (fraction of the side).
   */
  autoAligned: { key: string; distance: number } | undefined;
  /** the photo + model the alignment check last ran for (so a person's "crop it anyway" is not overruled) */
  alignedCheckKey: string | undefined;
  faces: DetectedFace[];
  /** indices into faces the person picked */
  selectedFaces: number[];
  /** aligned crops, in the order of selectedFaces (or one entry in alreadyCropped mode) */
  crops: FaceCrop[];
  /** which crop the mask editor, the preview and the results show */
  activeCropKey: string | undefined;
  faceStatus: FaceStatus;
  faceError: AppError | undefined;
  /** clockwise quarter turns that make the photo upright (a sideways scan); the detector uses them */
  quarterTurns: number;
  setQuarterTurns: (turns: number) => void;
  setAlreadyCropped: (on: boolean) => void;
  facesDetecting: () => void;
  facesDetected: (faces: DetectedFace[]) => void;
  setSelectedFaces: (indices: number[]) => void;
  facesAligning: () => void;
  facesAligned: (crops: FaceCrop[]) => void;
  facesFailed: (error: AppError) => void;
  setActiveCrop: (key: string) => void;
  resetFaces: () => void;
}

export const createFacesSlice: SliceCreator<FacesSlice> = (set) => ({
  alreadyCropped: false,
  autoAligned: undefined,
  alignedCheckKey: undefined,
  faces: [],
  selectedFaces: [],
  crops: [],
  activeCropKey: undefined,
  faceStatus: 'idle',
  faceError: undefined,
  quarterTurns: 0,
  setQuarterTurns: (turns) => set({ quarterTurns: ((Math.round(turns) % 4) + 4) % 4 }),
  setAlreadyCropped: (on) => set({ alreadyCropped: on, faceError: undefined }),
  facesDetecting: () => set({ faceStatus: 'detecting', faceError: undefined, faces: [], selectedFaces: [], crops: [] }),
  facesDetected: (faces) => set({ faces, faceStatus: 'idle' }),
  setSelectedFaces: (indices) => set({ selectedFaces: [...new Set(indices)].sort((a, b) => a - b) }),
  facesAligning: () => set({ faceStatus: 'aligning', faceError: undefined }),
  facesAligned: (crops) =>
    set((s) => ({
      crops,
      faceStatus: 'ready',
      activeCropKey: crops.some((c) => c.key === s.activeCropKey) ? s.activeCropKey : crops[0]?.key,
    })),
  facesFailed: (error) => set({ faceStatus: 'error', faceError: error }),
  setActiveCrop: (key) => set({ activeCropKey: key }),
  resetFaces: () => set({ faces: [], selectedFaces: [], crops: [], activeCropKey: undefined, faceStatus: 'idle', faceError: undefined }),
});

/** The crop the mask editor paints on and the results show first. */
export function selectActiveCrop(state: AppState): FaceCrop | undefined {
  return state.crops.find((c) => c.key === state.activeCropKey) ?? state.crops[0];
}

/** The active aligned crop image (what the mask editor draws under the mask), with its key. */
export function selectActiveCropImage(state: AppState): { key: string; image: RgbaImage } | undefined {
  const c = selectActiveCrop(state);
  return c ? { key: c.key, image: c.aligned.crop } : undefined;
}
