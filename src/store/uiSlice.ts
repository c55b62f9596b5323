import type { Capabilities } from '../../workers/api';
import type { SliceCreator } from './index';

export interface UiSlice {
  capabilities: Capabilities | undefined;
  capabilitiesError: string | undefined;
  /** polite status line read by screen readers */
  announcement: string;
  /** the engine was restarted (after a cancel that would not stop, or a crash) */
  engineRestarts: number;
  setCapabilities: (c: Capabilities) => void;
  setCapabilitiesError: (message: string) => void;
  announce: (text: string) => void;
  engineRestarted: () => void;
}

export const createUiSlice: SliceCreator<UiSlice> = (set) => ({
  capabilities: undefined,
  capabilitiesError: undefined,
  announcement: '',
  engineRestarts: 0,
  setCapabilities: (c) => set({ capabilities: c, capabilitiesError: undefined }),
  setCapabilitiesError: (message) => set({ capabilitiesError: message }),
  announce: (text) => set({ announcement: text }),
  engineRestarted: () => set((s) => ({ engineRestarts: s.engineRestarts + 1 })),
});
