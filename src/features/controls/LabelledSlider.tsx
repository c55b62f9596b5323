import { useId, useState } from 'react';

export interface LabelledSliderProps {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  onChange: (v: number) => void;
  /** the reference default; shows a reset button when the value differs */
  defaultValue?: number;
  hint?: React.ReactNode;
  /** map between slider positions and values (log scales); identity when absent */
  toPosition?: (v: number) => number;
  fromPosition?: (p: number) => number;
  /** slider position range when a mapping is used */
  positions?: { min: number; max: number; step: number };
  format?: (v: number) => string;
  disabled?: boolean;
  testId: string;
  /** the number field accepts values up to this (beyond the slider's max); larger ones are refused with a message */
  numberMax?: number;
}

/**
 * A native range input (keyboard: arrows, PageUp/PageDown, Home/End) with a visible label, a number
 * field for exact values, the current value as aria-valuetext, a hint and a reset to the default.
 */
export function LabelledSlider(p: LabelledSliderProps) {
  const id = useId();
  const fmt = p.format ?? ((v: number) => String(Number(v.toPrecision(4))));
  const pos = p.toPosition ? p.toPosition(p.value) : p.value;
  const range = p.positions ?? { min: p.min, max: p.max, step: p.step };
  const isDefault = p.defaultValue === undefined || Math.abs(p.value - p.defaultValue) <= Math.abs(p.defaultValue) * 1e-6;
  const numberMax = p.numberMax ?? p.max;
  const [refused, setRefused] = useState<string | undefined>();
  return (
    <div className="slider-field" data-testid={p.testId}>
      <div className="slider-field__head">
        <label htmlFor={`${id}-range`} className="slider-field__label">
          {p.label}
        </label>
        <input
          className="slider-field__number"
          type="number"
          aria-label={`${p.label} (exact value)`}
          min={p.min}
          max={numberMax}
          step="any"
          value={fmt(p.value)}
          disabled={p.disabled}
          aria-invalid={refused ? true : undefined}
          data-testid={`${p.testId}-number`}
          onChange={(e) => {
            const v = e.currentTarget.valueAsNumber;
            if (!Number.isFinite(v)) return;
            // never a silent clamp: out-of-range values are refused with the allowed range named
            if (v < p.min || v > numberMax) {
              setRefused(`${fmt(v)} is outside the allowed range ${fmt(p.min)} to ${fmt(numberMax)}; kept ${fmt(p.value)}.`);
              return;
            }
            setRefused(undefined);
            p.onChange(v);
          }}
        />
        {p.defaultValue !== undefined && (
          <button
            type="button"
            className="button button--small button--quiet"
            disabled={p.disabled || isDefault}
            onClick={() => p.onChange(p.defaultValue as number)}
            aria-label={`Reset ${p.label} to ${fmt(p.defaultValue)}`}
            data-testid={`${p.testId}-reset`}
          >
            Reset
          </button>
        )}
      </div>
      <input
        id={`${id}-range`}
        className="slider-field__range"
        type="range"
        min={range.min}
        max={range.max}
        step={range.step}
        value={pos}
        disabled={p.disabled}
        aria-valuetext={fmt(p.value)}
        aria-describedby={p.hint ? `${id}-hint` : undefined}
        data-testid={`${p.testId}-range`}
        onChange={(e) => {
          const raw = Number(e.currentTarget.value);
          p.onChange(p.fromPosition ? p.fromPosition(raw) : raw);
        }}
      />
      {refused && (
        <p className="slider-field__hint small warn-text" role="alert" data-testid={`${p.testId}-refused`}>
          {refused}
        </p>
      )}
      {p.value > p.max && (
        <p className="slider-field__hint small muted" data-testid={`${p.testId}-beyond`}>
          {fmt(p.value)} is beyond the slider's range (up to {fmt(p.max)}); typed values up to {fmt(numberMax)} are used as they are.
        </p>
      )}
      {p.hint && (
        <p id={`${id}-hint`} className="slider-field__hint small muted">
          {p.hint}
        </p>
      )}
    </div>
  );
}
