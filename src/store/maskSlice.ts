import type { StateCreator } from 'zustand';
import type { RgbaImage } from '../../workers/api';
import type { AppState } from './index';

export type MaskTool = 'brush' | 'eraser' | 'pan';

export interface MaskSlice {
  /** the committed mask (white = missing), same size as the aligned crop; undefined = no mask */
  maskImage: RgbaImage | undefined;
  /** identifies the crop the mask belongs to, so a new crop drops a stale mask */
  maskCropKey: string | undefined;
  maskTool: MaskTool;
  maskBrushSize: number;
  maskOverlayOpacity: number;
  maskDetecting: boolean;
  maskError: string | undefined;
  setMaskImage: (mask: RgbaImage | undefined, cropKey?: string) => void;
  setMaskTool: (tool: MaskTool) => void;
  setMaskBrushSize: (size: number) => void;
  setMaskOverlayOpacity: (opacity: number) => void;
  setMaskDetecting: (busy: boolean) => void;
  setMaskError: (message: string | undefined) => void;
}

export const MIN_BRUSH = 1;
export const MAX_BRUSH = 160;

export const createMaskSlice: StateCreator<AppState, [], [], MaskSlice> = (set) => ({
  maskImage: undefined,
  maskCropKey: undefined,
  maskTool: 'brush',
  maskBrushSize: 24,
  maskOverlayOpacity: 0.55,
  maskDetecting: false,
  maskError: undefined,
  setMaskImage: (mask, cropKey) => set((s) => ({ maskImage: mask, maskCropKey: cropKey ?? s.maskCropKey })),
  setMaskTool: (tool) => set({ maskTool: tool }),
  setMaskBrushSize: (size) => set({ maskBrushSize: Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, Math.round(size))) }),
  setMaskOverlayOpacity: (opacity) => set({ maskOverlayOpacity: Math.min(1, Math.max(0, opacity)) }),
  setMaskDetecting: (busy) => set({ maskDetecting: busy }),
  setMaskError: (message) => set({ maskError: message }),
});

/**
 * The mask for the run (white = missing) or undefined when nothing is painted. One mask at a time:
 * it belongs to the crop `maskCropKey` (the editor starts a fresh mask when another face is active).
 */
export function selectMaskImage(state: AppState): RgbaImage | undefined {
  return state.maskImage;
}
