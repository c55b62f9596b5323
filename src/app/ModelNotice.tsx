import { useAppStore } from '../store';

/** Says plainly when no model is installed or the model is loading, with the next step. */
export function ModelNotice() {
  const status = useAppStore((s) => s.modelStatus);
  const error = useAppStore((s) => s.modelError);
  const name = useAppStore((s) => s.modelInfo?.name);
  const testOnly = useAppStore((s) => s.modelIsTestOnly);
  if (status === 'loading') {
    return (
      <p className="banner banner--info" role="status" data-testid="model-notice" data-state="loading">
        Loading the model… the first time it is downloaded once, then kept for offline use.
      </p>
    );
  }
  if (status === 'ready' && testOnly) {
    return (
      <p className="banner banner--warn" role="status" data-testid="model-notice" data-state="test-only">
        The loaded model set “{name}” is a test set with random weights: its results are noise, not restorations.
      </p>
    );
  }
  if (status === 'ready') return null;
  const none = !error || error.code === 'no-model';
  return (
    <div className="banner banner--warn" role="status" data-testid="model-notice" data-state={none ? 'none' : 'error'}>
      <p>
        <strong>{none ? 'No model is installed.' : 'The model could not be loaded.'}</strong>{' '}
        {none ? 'The app needs a PGDiff model set to restore photos.' : error.message}
      </p>
      <p>
        {error?.hint ?? 'Open the Models panel and load one from a web address or from files on your computer.'}{' '}
        <a href="#models" data-testid="open-models">
          Go to the Models panel
        </a>
      </p>
    </div>
  );
}
