import { useCallback, useEffect, useRef, useState } from 'react';
import type { RgbaImage } from '../../../workers/api';
import { useAppStore } from '../../store';
import { selectActiveCrop } from '../../store/facesSlice';
import { MAX_BRUSH, MIN_BRUSH } from '../../store/maskSlice';
import { makeCanvas, toImageData } from '../../canvas/canvas';
import { usesMask } from '../controls/controls-model';
import type { MaskBuffer, Rect, View } from './maskOps';
import { MaskHistory, clearMask, countMasked, createMask, invertMask, maskFromEngine, maskToRgba } from './maskOps';
import { addMarked, detectScratches, importMaskFile } from './mask-actions';
import { useMaskGestures } from './use-mask-gestures';
import './mask-editor.css';

/** The overlay layer: the mask's pixels in the overlay colour, on a canvas the size of the crop. */
type Overlay = {
  canvas: OffscreenCanvas | HTMLCanvasElement;
  ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
  img: ImageData;
};

/** Overlay colour of masked pixels (drawn with the chosen opacity). */
const OVERLAY: [number, number, number] = [255, 40, 90];

function overlayPixels(mask: MaskBuffer, out: ImageData, rect?: Rect): void {
  const x0 = rect?.x0 ?? 0;
  const y0 = rect?.y0 ?? 0;
  const x1 = rect?.x1 ?? mask.width - 1;
  const y1 = rect?.y1 ?? mask.height - 1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * mask.width + x;
      const on = mask.data[i] ? 255 : 0;
      out.data[i * 4] = OVERLAY[0];
      out.data[i * 4 + 1] = OVERLAY[1];
      out.data[i * 4 + 2] = OVERLAY[2];
      out.data[i * 4 + 3] = on;
    }
  }
}

/**
 * Paint what is missing or damaged on the aligned face (white = missing in the exported mask).
 * Brush/eraser/pan tools, undo/redo, clear, invert, overlay opacity, zoom and pan (wheel, pinch,
 * buttons, space-drag), import of a mask image and automatic scratch detection.
 */
export function MaskEditor() {
  const cropKey = useAppStore((s) => selectActiveCrop(s)?.key);
  const crop = useAppStore((s) => selectActiveCrop(s)?.aligned.crop);
  if (!cropKey || !crop) {
    return (
      <div className="mask-editor mask-editor--empty" data-testid="mask-editor" data-state="no-crop">
        <p className="muted">Choose a photo first: the mask is painted on the aligned face.</p>
      </div>
    );
  }
  return <MaskCanvas key={cropKey} cropKey={cropKey} crop={crop} />;
}

