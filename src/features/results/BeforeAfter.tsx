import { useId, useRef, useState } from 'react';
import type { RgbaImage } from '../../../workers/api';
import { ImageCanvas } from '../../canvas/ImageCanvas';

/**
 * Before/after comparison: drag on the image, or use the slider (arrow keys, Home/End) under it.
 * The "before" image shows left of the divider.
 */
export function BeforeAfter({ before, after, label }: { before: RgbaImage; after: RgbaImage; label: string }) {
  const [pos, setPos] = useState(50);
  const frame = useRef<HTMLDivElement>(null);
  const id = useId();
  const fromPointer = (clientX: number) => {
    const r = frame.current?.getBoundingClientRect();
    if (!r || r.width === 0) return;
    setPos(Math.round(Math.min(100, Math.max(0, ((clientX - r.left) / r.width) * 100))));
  };
  return (
    <div className="compare" data-testid="compare">
      <div
        ref={frame}
        className="compare__frame"
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          fromPointer(e.clientX);
        }}
        onPointerMove={(e) => {
          if (e.currentTarget.hasPointerCapture(e.pointerId)) fromPointer(e.clientX);
        }}
      >
        <ImageCanvas image={after} label={`${label}: restored`} className="compare__image" testId="compare-after" />
        <div className="compare__before" style={{ clipPath: `inset(0 ${100 - pos}% 0 0)` }}>
          <ImageCanvas image={before} label={`${label}: before`} className="compare__image" testId="compare-before" />
        </div>
        <div className="compare__divider" style={{ left: `${pos}%` }} aria-hidden="true" />
        <span className="compare__tag compare__tag--left" aria-hidden="true">
          Before
        </span>
        <span className="compare__tag compare__tag--right" aria-hidden="true">
          After
        </span>
      </div>
      <label htmlFor={id} className="visually-hidden">
        Compare before and after (percent of the before image shown)
      </label>
      <input
        id={id}
        type="range"
        min={0}
        max={100}
        step={1}
        value={pos}
        onChange={(e) => setPos(Number(e.currentTarget.value))}
        className="compare__slider"
        aria-valuetext={`${pos}% before, ${100 - pos}% after`}
        data-testid="compare-slider"
      />
    </div>
  );
}
