import { useCallback, useEffect, useId, useState } from 'react';
import type { ModelCacheInfo, ModelSource } from '../../../workers/api';
import { engine } from '../../worker-client';
import { useAppStore } from '../../store';
import { selectModelDownloadFraction } from '../../store/modelsSlice';
import { loadModelSet } from './model-actions';
import type { CachedSet, ManifestPreview } from './models-model';
import { checkManifestUrl, findManifestFile, formatBytes, matchPickedFiles } from './models-model';
import { requestPersistentStorage } from './storage';
import './models-panel.css';

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function LoadedSet({ stored }: { stored: CachedSet | undefined }) {
  const info = useAppStore((s) => s.modelInfo);
  const status = useAppStore((s) => s.modelStatus);
  const testOnly = useAppStore((s) => s.modelIsTestOnly);
  const source = useAppStore((s) => s.modelSourceLabel);
  const error = useAppStore((s) => s.modelError);
  const fraction = useAppStore(selectModelDownloadFraction);
  const role = useAppStore((s) => s.modelLoadingRole);
  const progress = useAppStore((s) => s.modelProgress);
  return (
    <div className="models-loaded" data-testid="models-loaded" data-status={status}>
      {status === 'loading' && (
        <div className="models-progress" role="status" data-testid="models-progress">
          <p>
            Loading from {source}
            {role ? ` — preparing the ${role} model` : ''}…
          </p>
          {fraction !== undefined && (
            <>
              <progress max={1} value={fraction} aria-label="Model download" />
              <span className="small">{Math.round(fraction * 100)}%</span>
              <ul className="small muted models-progress__files">
                {Object.values(progress).map((p) => (
                  <li key={p.file}>
                    {p.file}: {formatBytes(p.loaded)} of {formatBytes(p.total)}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      {status === 'error' && error && (
        <div className="notice notice--error" role="alert" data-testid="models-error">
          <p className="notice__title">The model set could not be loaded</p>
          <p>{error.message}</p>
          {error.hint && <p className="small">{error.hint}</p>}
        </div>
      )}
      {info ? (
        <>
          <dl className="models-facts">
            <dt>Set</dt>
            <dd data-testid="model-name">
              {info.name} <span className="muted">version {info.version}</span>{' '}
              {testOnly && (
                <span className="badge badge--warn" data-testid="model-test-only">
                  test model (random weights)
                </span>
              )}
            </dd>
            <dt>Resolution</dt>
            <dd data-testid="model-resolution">
              {info.resolution}×{info.resolution} px
              {info.latent && (
                <span className="muted">
                  {' '}
                  · sampled as {info.latent.size}×{info.latent.size}×{info.latent.channels} latents, decoded to pixels
                </span>
              )}
            </dd>
            <dt>Parts</dt>
            <dd data-testid="model-roles">{info.roles.join(', ')}</dd>
            <dt>Size</dt>
            <dd data-testid="model-size">
              {formatBytes(info.totalBytes)}{' '}
              {stored ? (
                <span className="badge badge--ok" data-testid="model-cached">
                  stored on this device · works offline
                </span>
              ) : (
                <span className="badge" data-testid="model-not-cached">
                  not stored: downloads again next time
                </span>
              )}
            </dd>
            <dt>Runs on</dt>
            <dd>{info.backend === 'webgpu' ? 'your GPU (WebGPU)' : info.backend === 'wasm' ? 'your CPU (WebAssembly)' : info.backend}</dd>
            {source && (
              <>
                <dt>From</dt>
                <dd className="models-source">{source}</dd>
              </>
            )}
          </dl>
          {testOnly && (
            <p className="notice notice--error small">
              This set has random weights: it exists to test the app. Its “restorations” are noise. Load the official PGDiff set below.
            </p>
          )}
          <div className="models-licence">
            <h4>Licence of this model set</h4>
            <pre className="models-licence__text" tabIndex={0} data-testid="model-licence">
              {info.licence}
            </pre>
          </div>
        </>
      ) : (
        status !== 'loading' && <p className="muted">No model set is loaded yet.</p>
      )}
    </div>
  );
}

function Preview({ preview, children }: { preview: ManifestPreview; children?: React.ReactNode }) {
  return (
    <div className="models-preview" data-testid="models-preview">
      <p>
        <strong>{preview.name}</strong> <span className="muted">version {preview.version}</span>{' '}
        {preview.testOnly && <span className="badge badge--warn">test model (random weights)</span>}
      </p>
      {preview.description && <p className="small">{preview.description}</p>}
      <p className="small">
        {preview.resolution}×{preview.resolution} px · parts: {preview.roles.join(', ')} · download{' '}
        {preview.bytesFp16 !== preview.bytesFp32
          ? `${formatBytes(preview.bytesFp16)} (half precision) to ${formatBytes(preview.bytesFp32)}`
          : formatBytes(preview.bytesFp32)}
        , kept on this device for offline use.
      </p>
      <details open>
        <summary className="small">Licence (please read)</summary>
        <pre className="models-licence__text" tabIndex={0}>
          {preview.licence}
        </pre>
      </details>
      {children}
    </div>
  );
}

/** Test sets need an explicit "yes, I know" before they load. */
function useTestOnlyGate(preview: ManifestPreview | undefined) {
  const [ack, setAck] = useState(false);
  useEffect(() => setAck(false), [preview]);
  const gate = preview?.testOnly ? (
    <label className="switch small" data-testid="models-test-ack">
      <input type="checkbox" checked={ack} onChange={(e) => setAck(e.currentTarget.checked)} />I understand this is a test model with random
      weights: its results are noise.
    </label>
  ) : null;
  return { allowed: !preview?.testOnly || ack, gate };
}

async function loadAndFlag(source: ModelSource, onDone: () => void) {
  // the loaded info says whether the set is a test set (its manifest's testOnly)
  const ok = await loadModelSet(source);
  if (ok) void requestPersistentStorage();
  onDone();
}

function FromUrl({ onLoaded }: { onLoaded: () => void }) {
  const id = useId();
  const [text, setText] = useState('');
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [preview, setPreview] = useState<{ url: string; p: ManifestPreview }>();
  const busy = useAppStore((s) => s.modelStatus === 'loading');
  const { allowed, gate } = useTestOnlyGate(preview?.p);

  const check = async () => {
    setPreview(undefined);
    const { url, error } = checkManifestUrl(text, window.location.href);
    if (!url) {
      setProblem(error);
      return;
    }
    setProblem(undefined);
    setChecking(true);
    try {
      // the worker fetches and checks the manifest (the same parser that loads the set)
      setPreview({ url, p: await engine.previewManifest({ kind: 'url', manifestUrl: url }) });
    } catch (e) {
      setProblem(
        `Could not read a model manifest at that address: ${errorText(e)}. Check the address, and that the server allows cross-origin requests (CORS).`,
      );
    } finally {
      setChecking(false);
    }
  };

  return (
    <div className="models-source-form">
      <form
        className="models-url"
        onSubmit={(e) => {
          e.preventDefault();
          void check();
        }}
      >
        <label htmlFor={id}>Manifest address</label>
        <div className="models-url__row">
          <input
            id={id}
            type="url"
            inputMode="url"
            placeholder="https://…/manifest.json"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            data-testid="models-url-input"
          />
          <button type="submit" className="button button--small" disabled={checking || busy} data-testid="models-url-check">
            {checking ? 'Checking…' : 'Check'}
          </button>
        </div>
      </form>
      {problem && (
        <p className="notice notice--error small" role="alert" data-testid="models-url-error">
          {problem}
        </p>
      )}
      {preview && (
        <Preview preview={preview.p}>
          {gate}
          <button
            type="button"
            className="button button--primary"
            disabled={busy || !allowed}
            onClick={() => void loadAndFlag({ kind: 'url', manifestUrl: preview.url }, onLoaded)}
            data-testid="models-url-load"
          >
            {preview.p.testOnly ? 'Load the test model' : 'Download and use this set'}
          </button>
        </Preview>
      )}
    </div>
  );
}

function FromFiles({ onLoaded }: { onLoaded: () => void }) {
  const id = useId();
  const [files, setFiles] = useState<File[]>([]);
  const [preview, setPreview] = useState<ManifestPreview>();
  const [problem, setProblem] = useState<string>();
  const busy = useAppStore((s) => s.modelStatus === 'loading');
  const { allowed, gate } = useTestOnlyGate(preview);
  const match = matchPickedFiles(
    files.map((f) => f.name),
    preview,
  );

  const pick = async (list: File[]) => {
    setFiles(list);
    setPreview(undefined);
    setProblem(undefined);
    const manifest = findManifestFile(list);
    if (!manifest) {
      setProblem('Include the set’s manifest.json along with its .onnx files.');
      return;
    }
    try {
      setPreview(await engine.previewManifest({ kind: 'text', text: await manifest.text(), name: manifest.name }));
    } catch (e) {
      setProblem(`${manifest.name} is not a valid model manifest: ${errorText(e)}`);
    }
  };

  const load = async () => {
    const data = await Promise.all(files.map(async (f) => ({ name: f.name, data: await f.arrayBuffer() })));
    await loadAndFlag({ kind: 'files', files: data }, onLoaded);
  };

  return (
    <div className="models-source-form">
      <label htmlFor={id}>Choose the manifest.json and the .onnx files (select them together)</label>
      <input
        id={id}
        type="file"
        multiple
        accept=".json,.onnx,application/json"
        onChange={(e) => void pick([...(e.currentTarget.files ?? [])])}
        data-testid="models-files-input"
      />
      {problem && (
        <p className="notice notice--error small" role="alert" data-testid="models-files-error">
          {problem}
        </p>
      )}
      {preview && (
        <Preview preview={preview}>
          {match.missingRequired.length > 0 && (
            <p className="notice notice--error small" data-testid="models-files-missing">
              Missing: {match.missingRequired.join(', ')}. Select these files too.
            </p>
          )}
          {match.missingOptional.length > 0 && match.missingRequired.length === 0 && (
            <p className="small muted">Half-precision files not selected ({match.missingOptional.join(', ')}): full precision is used.</p>
          )}
          {gate}
          <button
            type="button"
            className="button button--primary"
            disabled={busy || !allowed || match.missingRequired.length > 0}
            onClick={() => void load()}
            data-testid="models-files-load"
          >
            {preview.testOnly ? 'Load the test model' : 'Use these files'}
          </button>
        </Preview>
      )}
    </div>
  );
}

function CacheSection({ version, onSets }: { version: number; onSets: (sets: CachedSet[]) => void }) {
  const [cache, setCache] = useState<ModelCacheInfo>();
  const [message, setMessage] = useState<string>();
  const [confirmAll, setConfirmAll] = useState(false);

  // the worker reads and clears Cache Storage (where the loader keeps the models)
  const refresh = useCallback(async () => {
    try {
      const info = await engine.modelCache();
      setCache(info);
      onSets(info.sets);
    } catch (e) {
      setMessage(`Could not read the model cache: ${errorText(e)}`);
    }
  }, [onSets]);
  useEffect(() => {
    void refresh();
  }, [refresh, version]);

  const clear = async (set?: string) => {
    try {
      const n = await engine.clearModelCache(set);
      setMessage(
        `Removed ${n} cached file${n === 1 ? '' : 's'}${set ? ` of “${set}”` : ''}. A loaded model keeps working until you reload the page.`,
      );
      useAppStore.getState().announce('Model cache cleared.');
    } catch (e) {
      setMessage(`Could not clear the cache: ${errorText(e)}`);
    }
    setConfirmAll(false);
    await refresh();
  };

  if (cache && !cache.available) return <p className="small muted">{cache.warning}</p>;
  const sets = cache?.sets;
  const storage = cache?.storage;
  const total = sets?.reduce((a, s) => a + s.bytes, 0) ?? 0;
  return (
    <div className="models-cache" data-testid="models-cache">
      {sets === undefined ? (
        <p className="small muted">Reading the cache…</p>
      ) : sets.length === 0 ? (
        <p className="small muted" data-testid="models-cache-empty">
          No models are stored on this device.
        </p>
      ) : (
        <>
          <p className="small">
            {formatBytes(total)} of models stored on this device, so they load offline.
            {storage && storage.quota > 0 && ` This site uses ${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} available.`}
            {storage && !storage.persisted && ' The browser may remove them if space runs low.'}
          </p>
          <ul className="models-cache__list">
            {sets.map((s) => (
              <li key={s.set} data-testid="models-cache-set">
                <span>
                  <strong>{s.set}</strong>
                  {s.setVersion && <span className="muted"> {s.setVersion}</span>} · {s.files} file{s.files === 1 ? '' : 's'} ·{' '}
                  {formatBytes(s.bytes)}
                  {s.storedAt > 0 && <span className="muted"> · {new Date(s.storedAt).toLocaleDateString()}</span>}
                </span>
                <button
                  type="button"
                  className="button button--small"
                  onClick={() => void clear(s.set)}
                  aria-label={`Remove ${s.set} from this device`}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
          {confirmAll ? (
            <div className="models-cache__confirm" role="group" aria-label="Confirm clearing the cache">
              <span className="small">Delete all {formatBytes(total)}? They will be downloaded again when needed.</span>
              <button type="button" className="button button--small" onClick={() => void clear()} data-testid="models-cache-clear-confirm">
                Yes, delete
              </button>
              <button type="button" className="button button--small button--quiet" onClick={() => setConfirmAll(false)}>
                Keep them
              </button>
            </div>
          ) : (
            <button type="button" className="button button--small" onClick={() => setConfirmAll(true)} data-testid="models-cache-clear">
              Clear all cached models…
            </button>
          )}
        </>
      )}
      {message && (
        <p className="small" role="status" data-testid="models-cache-message">
          {message}
        </p>
      )}
    </div>
  );
}

/** Which model set is loaded (with its licence), where to get the official one, and the cache. */
export function ModelsPanel() {
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  const status = useAppStore((s) => s.modelStatus);
  const modelName = useAppStore((s) => s.modelInfo?.name);
  const [cachedSets, setCachedSets] = useState<CachedSet[]>([]);
  useEffect(() => {
    if (status === 'ready') bump();
  }, [status]);
  return (
    <div className="models-panel" data-testid="models-panel">
      <LoadedSet stored={cachedSets.find((c) => c.set === modelName)} />
      <details className="models-section" open={status === 'error' || status === 'idle'}>
        <summary>Load the official PGDiff models (or another set)</summary>
        <p className="small muted">
          Model sets converted with the project’s <code>tools/convert</code> consist of a <code>manifest.json</code> and <code>.onnx</code>{' '}
          files. Use a web address (https) where they are published, or files on this device. Nothing about your photos is sent anywhere.
        </p>
        <h4>From a web address</h4>
        <FromUrl onLoaded={bump} />
        <h4>From files on this device</h4>
        <FromFiles onLoaded={bump} />
        <button
          type="button"
          className="button button--small button--quiet"
          onClick={() => void loadModelSet({ kind: 'bundled' }).then(bump)}
          data-testid="models-load-bundled"
        >
          Load the set that comes with the app
        </button>
      </details>
      <details className="models-section">
        <summary>Stored models</summary>
        <CacheSection version={version} onSets={setCachedSets} />
      </details>
    </div>
  );
}