function MaskCanvas({ cropKey, crop }: { cropKey: string; crop: RgbaImage }) {
  const tool = useAppStore((s) => s.maskTool);
  const brush = useAppStore((s) => s.maskBrushSize);
  const opacity = useAppStore((s) => s.maskOverlayOpacity);
  const detecting = useAppStore((s) => s.maskDetecting);
  const error = useAppStore((s) => s.maskError);
  const taskUsesMask = useAppStore((s) => usesMask(s.guidance));
  const actions = useAppStore.getState;

  const canvasRef = useRef<HTMLCanvasElement>(null);
  const frameRef = useRef<HTMLDivElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const maskRef = useRef<MaskBuffer>(createMask(crop.width, crop.height));
  const historyRef = useRef(new MaskHistory(60));
  const overlayRef = useRef<Overlay | undefined>(undefined);
  const photoRef = useRef<OffscreenCanvas | HTMLCanvasElement | undefined>(undefined);
  const viewRef = useRef<View>({ zoom: 1, offsetX: 0, offsetY: 0 });
  const hoverRef = useRef<{ x: number; y: number } | undefined>(undefined);
  const spaceRef = useRef(false);
  const [, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);

  // --- drawing -------------------------------------------------------------------------------
  const draw = useCallback(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    const overlay = overlayRef.current;
    const photo = photoRef.current;
    if (!canvas || !ctx || !overlay || !photo) return;
    const dpr = window.devicePixelRatio || 1;
    const v = viewRef.current;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(v.zoom * dpr, 0, 0, v.zoom * dpr, v.offsetX * dpr, v.offsetY * dpr);
    ctx.imageSmoothingEnabled = v.zoom < 2;
    ctx.drawImage(photo, 0, 0);
    ctx.globalAlpha = useAppStore.getState().maskOverlayOpacity;
    ctx.drawImage(overlay.canvas, 0, 0);
    ctx.globalAlpha = 1;
    const hover = hoverRef.current;
    const st = useAppStore.getState();
    if (hover && st.maskTool !== 'pan' && !spaceRef.current) {
      ctx.beginPath();
      ctx.arc(hover.x, hover.y, st.maskBrushSize / 2, 0, Math.PI * 2);
      ctx.lineWidth = 1.5 / v.zoom;
      ctx.strokeStyle = st.maskTool === 'eraser' ? '#ffffff' : '#ff2860';
      ctx.stroke();
      ctx.setLineDash([3 / v.zoom, 3 / v.zoom]);
      ctx.strokeStyle = '#000000';
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }, []);

  const refreshOverlay = useCallback(
    (rect?: Rect) => {
      const o = overlayRef.current;
      if (!o) return;
      overlayPixels(maskRef.current, o.img, rect);
      if (rect) o.ctx.putImageData(o.img, 0, 0, rect.x0, rect.y0, rect.x1 - rect.x0 + 1, rect.y1 - rect.y0 + 1);
      else o.ctx.putImageData(o.img, 0, 0);
      draw();
    },
    [draw],
  );

  /** the mask image this editor last published or adopted: anything else in the store came from outside */
  const ownRef = useRef<RgbaImage | undefined>(undefined);

  /** Publish the mask to the store (undefined when nothing is marked). */
  const commit = useCallback(() => {
    const m = maskRef.current;
    const img = countMasked(m) ? maskToRgba(m) : undefined;
    ownRef.current = img;
    actions().setMaskImage(img, cropKey);
    bump();
  }, [actions, cropKey]);

  // set up the photo and overlay layers; adopt the stored mask when it belongs to this crop
  useEffect(() => {
    const p = makeCanvas(crop.width, crop.height);
    p.ctx.putImageData(toImageData(crop), 0, 0);
    photoRef.current = p.canvas;
    const o = makeCanvas(crop.width, crop.height);
    overlayRef.current = { canvas: o.canvas, ctx: o.ctx, img: new ImageData(crop.width, crop.height) };
    const st = useAppStore.getState();
    const stored = st.maskCropKey === cropKey ? st.maskImage : undefined;
    const fits = stored && stored.width === crop.width && stored.height === crop.height;
    maskRef.current = fits ? maskFromEngine(stored) : createMask(crop.width, crop.height);
    ownRef.current = fits ? stored : undefined;
    historyRef.current.reset();
    // a brush sized for 512 px crops would cover a small crop: keep it under a quarter of the width
    if (st.maskBrushSize > crop.width / 4) st.setMaskBrushSize(Math.max(1, Math.round(crop.width / 20)));
    refreshOverlay();
    bump();
  }, [crop, cropKey, refreshOverlay]);

  // adopt a mask set from outside for this crop (carried over when "already cropped" flips), undoable
  useEffect(
    () =>
      useAppStore.subscribe((s) => {
        const img = s.maskImage;
        if (s.maskCropKey !== cropKey || !img || img === ownRef.current || img.width !== crop.width || img.height !== crop.height) return;
        historyRef.current.record(maskRef.current);
        maskRef.current = maskFromEngine(img);
        ownRef.current = img;
        refreshOverlay();
        bump();
      }),
    [cropKey, crop, refreshOverlay],
  );

  // --- editing actions -------------------------------------------------------------------------
  const change = useCallback(
    (fn: (m: MaskBuffer) => MaskBuffer | void) => {
      historyRef.current.record(maskRef.current);
      const next = fn(maskRef.current);
      if (next) maskRef.current = next;
      refreshOverlay();
      commit();
    },
    [commit, refreshOverlay],
  );

  const undo = useCallback(() => {
    const m = historyRef.current.undo(maskRef.current);
    if (!m) return;
    maskRef.current = m;
    refreshOverlay();
    commit();
  }, [commit, refreshOverlay]);

  const redo = useCallback(() => {
    const m = historyRef.current.redo(maskRef.current);
    if (!m) return;
    maskRef.current = m;
    refreshOverlay();
    commit();
  }, [commit, refreshOverlay]);

  const { zoomPct, fit, zoomBy, keyHandlers, pointerHandlers } = useMaskGestures(
    { canvas: canvasRef, frame: frameRef, mask: maskRef, history: historyRef, view: viewRef, hover: hoverRef, space: spaceRef },
    { draw, refreshOverlay, commit, undo, redo },
    crop,
  );

  // redraw when the opacity changes
  useEffect(() => draw(), [opacity, draw]);

  const coverage = countMasked(maskRef.current) / maskRef.current.data.length;
  const h = historyRef.current;
  return (
    <div className="mask-editor" data-testid="mask-editor" data-state="ready" {...keyHandlers}>
      <p className="small muted">
        Paint over what is missing, scratched or damaged.{' '}
        {taskUsesMask ? 'The current task uses this mask.' : 'The current task ignores the mask (use “Fill missing parts” or “Old photo”).'}
      </p>
      <div className="mask-toolbar" role="toolbar" aria-label="Mask tools">
        <div className="mask-toolbar__group" role="group" aria-label="Tool">
          {(
            [
              ['brush', 'Brush', 'B'],
              ['eraser', 'Eraser', 'E'],
              ['pan', 'Move', 'H'],
            ] as const
          ).map(([t, label, key]) => (
            <button
              key={t}
              type="button"
              className="button button--small"
              aria-pressed={tool === t}
              aria-keyshortcuts={key}
              onClick={() => actions().setMaskTool(t)}
              data-testid={`mask-tool-${t}`}
            >
              {label}
            </button>
          ))}
        </div>
        <div className="mask-toolbar__group" role="group" aria-label="History">
          {/* aria-disabled (not disabled) keeps keyboard focus in the editor when the stack runs out */}
          <button
            type="button"
            className="button button--small"
            onClick={undo}
            aria-disabled={!h.canUndo}
            aria-keyshortcuts="Control+Z"
            data-testid="mask-undo"
          >
            Undo
          </button>
          <button
            type="button"
            className="button button--small"
            onClick={redo}
            aria-disabled={!h.canRedo}
            aria-keyshortcuts="Control+Shift+Z Control+Y"
            data-testid="mask-redo"
          >
            Redo
          </button>
          <button
            type="button"
            className="button button--small"
            onClick={() => coverage > 0 && change(clearMask)}
            aria-disabled={coverage === 0}
            data-testid="mask-clear"
          >
            Clear
          </button>
          <button type="button" className="button button--small" onClick={() => change(invertMask)} data-testid="mask-invert">
            Invert
          </button>
        </div>
        <div className="mask-toolbar__group" role="group" aria-label="Zoom">
          <button
            type="button"
            className="button button--small"
            onClick={() => zoomBy(0.8)}
            aria-label="Zoom out"
            aria-keyshortcuts="-"
            data-testid="mask-zoom-out"
          >
            −
          </button>
          <span className="small mask-zoom" aria-live="off" data-testid="mask-zoom">
            {zoomPct}%
          </span>
          <button
            type="button"
            className="button button--small"
            onClick={() => zoomBy(1.25)}
            aria-label="Zoom in"
            aria-keyshortcuts="+"
            data-testid="mask-zoom-in"
          >
            +
          </button>
          <button type="button" className="button button--small" onClick={fit} aria-keyshortcuts="0" data-testid="mask-zoom-fit">
            Fit
          </button>
        </div>
      </div>
      <div className="mask-sliders">
        <label className="mask-slider">
          <span>Brush size: {brush}px</span>
          <input
            type="range"
            min={MIN_BRUSH}
            max={Math.max(MIN_BRUSH + 1, Math.min(MAX_BRUSH, Math.round(crop.width / 2)))}
            value={brush}
            aria-keyshortcuts="[ ]"
            onChange={(e) => actions().setMaskBrushSize(Number(e.currentTarget.value))}
            data-testid="mask-brush-size"
          />
        </label>
        <label className="mask-slider">
          <span>Mask visibility: {Math.round(opacity * 100)}%</span>
          <input
            type="range"
            min={0}
            max={100}
            value={Math.round(opacity * 100)}
            onChange={(e) => actions().setMaskOverlayOpacity(Number(e.currentTarget.value) / 100)}
            data-testid="mask-opacity"
          />
        </label>
      </div>
      <div ref={frameRef} className={`mask-frame mask-frame--${tool}`}>
        <canvas
          ref={canvasRef}
          className="mask-canvas"
          tabIndex={0}
          role="img"
          aria-label={`Mask editor: ${(coverage * 100).toFixed(1)}% of the face is marked as missing. Drag to paint; Ctrl+Z undoes; hold space to move; wheel zooms once selected.`}
          data-testid="mask-canvas"
          data-coverage={coverage.toFixed(4)}
          {...pointerHandlers}
        />
      </div>
      <p className="small" data-testid="mask-coverage">
        {coverage > 0 ? `${(coverage * 100).toFixed(1)}% of the face is marked as missing.` : 'Nothing is marked yet.'}
      </p>
      <div className="mask-toolbar">
        <button
          type="button"
          className="button button--small"
          onClick={() => void detectScratches(crop, (found) => change((m) => addMarked(m, found)))}
          disabled={detecting}
          data-testid="mask-detect-scratches"
        >
          {detecting ? 'Looking for scratches…' : 'Detect scratches'}
        </button>
        <button type="button" className="button button--small" onClick={() => fileRef.current?.click()} data-testid="mask-import">
          Import a mask image…
        </button>
        <input
          ref={fileRef}
          type="file"
          accept="image/*"
          hidden
          data-testid="mask-import-input"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (f) void importMaskFile(f, crop, (m) => change(() => m));
          }}
        />
      </div>
      <p className="small muted">
        Detection finds thin bright scratches and is deliberately cautious: check the result and paint what it missed. Imported masks are
        resized to the face crop; white means missing.
      </p>
      {error && (
        <p className="notice notice--error small" role="alert" data-testid="mask-error">
          {error}
        </p>
      )}
    </div>
  );
}
