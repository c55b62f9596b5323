import type { HistoryEntry } from '../features/history/history-model';
import type { SliceCreator } from './index';

export interface HistorySlice {
  /** newest first; thumbnails only (full images are read from IndexedDB when opened) */
  history: HistoryEntry[];
  historyLoaded: boolean;
  historyError: string | undefined;
  setHistory: (entries: HistoryEntry[]) => void;
  addHistoryEntry: (entry: HistoryEntry) => void;
  removeHistoryEntry: (id: string) => void;
  setHistoryError: (message: string | undefined) => void;
}

export const createHistorySlice: SliceCreator<HistorySlice> = (set) => ({
  history: [],
  historyLoaded: false,
  historyError: undefined,
  setHistory: (entries) => set({ history: entries, historyLoaded: true }),
  addHistoryEntry: (entry) => set((s) => ({ history: [entry, ...s.history.filter((e) => e.id !== entry.id)] })),
  removeHistoryEntry: (id) => set((s) => ({ history: s.history.filter((e) => e.id !== id) })),
  setHistoryError: (message) => set({ historyError: message }),
});
