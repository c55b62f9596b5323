import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store';
import { selectRequestSettings } from '../../store/controlsSlice';
import { ImageCanvas } from '../../canvas/ImageCanvas';
import { ErrorNotice } from '../errors/ErrorNotice';
import { cancelRun, runBlocker, startRun } from './run-actions';
import { aboutDuration, estimateRunMs, formatDuration, overallFraction, stepsPerVariant } from './run-math';
import { TASK_LABELS } from '../history/history-model';
import { estimatePriorCalls } from '../controls/controls-model';

function Progress() {
  const p = useAppStore((s) => s.runProgress);
  const status = useAppStore((s) => s.runStatus);
  const preview = useAppStore((s) => s.runPreview);
  if (status !== 'running' && status !== 'cancelling') return null;
  const fraction = p ? overallFraction(p) : 0;
  const pct = Math.round(fraction * 100);
  return (
    <div className="run-progress" data-testid="run-progress">
      <div className="run-progress__bar">
        <progress
          max={100}
          value={p ? pct : undefined}
          aria-label="Restoration progress"
          aria-valuetext={p ? `${pct} percent` : 'Starting'}
          data-testid="progress-bar"
          data-step={p?.step ?? 0}
          data-total={p?.total ?? 0}
        />
        <span className="run-progress__pct">{p ? `${pct}%` : ''}</span>
      </div>
      <p className="run-progress__text" data-testid="progress-text">
        {status === 'cancelling'
          ? 'Stopping…'
          : p
            ? [
                `Step ${p.step} of ${p.total}`,
                p.variants > 1 ? `variant ${p.variant + 1} of ${p.variants}` : '',
                p.faces > 1 ? `face ${p.face + 1} of ${p.faces}` : '',
                p.step > 0 ? `${aboutDuration(p.etaMs)} left` : '',
              ]
                .filter(Boolean)
                .join(' · ')
            : 'Preparing the model… the first step takes longest.'}
      </p>
      {preview && (
        <figure className="run-preview">
          <ImageCanvas image={preview} label="Live preview of the restoration" className="run-preview__image" testId="run-preview" />
          <figcaption className="muted small">Live preview: the model’s current guess</figcaption>
        </figure>
      )}
    </div>
  );
}

function Estimate() {
  const ms = useAppStore((s) => s.measuredStepMs);
  const backend = useAppStore((s) => s.capabilities?.backend);
  const settings = useAppStore(selectRequestSettings);
  const faces = useAppStore((s) => Math.max(1, s.crops.length));
  const steps = stepsPerVariant(settings.sampler.steps);
  // the model calls a variant makes, as the engine counts them: a start below 1 (a set's defaults) runs only the
  // steps below it, extra gradient steps add calls; the measured time is per call
  const g = settings.guidance;
  const calls = estimatePriorCalls(settings.sampler.steps, g.gradSteps, g.sStart, g.sEnd, settings.sampler.start ?? 1);
  const work = `${steps} steps${calls !== steps ? ` (${calls} model calls)` : ''}${settings.variants > 1 ? ` × ${settings.variants} variants` : ''}${faces > 1 ? ` × ${faces} faces` : ''}`;
  if (ms === undefined) {
    return (
      <p className="muted small" data-testid="run-estimate">
        {work}. {backend === 'wasm' ? 'Running on the CPU (WASM) is slow; ' : ''}a time estimate appears once the first steps have run on
        this device.
      </p>
    );
  }
  return (
    <p className="muted small" data-testid="run-estimate">
      {work}: {aboutDuration(estimateRunMs(ms, calls, settings.variants, faces))} on this device (measured {formatDuration(ms)} per model
      call).
    </p>
  );
}

export function RunPanel() {
  const status = useAppStore((s) => s.runStatus);
  const error = useAppStore((s) => s.runError);
  const task = useAppStore((s) => s.guidance.task);
  const blocker = useAppStore(useShallow(runBlocker));
  const reasonId = useId();
  const running = status === 'running' || status === 'cancelling';
  return (
    <section className="panel" aria-labelledby="run-title" data-testid="run-panel">
      <h2 id="run-title" className="panel__title">
        <span className="step-number" aria-hidden="true">
          4
        </span>{' '}
        Restore
      </h2>
      <div className="run-actions">
        <button
          type="button"
          className="button button--primary button--large"
          onClick={() => void startRun()}
          disabled={running || blocker !== undefined}
          aria-describedby={blocker ? reasonId : undefined}
          data-testid="run-button"
        >
          {running ? 'Restoring…' : `Restore (${TASK_LABELS[task]})`}
        </button>
        {running && (
          <button type="button" className="button" onClick={cancelRun} disabled={status === 'cancelling'} data-testid="cancel-button">
            {status === 'cancelling' ? 'Stopping…' : 'Cancel'}
          </button>
        )}
      </div>
      {blocker && !running && (
        <p id={reasonId} className="notice notice--info" data-testid="run-blocker" data-reason={blocker.code}>
          {blocker.message} {blocker.hint}
        </p>
      )}
      {!running && !blocker && <Estimate />}
      <Progress />
      {status === 'cancelled' && (
        <p className="notice notice--info" role="status" data-testid="run-cancelled">
          Cancelled. Your photo, mask and earlier results are kept.
        </p>
      )}
      {status === 'error' && error && <ErrorNotice error={error} testId="run-error" />}
    </section>
  );
}
