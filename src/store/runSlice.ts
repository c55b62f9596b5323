import type { RgbaImage } from '../../workers/api';
import type { AppError } from '../features/errors/errors';
import type { RunRecord } from '../features/history/history-model';
import type { SliceCreator } from './index';

export type RunStatus = 'idle' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'error';

export interface RunProgress {
  /** 0-based index of the face being restored, and how many */
  face: number;
  faces: number;
  variant: number;
  variants: number;
  step: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
}

export interface RunSlice {
  runStatus: RunStatus;
  runId: string | undefined;
  runProgress: RunProgress | undefined;
  runPreview: RgbaImage | undefined;
  runError: AppError | undefined;
  /** the results on screen (the last finished run, or one opened from history) */
  currentRun: RunRecord | undefined;
  /** measured milliseconds per sampler step on this machine (last run), for estimates */
  measuredStepMs: number | undefined;
  runStarted: (runId: string) => void;
  runProgressed: (p: RunProgress, preview?: RgbaImage) => void;
  runCancelling: () => void;
  runFinished: (record: RunRecord) => void;
  runCancelled: () => void;
  runFailed: (error: AppError) => void;
  setCurrentRun: (record: RunRecord | undefined) => void;
  setMeasuredStepMs: (ms: number) => void;
}

export const createRunSlice: SliceCreator<RunSlice> = (set) => ({
  runStatus: 'idle',
  runId: undefined,
  runProgress: undefined,
  runPreview: undefined,
  runError: undefined,
  currentRun: undefined,
  measuredStepMs: undefined,
  runStarted: (runId) => set({ runStatus: 'running', runId, runProgress: undefined, runPreview: undefined, runError: undefined }),
  runProgressed: (p, preview) => set((s) => ({ runProgress: p, runPreview: preview ?? s.runPreview })),
  runCancelling: () => set({ runStatus: 'cancelling' }),
  runFinished: (record) => set({ runStatus: 'done', currentRun: record, runId: undefined }),
  runCancelled: () => set({ runStatus: 'cancelled', runId: undefined }),
  runFailed: (error) => set({ runStatus: 'error', runError: error, runId: undefined }),
  setCurrentRun: (record) => set({ currentRun: record }),
  setMeasuredStepMs: (ms) => set({ measuredStepMs: ms }),
});
