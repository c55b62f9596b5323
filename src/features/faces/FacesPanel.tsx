import { useMemo } from 'react';
import type { DetectedFace, RgbaImage } from '../../../workers/api';
import { useAppStore } from '../../store';
import { ImageCanvas } from '../../canvas/ImageCanvas';
import { drawToRgba } from '../../canvas/canvas';
import { ErrorNotice } from '../errors/ErrorNotice';
import { selectAllFaces, setAlreadyCropped, toggleFace, turnPhoto } from './faces-actions';

function faceThumb(photo: RgbaImage, face: DetectedFace, size = 96): RgbaImage {
  const pad = 0.25;
  const side = Math.max(face.box.width, face.box.height) * (1 + 2 * pad);
  const cx = face.box.x + face.box.width / 2;
  const cy = face.box.y + face.box.height / 2;
  return drawToRgba(photo, size, size, { x: cx - side / 2, y: cy - side / 2, width: side, height: side });
}

function PhotoWithBoxes() {
  const working = useAppStore((s) => s.photo?.working);
  const name = useAppStore((s) => s.photo?.name);
  const faces = useAppStore((s) => s.faces);
  const selected = useAppStore((s) => s.selectedFaces);
  if (!working) return null;
  return (
    <figure className="photo-view" data-testid="photo-view">
      <div className="photo-view__frame" style={{ aspectRatio: `${working.width} / ${working.height}` }}>
        <ImageCanvas image={working} label={`The photo ${name ?? ''}`} className="photo-view__image" testId="photo-canvas" />
        <svg className="photo-view__boxes" viewBox={`0 0 ${working.width} ${working.height}`} preserveAspectRatio="none" aria-hidden="true">
          {faces.map((f, i) => (
            <g key={i} className={selected.includes(i) ? 'face-box face-box--selected' : 'face-box'}>
              <rect x={f.box.x} y={f.box.y} width={f.box.width} height={f.box.height} vectorEffect="non-scaling-stroke" />
              <text x={f.box.x + 4} y={f.box.y - 6} fontSize={Math.max(14, working.width / 50)}>
                {i + 1}
              </text>
            </g>
          ))}
        </svg>
      </div>
    </figure>
  );
}

