import { useEffect, useId, useRef, useState } from 'react';
import type { RgbaImage } from '../../../workers/api';
import { useAppStore } from '../../store';
import { paintCanvas } from '../../canvas/canvas';
import { StyleSwatch } from '../controls/StyleSwatch';
import { MAX_REFERENCES, addReferenceFiles } from './reference-actions';
import './references.css';

function Thumb({ image, label }: { image: RgbaImage; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) paintCanvas(ref.current, image);
  }, [image]);
  return <canvas ref={ref} className="reference-thumb__image" role="img" aria-label={label} />;
}

/** Identity reference photos (pick or drop; aligned like the input) and the style they give. */
export function ReferencesPanel() {
  const refs = useAppStore((s) => s.references);
  const busy = useAppStore((s) => s.referencesBusy);
  const error = useAppStore((s) => s.referencesError);
  const style = useAppStore((s) => s.referenceStyle);
  const identityOn = useAppStore((s) => (s.guidance.weights.identity ?? 0) > 0);
  const remove = useAppStore((s) => s.removeReference);
  const inputId = useId();
  const [over, setOver] = useState(false);
  const full = refs.length >= MAX_REFERENCES;

  return (
    <div className="references" data-testid="references-panel">
      <p className="small muted">
        Good, sharp photos of the same person help “Restore with reference photos” keep who they are. Their colours can also serve as the
        colour style. {identityOn ? '' : 'The current task does not use identity.'}
      </p>
      <div
        className={`dropzone references__drop${over ? ' dropzone--active' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void addReferenceFiles([...e.dataTransfer.files]);
        }}
        data-testid="references-drop"
      >
        <label htmlFor={inputId} className={`button button--small${busy || full ? ' button--disabled' : ''}`}>
          {busy ? 'Finding the faces…' : 'Add reference photos'}
        </label>
        <input
          id={inputId}
          className="visually-hidden"
          type="file"
          accept="image/*"
          multiple
          disabled={busy || full}
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = '';
            void addReferenceFiles(files);
          }}
          data-testid="references-input"
        />
        <span className="small muted">or drop them here · up to {MAX_REFERENCES}</span>
      </div>
      {error && (
        <p className="notice notice--info small" role="status" data-testid="references-error">
          {error}
        </p>
      )}
      {refs.length > 0 && (
        <ul className="reference-list" data-testid="references-list">
          {refs.map((r, i) => (
            <li key={r.id} className="reference-thumb" data-testid="reference-item">
              <Thumb image={r.crop} label={`Reference ${i + 1}: ${r.name}`} />
              <span className="reference-thumb__name small" title={r.name}>
                {r.name}
              </span>
              <button
                type="button"
                className="button button--small button--quiet"
                onClick={() => remove(r.id)}
                aria-label={`Remove reference ${r.name}`}
                data-testid="reference-remove"
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {style && (
        <div className="references__style" data-testid="references-style">
          <StyleSwatch style={style} />
          <span className="small">Colour style from these photos (choose “From my reference photos” under Colour style).</span>
        </div>
      )}
    </div>
  );
}
