import type { StateCreator } from 'zustand';
import type { EngineErrorInfo, LoadedModelSetInfo, ModelSource } from '../../workers/api';
import { taskStart } from './controlsSlice';
import type { AppState } from './index';

export type ModelLoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface ModelFileProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface ModelsSlice {
  modelInfo: LoadedModelSetInfo | undefined;
  /** the source of the loaded (or loading) set, for display */
  modelSourceLabel: string | undefined;
  modelStatus: ModelLoadStatus;
  /** per-file download progress while loading */
  modelProgress: Record<string, ModelFileProgress>;
  /** the role being initialised, while loading */
  modelLoadingRole: string | undefined;
  modelError: EngineErrorInfo | undefined;
  /** true when the loaded set is a random-weight test set (the manifest's testOnly, as the loader reports it) */
  modelIsTestOnly: boolean;
  modelLoadStarted: (source: ModelSource) => void;
  modelDownloadProgress: (p: ModelFileProgress) => void;
  modelRoleLoading: (role: string) => void;
  modelLoaded: (info: LoadedModelSetInfo) => void;
  modelLoadFailed: (error: EngineErrorInfo) => void;
}

export function describeSource(source: ModelSource): string {
  switch (source.kind) {
    case 'bundled':
      return source.name ? `bundled set “${source.name}”` : 'bundled set';
    case 'url':
      return source.manifestUrl;
    case 'files':
      return `${source.files.length} local file${source.files.length === 1 ? '' : 's'}`;
    case 'manifest-object':
      return source.baseUrl;
  }
}

export const createModelsSlice: StateCreator<AppState, [], [], ModelsSlice> = (set) => ({
  modelInfo: undefined,
  modelSourceLabel: undefined,
  modelStatus: 'idle',
  modelProgress: {},
  modelLoadingRole: undefined,
  modelError: undefined,
  modelIsTestOnly: false,
  modelLoadStarted: (source) =>
    set({
      modelStatus: 'loading',
      modelSourceLabel: describeSource(source),
      modelProgress: {},
      modelLoadingRole: undefined,
      modelError: undefined,
    }),
  modelDownloadProgress: (p) => set((s) => ({ modelProgress: { ...s.modelProgress, [p.file]: p } })),
  modelRoleLoading: (role) => set({ modelLoadingRole: role }),
  modelLoaded: (info) =>
    set((s) => {
      // a set with its own per-task defaults: the current task starts from them
      const start = info.defaults ? taskStart(s.guidance.task, { ...s, modelInfo: info }) : undefined;
      return {
        modelInfo: info,
        modelStatus: 'ready',
        modelLoadingRole: undefined,
        modelError: undefined,
        modelIsTestOnly: info.testOnly === true,
        ...(start ?? {}),
      };
    }),
  modelLoadFailed: (error) => set({ modelStatus: 'error', modelError: error, modelLoadingRole: undefined }),
});

/** Overall download fraction 0..1, or undefined when nothing is being downloaded. */
export function selectModelDownloadFraction(state: AppState): number | undefined {
  const files = Object.values(state.modelProgress);
  if (!files.length) return undefined;
  let loaded = 0;
  let total = 0;
  for (const f of files) {
    loaded += f.loaded;
    total += f.total;
  }
  return total > 0 ? Math.min(1, loaded / total) : undefined;
}