function FacePicker() {
  const working = useAppStore((s) => s.photo?.working);
  const faces = useAppStore((s) => s.faces);
  const selected = useAppStore((s) => s.selectedFaces);
  const busy = useAppStore((s) => s.faceStatus === 'detecting' || s.faceStatus === 'aligning');
  const thumbs = useMemo(() => (working ? faces.map((f) => faceThumb(working, f)) : []), [working, faces]);
  if (faces.length === 0) return null;
  return (
    <fieldset className="face-picker" data-testid="face-picker">
      <legend>
        {faces.length === 1 ? 'One face found' : `${faces.length} faces found (numbered left to right): pick the ones to restore`}
      </legend>
      {faces.length > 1 && (
        <div className="button-row">
          <button
            type="button"
            className="button button--small"
            disabled={busy || selected.length === faces.length}
            onClick={() => void selectAllFaces(true)}
            data-testid="faces-select-all"
          >
            Select all
          </button>
          <button
            type="button"
            className="button button--small"
            disabled={busy || selected.length === 0}
            onClick={() => void selectAllFaces(false)}
            data-testid="faces-select-none"
          >
            Select none
          </button>
        </div>
      )}
      <ul className="thumb-row">
        {thumbs.map((t, i) => (
          <li key={i}>
            <button
              type="button"
              className="face-thumb"
              aria-pressed={selected.includes(i)}
              disabled={busy}
              onClick={() => void toggleFace(i)}
              data-testid={`face-thumb-${i}`}
            >
              <ImageCanvas image={t} label={`Face ${i + 1}`} className="face-thumb__image" />
              <span className="face-thumb__label">
                Face {i + 1} {selected.includes(i) ? '✓' : ''}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

function AlignedCrops() {
  const crops = useAppStore((s) => s.crops);
  const active = useAppStore((s) => s.activeCropKey);
  const setActive = useAppStore((s) => s.setActiveCrop);
  if (crops.length === 0) return null;
  return (
    <div className="aligned" data-testid="aligned-crops">
      <p className="muted small">
        {crops.length === 1 ? 'This is what the model will restore:' : 'Aligned faces. The mask you paint applies to the highlighted one:'}
      </p>
      <ul className="thumb-row">
        {crops.map((c, i) => (
          <li key={c.key}>
            <button
              type="button"
              className="face-thumb"
              aria-pressed={c.key === (active ?? crops[0]?.key)}
              aria-label={`Aligned face ${i + 1}${c.key === active ? ' (active)' : ''}`}
              onClick={() => setActive(c.key)}
              data-testid={`aligned-crop-${i}`}
            >
              <ImageCanvas image={c.aligned.crop} label={`Aligned face ${i + 1}`} className="face-thumb__image" />
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function FacesPanel() {
  const hasPhoto = useAppStore((s) => s.photo !== undefined);
  const square = useAppStore((s) => !s.photo || Math.abs(s.photo.width - s.photo.height) <= 2);
  const alreadyCropped = useAppStore((s) => s.alreadyCropped);
  const autoAligned = useAppStore((s) => s.autoAligned);
  const status = useAppStore((s) => s.faceStatus);
  const error = useAppStore((s) => s.faceError);
  const turns = useAppStore((s) => s.quarterTurns);
  const busy = status === 'detecting' || status === 'aligning';
  return (
    <section className="panel" aria-labelledby="faces-title" data-testid="faces-panel">
      <h2 id="faces-title" className="panel__title">
        <span className="step-number" aria-hidden="true">
          2
        </span>{' '}
        Faces
      </h2>
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={alreadyCropped}
          onChange={(e) => void setAlreadyCropped(e.currentTarget.checked)}
          data-testid="already-cropped"
        />
        <span>My photo is already a cropped face</span>
      </label>
      {alreadyCropped && autoAligned && hasPhoto && (
        <p className="notice notice--info small" role="status" data-testid="aligned-note">
          This photo already is a face aligned as the model expects (its eyes, nose and mouth lie within{' '}
          {(autoAligned.distance * 100).toFixed(1)}% of the model&apos;s template), so it is used as it is, not cropped again.{' '}
          <button type="button" className="button button--small" onClick={() => void setAlreadyCropped(false)} data-testid="aligned-undo">
            Detect and crop the face instead
          </button>
        </p>
      )}
      {alreadyCropped && hasPhoto && !square && (
        <p className="muted small" data-testid="centre-square-note">
          The photo is not square: its centre square is used as the face.
        </p>
      )}
      {!hasPhoto && <p className="muted">Choose a photo first.</p>}
      {hasPhoto && <PhotoWithBoxes />}
      <p className="status-line" aria-live="polite" data-testid="faces-status">
        {status === 'detecting' ? 'Looking for faces…' : status === 'aligning' ? 'Aligning…' : ''}
      </p>
      {hasPhoto && !alreadyCropped && (
        <p className="small">
          <button type="button" className="button button--small" disabled={busy} onClick={() => void turnPhoto()} data-testid="turn-photo">
            Photo sideways or upside down? Turn it ↻
          </button>{' '}
          {turns > 0 && (
            <span className="muted" data-testid="turns">
              faces looked for with the photo turned {turns * 90}° clockwise
            </span>
          )}
        </p>
      )}
      {!alreadyCropped && <FacePicker />}
      <AlignedCrops />
      {error && (
        <ErrorNotice error={error} testId="faces-error">
          {error.code === 'no-face' && !alreadyCropped && (
            <>
              <button type="button" className="button" onClick={() => void setAlreadyCropped(true)} data-testid="use-as-cropped">
                Use the whole photo as the face
              </button>{' '}
              <button type="button" className="button" onClick={() => void turnPhoto()} data-testid="turn-photo-retry">
                Turn the photo and look again
              </button>
            </>
          )}
        </ErrorNotice>
      )}
    </section>
  );
}
