/** Start-up work: device capabilities, the history, the bundled model, paste, engine restarts. */
import { reapplyControls, restoreSession, startSessionPersistence } from '../features/session/session';
import { useAppStore } from '../store';
import { engine } from '../worker-client';
import { loadHistory } from '../features/history/history-actions';
import { loadPhotoFile } from '../features/upload/upload-actions';
import { toAppError } from '../features/errors/errors';
import { loadModelSet } from '../features/models-panel/model-actions';

declare global {
  interface Window {
    /** set by tests (addInitScript) to stop the bundled model loading at start-up */
    __pgdiffNoAutoload?: boolean;
  }
}

let started = false;

function isEditable(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT';
}

export function bootstrap(): void {
  if (started) return;
  started = true;

  engine
    .capabilities()
    .then((c) => useAppStore.getState().setCapabilities(c))
    .catch((e: unknown) => useAppStore.getState().setCapabilitiesError(toAppError(e).message));

  void loadHistory();

  const noAutoload = window.__pgdiffNoAutoload === true || new URLSearchParams(location.search).has('noautoload');
  // the work in progress comes back after a reload, and is saved as it changes from then on
  const restored = restoreSession().finally(() => startSessionPersistence());
  if (!noAutoload) {
    // a missing bundled set arrives as 'no-model' ("no model installed") from the engine service
    void loadModelSet({ kind: 'bundled' }).then(async (ok) => {
      // a set's own task defaults were applied on load: the person's saved choices win
      const saved = await restored;
      if (ok && saved) reapplyControls(saved);
    });
  }

  // paste a photo anywhere (unless typing in a field)
  window.addEventListener('paste', (e) => {
    if (isEditable(e.target)) return;
    const items = Array.from(e.clipboardData?.items ?? []);
    const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/')) ?? items.find((i) => i.kind === 'file');
    const file = item?.getAsFile();
    if (file) {
      e.preventDefault();
      void loadPhotoFile(file, file.name || 'pasted image');
    }
  });

  engine.onRestart((reason) => {
    const st = useAppStore.getState();
    st.engineRestarted();
    st.announce(reason === 'crash' ? 'The engine stopped and was restarted.' : 'The engine was restarted to stop the run.');
  });
}
