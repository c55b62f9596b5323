import type { StateCreator } from 'zustand';
import type { ColorStyle, RgbaImage } from '../../workers/api';
import { styleFromImages } from '../../workers/shared/presets';
import type { AppState } from './index';

export interface ReferenceItem {
  id: string;
  /** file name, for the thumbnail's label */
  name: string;
  /** the aligned crop */
  crop: RgbaImage;
}

export interface ReferencesSlice {
  references: ReferenceItem[];
  /** colour style computed from the references (styleFromImages), undefined without references */
  referenceStyle: ColorStyle | undefined;
  referencesBusy: boolean;
  referencesError: string | undefined;
  addReferences: (items: ReferenceItem[]) => void;
  removeReference: (id: string) => void;
  clearReferences: () => void;
  setReferencesBusy: (busy: boolean) => void;
  setReferencesError: (message: string | undefined) => void;
}

function withStyle(references: ReferenceItem[]): Pick<ReferencesSlice, 'references' | 'referenceStyle'> {
  return {
    references,
    referenceStyle: references.length ? styleFromImages(references.map((r) => r.crop)) : undefined,
  };
}

export const createReferencesSlice: StateCreator<AppState, [], [], ReferencesSlice> = (set) => ({
  references: [],
  referenceStyle: undefined,
  referencesBusy: false,
  referencesError: undefined,
  addReferences: (items) => set((s) => withStyle([...s.references, ...items])),
  removeReference: (id) => set((s) => withStyle(s.references.filter((r) => r.id !== id))),
  clearReferences: () => set(withStyle([])),
  setReferencesBusy: (busy) => set({ referencesBusy: busy }),
  setReferencesError: (message) => set({ referencesError: message }),
});

let lastRefs: ReferenceItem[] | undefined;
let lastImages: RgbaImage[] = [];

/** Aligned reference crops for the identity property (memoised: stable while references are unchanged). */
export function selectReferenceImages(state: AppState): RgbaImage[] {
  if (state.references !== lastRefs) {
    lastRefs = state.references;
    lastImages = state.references.map((r) => r.crop);
  }
  return lastImages;
}
