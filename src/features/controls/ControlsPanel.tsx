import { useId } from 'react';
import type { TaskName } from '../../../workers/api';
import { COLOR_STYLES, IDENTITY_COSINE_WEIGHT } from '../../../workers/shared/presets';
import { useAppStore } from '../../store';
import type { StyleChoice } from '../../store/controlsSlice';
import { MAX_VARIANTS } from '../../store/controlsSlice';
import { LabelledSlider } from './LabelledSlider';
import { StyleSwatch } from './StyleSwatch';
import {
  PROPERTIES,
  SCALE_POSITIONS,
  STEP_CHOICES,
  TASKS,
  defaultWeightFor,
  weightRange,
  estimatePriorCalls,
  formatScale,
  positionToScale,
  recommendedUpdate,
  scaleAdvice,
  UPDATE_LABELS,
  scaleToPosition,
} from './controls-model';
import './controls.css';

function TaskPicker() {
  const task = useAppStore((s) => s.guidance.task);
  const setTask = useAppStore((s) => s.setTask);
  const hasSetDefaults = useAppStore((s) => task !== 'custom' && !!s.modelInfo?.defaults?.[task]);
  const paperValues = useAppStore((s) => s.paperValues);
  const setPaperValues = useAppStore((s) => s.setPaperValues);
  const name = useId();
  return (
    <fieldset className="task-picker" data-testid="task-picker">
      <legend>What should the restoration do?</legend>
      <div className="task-picker__grid">
        {TASKS.map((t) => (
          <label key={t.task} className="task-option" data-testid={`task-${t.task}`}>
            <input type="radio" name={name} value={t.task} checked={task === t.task} onChange={() => setTask(t.task as TaskName)} />
            <span className="task-option__text">
              <span className="task-option__label">{t.label}</span>
              <span className="task-option__blurb small muted">{t.blurb}</span>
            </span>
          </label>
        ))}
      </div>
      {hasSetDefaults && (
        <label className="switch small">
          <input
            type="checkbox"
            checked={paperValues}
            onChange={(e) => setPaperValues(e.currentTarget.checked)}
            data-testid="paper-values"
          />
          Use the paper's settings instead of the ones chosen for this model set
        </label>
      )}
    </fieldset>
  );
}

function ScaleSlider() {
  const scale = useAppStore((s) => s.guidance.scale);
  const guidance = useAppStore((s) => s.guidance);
  const setScale = useAppStore((s) => s.setScale);
  const setDefaults = useAppStore((s) => s.modelInfo?.defaults);
  const paperValues = useAppStore((s) => s.paperValues);
  const advice = scaleAdvice(guidance, paperValues ? undefined : setDefaults);
  const range = advice.min === advice.max ? formatScale(advice.min) : `${formatScale(advice.min)} to ${formatScale(advice.max)}`;
  const outside = scale < advice.min * 0.999 || scale > advice.max * 1.001;
  return (
    <LabelledSlider
      testId="scale"
      label="Guidance strength (scale s)"
      value={scale}
      min={0}
      max={1}
      numberMax={1000}
      step={0.0001}
      positions={{ min: 0, max: SCALE_POSITIONS, step: 1 }}
      toPosition={scaleToPosition}
      fromPosition={positionToScale}
      format={formatScale}
      defaultValue={advice.default}
      onChange={setScale}
      hint={
        <>
          Advised for {advice.basis}: <strong data-testid="scale-advice">{range}</strong>.{' '}
          {outside ? (
            <span className="warn-text" data-testid="scale-outside">
              Outside the advised range: expect {scale > advice.max ? 'over-sharpened or unnatural' : 'weak'} guidance.
            </span>
          ) : (
            'Higher follows the photo more closely; lower trusts the face prior more.'
          )}
        </>
      }
    />
  );
}

