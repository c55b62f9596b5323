import type { ModelSource } from '../../../workers/api';
import { useAppStore } from '../../store';
import { engine } from '../../worker-client';
import { toAppError, toEngineInfo } from '../errors/errors';
import { findFaces } from '../faces/faces-actions';

/** Load a model set into the engine, reporting progress into the models slice. */
export async function loadModelSet(source: ModelSource): Promise<boolean> {
  const s = useAppStore.getState();
  s.modelLoadStarted(source);
  try {
    const info = await engine.loadModels(source, (ev) => {
      const st = useAppStore.getState();
      if (ev.status === 'download') st.modelDownloadProgress({ file: ev.file, loaded: ev.loaded, total: ev.total });
      else if (ev.status === 'load') st.modelRoleLoading(ev.role);
    });
    useAppStore.getState().modelLoaded(info);
    useAppStore.getState().announce(`Model “${info.name}” loaded.`);
    if (useAppStore.getState().photo) await findFaces();
    return true;
  } catch (e) {
    const err = toAppError(e);
    useAppStore.getState().modelLoadFailed(toEngineInfo(err));
    return false;
  }
}
