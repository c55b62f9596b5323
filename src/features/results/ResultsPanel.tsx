import { useEffect, useRef, useState } from 'react';
import { useAppStore } from '../../store';
import { ImageCanvas } from '../../canvas/ImageCanvas';
import { ErrorNotice } from '../errors/ErrorNotice';
import { toAppError } from '../errors/errors';
import type { AppError } from '../errors/errors';
import { describeSettings } from '../history/history-model';
import { formatDuration } from '../run/run-math';
import { BeforeAfter } from './BeforeAfter';
import type { ImageFormat } from '../../canvas/canvas';
import { defaultFormat, downloadAllFaces, downloadCrop, downloadFullPhoto, wholePhotoPair, type DownloadOptions } from './results-actions';
import type { RgbaImage, UpscaleMethod } from '../../../workers/api';

const FORMAT_LABELS: Record<ImageFormat, string> = { png: 'PNG (lossless)', jpeg: 'JPEG', webp: 'WebP' };

export function ResultsPanel() {
  const run = useAppStore((s) => s.currentRun);
  const [face, setFace] = useState(0);
  const [chosen, setChosen] = useState<number[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | undefined>();
  const photoType = useAppStore((s) => s.photo?.file.type);
  const [format, setFormat] = useState<ImageFormat | undefined>();
  const [quality, setQuality] = useState(0.92);
  const [upscaler, setUpscaler] = useState<UpscaleMethod>('esrgan');
  /** said when the super-resolution model did not load and bicubic was used */
  const [upscaleNote, setUpscaleNote] = useState<string | undefined>();
  const [view, setView] = useState<'face' | 'photo'>('face');
  const [pair, setPair] = useState<{ key: string; before: RgbaImage; after: RgbaImage } | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  const runId = run?.id;
  useEffect(() => {
    setFace(0);
    setChosen([]);
    setError(undefined);
    // bring a new result into view, unless the person is busy elsewhere on the page
    const active = document.activeElement;
    const idle = !active || active === document.body || active.closest('[data-testid="run-panel"], [data-testid="history-panel"]');
    if (runId && idle && heading.current) {
      heading.current.focus({ preventScroll: true });
      heading.current.scrollIntoView({ block: 'start', behavior: 'smooth' });
    }
  }, [runId]);
  const variantsKey = run ? `${run.id}:${run.faces.map((_, i) => chosen[i] ?? 0).join(',')}` : '';
  useEffect(() => {
    if (!run || view !== 'photo' || pair?.key === variantsKey) return;
    let live = true;
    wholePhotoPair(
      run,
      run.faces.map((_, i) => chosen[i] ?? 0),
    )
      .then((p) => live && setPair({ key: variantsKey, ...p }))
      .catch((e: unknown) => live && setError(toAppError(e)));
    return () => {
      live = false;
    };
    // run and chosen change together with variantsKey; pair's key stops the effect once the pair is made
  }, [run, chosen, pair?.key, view, variantsKey]);
  if (!run) return null;
  const f = run.faces[face] ?? run.faces[0];
  if (!f) return null;
  const variant = chosen[face] ?? 0;
  const output = f.outputs[variant] ?? f.outputs[0];
  if (!output) return null;
  const choose = (v: number) => {
    const next = [...chosen];
    next[face] = v;
    setChosen(next);
  };
  const opts: DownloadOptions = { format: format ?? defaultFormat(photoType), quality, upscaler };
  const ext = opts.format.toUpperCase();
  const variants = run.faces.map((_, i) => chosen[i] ?? 0);
  /** a download that composes images: the buttons wait, an error shows under them */
  const busyWhile = async (work: () => Promise<string | undefined>) => {
    setBusy(true);
    setError(undefined);
    try {
      setUpscaleNote(await work());
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };
  const one = () => busyWhile(() => downloadCrop(run, face, variant, opts));
  const all = () => busyWhile(() => downloadAllFaces(run, variants, opts));
  const full = () => busyWhile(() => downloadFullPhoto(run, variants, opts));
  return (
    <section className="panel panel--wide" aria-labelledby="results-title" data-testid="results-panel" data-run-id={run.id}>
      <h2 id="results-title" className="panel__title" ref={heading} tabIndex={-1}>
        Result
      </h2>
      <p className="muted small" data-testid="results-summary">
        {run.photoName} · {describeSettings(run.settings, run.steps)} · {formatDuration(run.totalMs)} on {run.backend.toUpperCase()} · model{' '}
        {run.modelName}
      </p>
      <div className="tabs" role="group" aria-label="Show">
        <button
          type="button"
          className="button button--quiet"
          aria-pressed={view === 'face'}
          onClick={() => setView('face')}
          data-testid="view-face"
        >
          {run.faces.length > 1 ? 'Faces' : 'Face'}
        </button>
        <button
          type="button"
          className="button button--quiet"
          aria-pressed={view === 'photo'}
          onClick={() => setView('photo')}
          data-testid="view-photo"
        >
          Whole photo
        </button>
      </div>
      {view === 'face' && run.faces.length > 1 && (
        <div className="tabs" role="group" aria-label="Faces">
          {run.faces.map((_, i) => (
            <button
              key={i}
              type="button"
              className="button button--quiet"
              aria-pressed={i === face}
              onClick={() => setFace(i)}
              data-testid={`result-face-${i}`}
            >
              Face {i + 1}
            </button>
          ))}
        </div>
      )}
      <div className="results-grid">
        {view === 'face' ? (
          <BeforeAfter before={f.input} after={output} label={`Face ${face + 1}`} />
        ) : pair?.key === variantsKey ? (
          <div data-testid="compare-photo" data-width={pair.after.width} data-height={pair.after.height}>
            <BeforeAfter before={pair.before} after={pair.after} label="The whole photo" />
          </div>
        ) : (
          <p className="muted" data-testid="compare-photo-busy">
            Putting the restored faces back into the photo…
          </p>
        )}
        <div className="results-side">
          {f.outputs.length > 1 && (
            <fieldset className="variants" data-testid="variants">
              <legend>Variants: pick the one you like</legend>
              <ul className="thumb-row">
                {f.outputs.map((o, v) => (
                  <li key={v}>
                    <button
                      type="button"
                      className="face-thumb"
                      aria-pressed={v === variant}
                      onClick={() => choose(v)}
                      data-testid={`variant-${v}`}
                    >
                      <ImageCanvas image={o} label={`Variant ${v + 1}`} className="face-thumb__image face-thumb__image--large" />
                      <span className="face-thumb__label">Variant {v + 1}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </fieldset>
          )}
          <div className="download-row">
            <label className="inline-field small">
              Format{' '}
              <select value={opts.format} onChange={(e) => setFormat(e.currentTarget.value as ImageFormat)} data-testid="download-format">
                {(Object.keys(FORMAT_LABELS) as ImageFormat[]).map((k) => (
                  <option key={k} value={k}>
                    {FORMAT_LABELS[k]}
                  </option>
                ))}
              </select>
            </label>
            {opts.format !== 'png' && (
              <label className="inline-field small">
                Quality{' '}
                <input
                  type="number"
                  min={10}
                  max={100}
                  step={1}
                  value={Math.round(quality * 100)}
                  onChange={(e) => {
                    const v = e.currentTarget.valueAsNumber;
                    if (Number.isFinite(v) && v >= 10 && v <= 100) setQuality(v / 100);
                  }}
                  data-testid="download-quality"
                />
              </label>
            )}
            <label
              className="inline-field small"
              title="Faces larger in the photo than the model's output are enlarged to their size there"
            >
              Enlarge faces with{' '}
              <select
                value={upscaler}
                onChange={(e) => setUpscaler(e.currentTarget.value as UpscaleMethod)}
                data-testid="download-upscaler"
              >
                <option value="esrgan">super-resolution (ESRGAN)</option>
                <option value="bicubic">bicubic</option>
              </select>
            </label>
          </div>
          <div className="download-row">
            <button type="button" className="button button--primary" onClick={() => void one()} disabled={busy} data-testid="download-crop">
              Download face ({ext})
            </button>
            {run.faces.length > 1 && (
              <button type="button" className="button" onClick={() => void all()} disabled={busy} data-testid="download-all-faces">
                Download all {run.faces.length} faces ({ext})
              </button>
            )}
            <button type="button" className="button" onClick={() => void full()} disabled={busy} data-testid="download-full">
              {busy ? 'Composing…' : `Download full photo (${ext})`}
            </button>
          </div>
          {upscaleNote && (
            <p className="muted small" role="status" data-testid="upscale-note">
              {upscaleNote}
            </p>
          )}
          {error && <ErrorNotice error={error} testId="results-error" onDismiss={() => setError(undefined)} />}
        </div>
      </div>
    </section>
  );
}
