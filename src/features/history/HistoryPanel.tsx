import { useEffect, useState } from 'react';
import { useAppStore } from '../../store';
import type { HistoryEntry } from './history-model';
import { describeSettings } from './history-model';
import { rerunFromHistory } from '../run/run-actions';
import { applySettings, openHistoryEntry, removeHistoryEntry } from './history-actions';
import { formatDuration } from '../run/run-math';

function Thumb({ blob, alt }: { blob: Blob; alt: string }) {
  // the URL is made and revoked by the same effect (StrictMode runs effects twice)
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url ? (
    <img src={url} alt={alt} className="history__thumb" width={72} height={72} data-testid="history-thumb" />
  ) : (
    <span className="history__thumb" aria-hidden="true" />
  );
}

function Entry({ entry, index }: { entry: HistoryEntry; index: number }) {
  const running = useAppStore((s) => s.runStatus === 'running' || s.runStatus === 'cancelling');
  const current = useAppStore((s) => s.currentRun?.id === entry.id);
  const [applied, setApplied] = useState(false);
  const when = new Date(entry.createdAt).toLocaleString();
  return (
    <li
      className={`history__item${current ? ' history__item--current' : ''}`}
      data-testid={`history-entry-${index}`}
      data-run-id={entry.id}
    >
      <Thumb blob={entry.thumbnail} alt={`Result of ${entry.photoName}`} />
      <div className="history__body">
        <p className="history__title">
          {entry.photoName}
          {entry.faceCount > 1 ? ` · ${entry.faceCount} faces` : ''}
        </p>
        <p className="muted small" data-testid="history-settings">
          {describeSettings(entry.settings, entry.steps)}
        </p>
        <p className="muted small">
          <time dateTime={new Date(entry.createdAt).toISOString()}>{when}</time> · {formatDuration(entry.totalMs)} on{' '}
          {entry.backend.toUpperCase()}
        </p>
        <div className="history__actions">
          <button type="button" className="button button--small" onClick={() => void openHistoryEntry(entry.id)} data-testid="history-open">
            Show
          </button>
          <button
            type="button"
            className="button button--small"
            disabled={running}
            onClick={() => void rerunFromHistory(entry.id)}
            data-testid="history-rerun"
          >
            Run again
          </button>
          <button
            type="button"
            className="button button--small button--quiet"
            onClick={() => {
              applySettings(entry.settings);
              setApplied(true);
            }}
            data-testid="history-apply"
          >
            {applied ? 'Settings applied' : 'Use these settings'}
          </button>
          <button
            type="button"
            className="button button--small button--quiet"
            aria-label={`Delete the run of ${entry.photoName} from ${when}`}
            onClick={() => void removeHistoryEntry(entry.id)}
            data-testid="history-delete"
          >
            Delete
          </button>
        </div>
      </div>
    </li>
  );
}

export function HistoryPanel() {
  const history = useAppStore((s) => s.history);
  const loaded = useAppStore((s) => s.historyLoaded);
  const error = useAppStore((s) => s.historyError);
  return (
    <section className="panel" aria-labelledby="history-title" data-testid="history-panel">
      <h2 id="history-title" className="panel__title">
        History
      </h2>
      <p className="muted small">Kept in this browser only (IndexedDB). Nothing is uploaded.</p>
      {error && (
        <p className="notice notice--info" role="status" data-testid="history-error">
          {error}
        </p>
      )}
      {loaded && history.length === 0 && <p className="muted">Your restorations will appear here.</p>}
      <ol className="history" data-testid="history-list">
        {history.map((e, i) => (
          <Entry key={e.id} entry={e} index={i} />
        ))}
      </ol>
    </section>
  );
}
