/**
 * Where H7b's panels (task and guidance controls, mask editor, references, models) sit in the
 * layout. Kept in one file so wiring their panels in touches only this place.
 */
import { useAppStore } from '../store';
import { ControlsPanel } from '../features/controls/ControlsPanel';
import { usesMask } from '../features/controls/controls-model';
import { MaskEditor } from '../features/mask-editor/MaskEditor';
import { ModelsPanel } from '../features/models-panel/ModelsPanel';
import { ReferencesPanel } from '../features/references/ReferencesPanel';

export function SettingsArea() {
  return (
    <section className="panel" aria-labelledby="settings-title" data-testid="settings-area">
      <h2 id="settings-title" className="panel__title">
        <span className="step-number" aria-hidden="true">
          3
        </span>{' '}
        What to fix
      </h2>
      <ControlsPanel />
    </section>
  );
}

export function MaskArea() {
  const needed = useAppStore((s) => usesMask(s.guidance));
  const hasCrop = useAppStore((s) => s.crops.length > 0);
  const hasMask = useAppStore((s) => s.maskImage !== undefined);
  if (!hasCrop) return null;
  return (
    <section className="panel" aria-labelledby="mask-title" data-testid="mask-area">
      <details open={needed || hasMask}>
        <summary>
          <h2 id="mask-title" className="panel__title panel__title--inline">
            Mask: missing or damaged parts {needed ? '' : <span className="muted small">(optional for this task)</span>}
          </h2>
        </summary>
        <MaskEditor />
      </details>
    </section>
  );
}

export function ModelsArea() {
  return (
    <section className="panel panel--wide" id="models" aria-labelledby="models-title" data-testid="models-area" tabIndex={-1}>
      <h2 id="models-title" className="panel__title">
        Models
      </h2>
      <ModelsPanel />
    </section>
  );
}

function usesReferences(s: ReturnType<typeof useAppStore.getState>): boolean {
  return s.guidance.task === 'reference' || (s.guidance.weights.identity ?? 0) > 0 || s.styleChoice === 'references';
}

export function ReferencesArea() {
  const needed = useAppStore(usesReferences);
  const count = useAppStore((s) => s.references.length);
  return (
    <section className="panel" aria-labelledby="refs-title" data-testid="references-area">
      <details open={needed || count > 0}>
        <summary>
          <h2 id="refs-title" className="panel__title panel__title--inline">
            Reference photos {count > 0 ? `(${count})` : ''}{' '}
            {needed ? '' : <span className="muted small">(optional: a sharp photo of the same person)</span>}
          </h2>
        </summary>
        <ReferencesPanel />
      </details>
    </section>
  );
}
