import { useId, useRef, useState } from 'react';
import { useAppStore } from '../../store';
import { ErrorNotice } from '../errors/ErrorNotice';
import { loadPhotoFile, pickFile } from './upload-actions';
import { MAX_PIXELS, formatMegapixels } from './image-math';

/** Choose a photo: file picker, drag and drop, or paste (Ctrl+V anywhere, wired in bootstrap). */
export function UploadPanel() {
  const photoName = useAppStore((s) => s.photo?.name);
  const photoSize = useAppStore((s) => (s.photo ? `${s.photo.width} × ${s.photo.height}` : undefined));
  const loading = useAppStore((s) => s.photoLoading);
  const error = useAppStore((s) => s.photoError);
  const clearError = useAppStore((s) => s.clearPhotoError);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const hintId = useId();

  const onFiles = (files: FileList | null | undefined) => {
    const f = files ? pickFile(files) : undefined;
    if (f) void loadPhotoFile(f, f.name);
  };

  return (
    <section className="panel" aria-labelledby="upload-title" data-testid="upload-panel">
      <h2 id="upload-title" className="panel__title">
        <span className="step-number" aria-hidden="true">
          1
        </span>{' '}
        Your photo
      </h2>
      <div
        className={`dropzone${dragging ? ' dropzone--active' : ''}`}
        data-testid="drop-zone"
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={(e) => {
          if (e.currentTarget.contains(e.relatedTarget as Node | null)) return;
          setDragging(false);
        }}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          onFiles(e.dataTransfer.files);
        }}
      >
        <p className="dropzone__lead">
          {photoName ? (
            <>
              <strong data-testid="photo-name">{photoName}</strong>{' '}
              <span className="muted" data-testid="photo-size">
                {photoSize}
              </span>
            </>
          ) : (
            'Drop a photo here, paste it (Ctrl+V), or'
          )}
        </p>
        <button
          type="button"
          className="button button--primary"
          onClick={() => input.current?.click()}
          disabled={loading}
          aria-describedby={hintId}
          data-testid="choose-photo"
        >
          {loading ? 'Reading…' : photoName ? 'Choose another photo' : 'Choose photo'}
        </button>
        <input
          ref={input}
          type="file"
          accept="image/*"
          className="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
          data-testid="file-input"
          onChange={(e) => {
            onFiles(e.currentTarget.files);
            e.currentTarget.value = '';
          }}
        />
        <p id={hintId} className="muted small">
          JPEG, PNG, WebP or any image your browser opens, up to {formatMegapixels(MAX_PIXELS)}. It stays on this device: nothing is
          uploaded.
        </p>
      </div>
      {error && <ErrorNotice error={error} testId="photo-error" onDismiss={clearError} />}
    </section>
  );
}
