/** Start-up work: device capabilities, the history, the bundled model, paste, engine restarts. */
import { reapplyControls, restoreSession, startSessionPersistence } from '../features/session/session';
import { useAppStore } from '../store';
import { engine } from '../worker-client';
import { loadHistory } from '../features/history/history-actions';
import { loadPhotoFile } from '../features/upload/upload-actions';
import { toAppError } from '../features/errors/errors';
import { loadModelSet } from './model-actions';

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
    void loadModelSet({ kind: 'bundled' }).then(async (ok) => {
      // a set's own task defaults were applied on load: the person's saved choices win
      const saved = await restored;
      if (ok && saved) reapplyControls(saved);
      if (!ok) {
        // no bundled set: say plainly that no model is installed (the Models panel offers the rest)
        const st = useAppStore.getState();
        // a missing bundled set means "no model installed": a 404, or an HTML page where the
        // manifest should be (servers that answer every path with index.html); other failures keep
        // their own message
        const missing = /\b404\b|not found|no such|not JSON \(.*'<'/i.test(st.modelError?.message ?? '');
        if (st.modelStatus === 'error' && st.modelError && missing) {
          st.modelLoadFailed({
            code: 'no-model',
            message: 'No model is installed in this copy of the app.',
            hint: 'Open the Models panel and load a PGDiff model set from a web address or from files on your computer.',
          });
        }
      }
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
