import { useEffect } from 'react';
import { useAppStore } from '../store';
import { CapabilitiesPanel } from '../features/capabilities/CapabilitiesPanel';
import { UploadPanel } from '../features/upload/UploadPanel';
import { FacesPanel } from '../features/faces/FacesPanel';
import { RunPanel } from '../features/run/RunPanel';
import { ResultsPanel } from '../features/results/ResultsPanel';
import { HistoryPanel } from '../features/history/HistoryPanel';
import { ModelNotice } from './ModelNotice';
import { MaskArea, ModelsArea, ReferencesArea, SettingsArea } from './SettingsArea';
import { bootstrap } from './bootstrap';

function Announcer() {
  const text = useAppStore((s) => s.announcement);
  return (
    <p className="visually-hidden" aria-live="polite" data-testid="announcer">
      {text}
    </p>
  );
}

export function App() {
  useEffect(() => bootstrap(), []);
  return (
    <div className="app" data-testid="app-root">
      <a className="skip-link" href="#main">
        Skip to the photo
      </a>
      <header className="app-header">
        <div className="app-header__brand">
          <h1>PGDiff Restore</h1>
          <p className="muted">
            Restore old, blurry, faded or damaged face photos. Everything runs in your browser, on your own device: your photos are never
            uploaded.
          </p>
        </div>
        <CapabilitiesPanel />
      </header>
      <ModelNotice />
      <main id="main" className="app-main" tabIndex={-1}>
        <div className="column">
          <UploadPanel />
          <FacesPanel />
          <MaskArea />
        </div>
        <div className="column">
          <SettingsArea />
          <ReferencesArea />
          <RunPanel />
        </div>
        <ResultsPanel />
        <HistoryPanel />
        <ModelsArea />
      </main>
      <footer className="app-footer muted small">
        PGDiff (Yang et al., “Guiding Diffusion Models for Versatile Face Restoration via Partial Guidance”, NeurIPS 2023) running with
        onnxruntime-web. Model licences are shown in the Models panel.
      </footer>
      <Announcer />
    </div>
  );
}