function Properties() {
  const task = useAppStore((s) => s.guidance.task);
  const weights = useAppStore((s) => s.guidance.weights);
  const setWeight = useAppStore((s) => s.setWeight);
  const refCount = useAppStore((s) => s.references.length);
  const hasMask = useAppStore((s) => s.maskImage !== undefined);
  const setDefaults = useAppStore((s) => (s.paperValues ? undefined : s.modelInfo?.defaults));
  return (
    <fieldset className="properties" data-testid="properties">
      <legend>Properties that guide the result</legend>
      <p className="small muted">
        {task === 'custom'
          ? 'Switch on any combination; each weight says how much that property counts.'
          : 'The task above switches these on with the reference weights. Switching one on or off makes a custom mix.'}
      </p>
      <ul className="properties__list">
        {PROPERTIES.map((p) => {
          const w = weights[p.key];
          const on = w !== undefined && w > 0;
          const def = defaultWeightFor(task, p.key, setDefaults);
          const range = weightRange(p.key, def);
          return (
            <li key={p.key} className={`property${on ? ' property--on' : ''}`} data-testid={`property-${p.key}`}>
              <label className="property__toggle">
                <input
                  type="checkbox"
                  checked={on}
                  onChange={(e) => setWeight(p.key, e.currentTarget.checked ? def : undefined)}
                  data-testid={`property-${p.key}-toggle`}
                />
                <span>
                  <span className="property__label">{p.label}</span>
                  <span className="small muted property__help">{p.help}</span>
                </span>
              </label>
              {on && (
                <LabelledSlider
                  testId={`weight-${p.key}`}
                  label={`${p.label} weight`}
                  value={w}
                  min={0}
                  max={range.max}
                  step={range.step}
                  defaultValue={def}
                  onChange={(v) => setWeight(p.key, v > 0 ? v : range.step)}
                />
              )}
              {on && p.key === 'identity' && refCount === 0 && (
                <p className="small warn-text" data-testid="identity-needs-refs">
                  Add at least one reference photo of the same person below, or this property does nothing.
                </p>
              )}
              {on && p.key === 'unmasked' && !hasMask && (
                <p className="small warn-text" data-testid="unmasked-needs-mask">
                  Paint the missing parts in the mask editor: without a mask every pixel counts as known.
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}

const STYLE_NAMES = ['Average (CelebA-HQ)', 'Warm', 'Dark', 'Muted'];

function ColorStylePicker() {
  const colorOn = useAppStore((s) => (s.guidance.weights.color ?? 0) > 0);
  const choice = useAppStore((s) => s.styleChoice);
  const setChoice = useAppStore((s) => s.setStyleChoice);
  const refStyle = useAppStore((s) => s.referenceStyle);
  const name = useId();
  if (!colorOn) return null;
  const options: { value: StyleChoice; label: string }[] = [
    ...COLOR_STYLES.map((_, i) => ({ value: i as StyleChoice, label: `Style ${i}: ${STYLE_NAMES[i] ?? ''}` })),
    { value: 'references', label: 'From my reference photos' },
  ];
  return (
    <fieldset className="style-picker" data-testid="style-picker">
      <legend>Colour style</legend>
      <div className="style-picker__row">
        {options.map((o) => {
          const style = o.value === 'references' ? refStyle : COLOR_STYLES[o.value];
          const disabled = o.value === 'references' && !refStyle;
          return (
            <label
              key={String(o.value)}
              className={`style-option${disabled ? ' style-option--disabled' : ''}`}
              data-testid={`style-${o.value}`}
              title={disabled ? 'Add reference photos first' : o.label}
            >
              <input type="radio" name={name} checked={choice === o.value} disabled={disabled} onChange={() => setChoice(o.value)} />
              {style ? <StyleSwatch style={style} /> : <span className="style-swatch style-swatch--empty" aria-hidden="true" />}
              <span className="small">{o.label}</span>
            </label>
          );
        })}
      </div>
      {choice === 'references' && !refStyle && <p className="small warn-text">No reference photos: style 0 is used until you add some.</p>}
    </fieldset>
  );
}

function SeedField() {
  const seed = useAppStore((s) => s.sampler.seed);
  const setSampler = useAppStore((s) => s.setSampler);
  const rollSeed = useAppStore((s) => s.rollSeed);
  const id = useId();
  return (
    <div className="inline-field" data-testid="seed">
      <label htmlFor={id}>Seed</label>
      <input
        id={id}
        type="number"
        min={0}
        max={2 ** 31 - 1}
        step={1}
        value={seed}
        className="seed-input"
        data-testid="seed-input"
        onChange={(e) => {
          const v = e.currentTarget.valueAsNumber;
          if (Number.isFinite(v)) setSampler({ seed: v });
        }}
      />
      <button type="button" className="button button--small" onClick={rollSeed} aria-label="New random seed" data-testid="seed-dice">
        <svg className="dice-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
          <rect x="3" y="3" width="18" height="18" rx="4" fill="none" stroke="currentColor" strokeWidth="2" />
          <circle cx="8" cy="8" r="1.6" fill="currentColor" />
          <circle cx="12" cy="12" r="1.6" fill="currentColor" />
          <circle cx="16" cy="16" r="1.6" fill="currentColor" />
        </svg>{' '}
        Random
      </button>
      <span className="small muted">Same seed and settings give the same result.</span>
    </div>
  );
}

function Sampling() {
  const sampler = useAppStore((s) => s.sampler);
  const variants = useAppStore((s) => s.variants);
  const setSampler = useAppStore((s) => s.setSampler);
  const setVariants = useAppStore((s) => s.setVariants);
  const stepsId = useId();
  const varId = useId();
  const steps = typeof sampler.steps === 'number' ? sampler.steps : Number(sampler.steps.slice(4));
  return (
    <div className="sampling" data-testid="sampling">
      <div className="inline-field">
        <label htmlFor={stepsId}>Steps</label>
        <select
          id={stepsId}
          value={STEP_CHOICES.includes(steps as (typeof STEP_CHOICES)[number]) ? steps : 'other'}
          data-testid="steps-select"
          onChange={(e) => {
            const v = Number(e.currentTarget.value);
            if (Number.isFinite(v)) setSampler({ steps: v });
          }}
        >
          {STEP_CHOICES.map((n) => (
            <option key={n} value={n}>
              {n}
              {n === 100 ? ' (reference default)' : n === 25 ? ' (fast preview)' : n === 1000 ? ' (full schedule, slow)' : ''}
            </option>
          ))}
          {!STEP_CHOICES.includes(steps as (typeof STEP_CHOICES)[number]) && <option value="other">{steps}</option>}
        </select>
        <span className="small muted">Fewer steps are faster; 100 is what the paper uses.</span>
      </div>
      <SeedField />
      <div className="inline-field">
        <label htmlFor={varId}>Variants</label>
        <input
          id={varId}
          type="number"
          min={1}
          max={MAX_VARIANTS}
          step={1}
          value={variants}
          data-testid="variants-input"
          onChange={(e) => {
            const v = e.currentTarget.valueAsNumber;
            if (Number.isFinite(v)) setVariants(v);
          }}
        />
        <span className="small muted">Each variant uses the next seed; pick the one you like.</span>
      </div>
    </div>
  );
}

function Advanced() {
  const g = useAppStore((s) => s.guidance);
  const sampler = useAppStore((s) => s.sampler);
  const setField = useAppStore((s) => s.setGuidanceField);
  const keepUnmasked = useAppStore((s) => s.keepUnmasked);
  const setKeepUnmasked = useAppStore((s) => s.setKeepUnmasked);
  const setSampler = useAppStore((s) => s.setSampler);
  const updateId = useId();
  const kindName = useId();
  const idLossId = useId();
  const calls = estimatePriorCalls(sampler.steps, g.gradSteps, g.sStart, g.sEnd, sampler.start ?? 1);
  const recommended = recommendedUpdate(g.weights);
  return (
    <details className="advanced" data-testid="advanced">
      <summary>Advanced settings</summary>
      <div className="advanced__body">
        <fieldset className="inline-fieldset">
          <legend>Sampler</legend>
          <label>
            <input
              type="radio"
              name={kindName}
              checked={sampler.kind === 'ddpm'}
              onChange={() => setSampler({ kind: 'ddpm' })}
              data-testid="sampler-ddpm"
            />{' '}
            DDPM
          </label>
          <label>
            <input
              type="radio"
              name={kindName}
              checked={sampler.kind === 'ddim'}
              onChange={() => setSampler({ kind: 'ddim', eta: sampler.eta ?? 0 })}
              data-testid="sampler-ddim"
            />{' '}
            DDIM
          </label>
        </fieldset>
        <LabelledSlider
          testId="start"
          label="Start from (noise level, 1 = pure noise)"
          value={sampler.start ?? 1}
          min={0.05}
          max={1}
          step={0.05}
          defaultValue={1}
          onChange={(v) => setSampler({ start: v })}
          hint="Below 1 the run starts from the restorer's estimate (or the photo) with that much noise added, and only the steps below it run: faster and closer to the photo. 1 is the paper's start."
        />
        {sampler.kind === 'ddim' && (
          <LabelledSlider
            testId="eta"
            label="DDIM eta (0 = deterministic)"
            value={sampler.eta ?? 0}
            min={0}
            max={1}
            step={0.05}
            defaultValue={0}
            onChange={(v) => setSampler({ eta: v })}
          />
        )}
        <LabelledSlider
          testId="grad-steps"
          label="Gradient steps per timestep (N)"
          value={g.gradSteps}
          min={1}
          max={10}
          step={1}
          defaultValue={1}
          onChange={(v) => setField('gradSteps', Math.max(1, Math.round(v)))}
          hint={`Repeats each step inside the window below. About ${calls} model calls per variant.`}
        />
        <LabelledSlider
          testId="s-start"
          label="Window start (S_start, fraction of the schedule)"
          value={g.sStart}
          min={0}
          max={1}
          step={0.05}
          defaultValue={1}
          onChange={(v) => setField('sStart', Math.max(v, g.sEnd))}
        />
        <LabelledSlider
          testId="s-end"
          label="Window end (S_end)"
          value={g.sEnd}
          min={0}
          max={1}
          step={0.05}
          defaultValue={0.7}
          onChange={(v) => setField('sEnd', Math.min(v, g.sStart))}
          hint="Extra gradient steps happen while the noise level is between S_end and S_start (1 = pure noise)."
        />
        <div className="inline-field">
          <label htmlFor={updateId}>Update rule</label>
          <select
            id={updateId}
            value={g.update}
            onChange={(e) => setField('update', e.currentTarget.value as typeof g.update)}
            data-testid="update-rule"
          >
            {(Object.keys(UPDATE_LABELS) as (keyof typeof UPDATE_LABELS)[]).map((k) => (
              <option key={k} value={k}>
                {UPDATE_LABELS[k]}
              </option>
            ))}
          </select>
          {recommended !== g.update && (
            <button
              type="button"
              className="button button--small"
              onClick={() => setField('update', recommended)}
              data-testid="update-recommended"
            >
              Use the recommended rule for these properties: {UPDATE_LABELS[recommended]}
            </button>
          )}
        </div>
        <label className="switch">
          <input
            type="checkbox"
            checked={g.zeroGradInMask}
            onChange={(e) => setField('zeroGradInMask', e.currentTarget.checked)}
            data-testid="zero-grad-in-mask"
          />
          Ignore the photo inside the mask (missing pixels do not guide)
        </label>
        <label className="switch">
          <input
            type="checkbox"
            checked={keepUnmasked ?? (g.weights.unmasked ?? 0) > 0}
            onChange={(e) => setKeepUnmasked(e.currentTarget.checked)}
            data-testid="keep-unmasked"
          />
          Keep my photo exactly as it is outside the mask (blended softly at the mask's edge)
        </label>
        {(g.weights.identity ?? 0) > 0 && (
          <div className="inline-field">
            <label htmlFor={idLossId}>Identity loss</label>
            <select
              id={idLossId}
              value={g.identityLoss ?? 'mse'}
              data-testid="identity-loss"
              onChange={(e) => setField('identityLoss', e.currentTarget.value as 'mse' | 'cosine')}
            >
              <option value="mse">Squared distance (paper weight 25)</option>
              <option value="cosine">Cosine (paper weight {IDENTITY_COSINE_WEIGHT})</option>
            </select>
          </div>
        )}
      </div>
    </details>
  );
}

/** Step 3 controls: the task, guidance strength, properties and their weights, sampling. */
export function ControlsPanel() {
  const resetGuidance = useAppStore((s) => s.resetGuidance);
  return (
    <div className="controls" data-testid="controls-panel">
      <TaskPicker />
      <ScaleSlider />
      <Properties />
      <ColorStylePicker />
      <div>
        <button type="button" className="button button--small" onClick={resetGuidance} data-testid="reset-guidance">
          Reset this task to the reference settings
        </button>
      </div>
      <Sampling />
      <Advanced />
    </div>
  );
}
