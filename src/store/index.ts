/**
 * The one app store, composed from slice files (zustand slice pattern). Components read small
 * selectors: `useAppStore((s) => s.runStatus)`. Slices import AppState as a type only.
 */
import { create } from 'zustand';
import type { StateCreator } from 'zustand';
import type { PhotoSlice } from './photoSlice';
import type { FacesSlice } from './facesSlice';
import type { RunSlice } from './runSlice';
import type { HistorySlice } from './historySlice';
import type { UiSlice } from './uiSlice';
import type { MaskSlice } from './maskSlice';
import type { ControlsSlice } from './controlsSlice';
import type { ReferencesSlice } from './referencesSlice';
import type { ModelsSlice } from './modelsSlice';
import { createPhotoSlice } from './photoSlice';
import { createFacesSlice } from './facesSlice';
import { createRunSlice } from './runSlice';
import { createHistorySlice } from './historySlice';
import { createUiSlice } from './uiSlice';
import { createMaskSlice } from './maskSlice';
import { createControlsSlice } from './controlsSlice';
import { createReferencesSlice } from './referencesSlice';
import { createModelsSlice } from './modelsSlice';

export type AppState = PhotoSlice &
  FacesSlice &
  RunSlice &
  HistorySlice &
  UiSlice &
  MaskSlice &
  ControlsSlice &
  ReferencesSlice &
  ModelsSlice;

/** What every slice file exports its creator as. */
export type SliceCreator<T> = StateCreator<AppState, [], [], T>;

export const createAppState: StateCreator<AppState> = (...a) => ({
  ...createPhotoSlice(...a),
  ...createFacesSlice(...a),
  ...createRunSlice(...a),
  ...createHistorySlice(...a),
  ...createUiSlice(...a),
  ...createMaskSlice(...a),
  ...createControlsSlice(...a),
  ...createReferencesSlice(...a),
  ...createModelsSlice(...a),
});

export const useAppStore = create<AppState>()(createAppState);

export type { PhotoSlice, FacesSlice, RunSlice, HistorySlice, UiSlice, MaskSlice, ControlsSlice, ReferencesSlice, ModelsSlice };
