/**
 * The mask editor's input: pointer painting and panning, two-finger pinch, wheel zoom, fitting the view to the frame,
 * and the keyboard shortcuts (B/E/H tools, [ ] brush size, + - 0 zoom, space-drag, Ctrl+Z/Ctrl+Shift+Z/Ctrl+Y).
 * The editor owns the mask, its undo history and the drawing; this hook moves the view and edits through them.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RefObject } from 'react';
import type React from 'react';
import { useAppStore } from '../../store';
import type { MaskBuffer, MaskHistory, Rect, View } from './maskOps';
import { fitView, historyShortcut, paintSegment, screenToImage, zoomAt } from './maskOps';

type Drag =
  | { kind: 'paint'; lastX: number; lastY: number; value: 0 | 1 }
  | { kind: 'pan'; startX: number; startY: number; view: View }
  | { kind: 'pinch'; dist: number; cx: number; cy: number; view: View };

type Point = { x: number; y: number };

/** The editor's state the gestures read and move (the same objects the editor draws from). */
export interface MaskEditorRefs {
  canvas: RefObject<HTMLCanvasElement | null>;
  frame: RefObject<HTMLDivElement | null>;
  mask: RefObject<MaskBuffer>;
  history: RefObject<MaskHistory>;
  view: RefObject<View>;
  /** the brush outline's centre in image pixels (undefined: no outline, e.g. touch) */
  hover: RefObject<Point | undefined>;
  /** space is held: drag moves the view whatever the tool */
  space: RefObject<boolean>;
}

/** The editor's operations the gestures call. */
export interface MaskEditorOps {
  draw: () => void;
  refreshOverlay: (rect?: Rect) => void;
  /** publish the mask to the store (the end of a stroke) */
  commit: () => void;
  undo: () => void;
  redo: () => void;
}

export function useMaskGestures(refs: MaskEditorRefs, ops: MaskEditorOps, image: { width: number; height: number }) {
  const { draw, refreshOverlay, commit, undo, redo } = ops;
  const pointers = useRef(new Map<number, Point>());
  const dragRef = useRef<Drag | undefined>(undefined);
  const [zoomPct, setZoomPct] = useState(100);

  const setView = useCallback(
    (v: View) => {
      refs.view.current = v;
      setZoomPct(Math.round(v.zoom * 100));
      draw();
    },
    [refs.view, draw],
  );

  const fit = useCallback(() => {
    const frame = refs.frame.current;
    if (!frame) return;
    setView(fitView(image.width, image.height, frame.clientWidth, frame.clientHeight));
  }, [refs.frame, image.width, image.height, setView]);

  const zoomBy = (factor: number) => {
    const frame = refs.frame.current;
    if (!frame) return;
    setView(zoomAt(refs.view.current, factor, frame.clientWidth / 2, frame.clientHeight / 2));
  };

  // keep the canvas backing store matched to its on-screen size
  useEffect(() => {
    const frame = refs.frame.current;
    const canvas = refs.canvas.current;
    if (!frame || !canvas) return;
    const resize = () => {
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(frame.clientWidth * dpr));
      canvas.height = Math.max(1, Math.round(frame.clientHeight * dpr));
      fit();
    };
    resize();
    const ro = new ResizeObserver(resize);
    ro.observe(frame);
    return () => ro.disconnect();
  }, [refs.frame, refs.canvas, fit]);

  // wheel zoom needs a non-passive listener to stop the page from scrolling
  useEffect(() => {
    const canvas = refs.canvas.current;
    if (!canvas) return;
    const onWheel = (e: WheelEvent) => {
      // plain wheel scrolls the page until the editor is in use (focused); Ctrl/Cmd+wheel and
      // trackpad pinches (which arrive as Ctrl+wheel) always zoom
      if (!(e.ctrlKey || e.metaKey || document.activeElement === canvas)) return;
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      const factor = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
      setView(zoomAt(refs.view.current, factor, e.clientX - r.left, e.clientY - r.top));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [refs.canvas, refs.view, setView]);

  // --- pointer input ---------------------------------------------------------------------------
  const local = (e: { clientX: number; clientY: number }): [number, number] => {
    const r = refs.canvas.current?.getBoundingClientRect();
    return [e.clientX - (r?.left ?? 0), e.clientY - (r?.top ?? 0)];
  };

  const onPointerDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const canvas = e.currentTarget;
    canvas.setPointerCapture(e.pointerId);
    canvas.focus({ preventScroll: true });
    const [sx, sy] = local(e);
    pointers.current.set(e.pointerId, { x: sx, y: sy });
    if (pointers.current.size === 2) {
      // a second finger: abandon the stroke (restore the snapshot) and pinch instead
      if (dragRef.current?.kind === 'paint') undo();
      const [a, b] = [...pointers.current.values()] as [Point, Point];
      const dist = Math.hypot(a.x - b.x, a.y - b.y);
      dragRef.current = { kind: 'pinch', dist, cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, view: refs.view.current };
      return;
    }
    const st = useAppStore.getState();
    if (st.maskTool === 'pan' || refs.space.current || e.button === 1) {
      dragRef.current = { kind: 'pan', startX: sx, startY: sy, view: refs.view.current };
      return;
    }
    if (e.button !== 0) return;
    const value: 0 | 1 = st.maskTool === 'eraser' || e.altKey ? 0 : 1;
    const [ix, iy] = screenToImage(refs.view.current, sx, sy);
    refs.history.current.record(refs.mask.current);
    const rect = paintSegment(refs.mask.current, ix, iy, ix, iy, st.maskBrushSize / 2, value);
    if (rect) refreshOverlay(rect);
    dragRef.current = { kind: 'paint', lastX: ix, lastY: iy, value };
  };

  const onPointerMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const [sx, sy] = local(e);
    if (pointers.current.has(e.pointerId)) pointers.current.set(e.pointerId, { x: sx, y: sy });
    const [ix, iy] = screenToImage(refs.view.current, sx, sy);
    refs.hover.current = e.pointerType === 'touch' ? undefined : { x: ix, y: iy };
    const d = dragRef.current;
    if (!d) {
      draw();
      return;
    }
    if (d.kind === 'paint') {
      const rect = paintSegment(refs.mask.current, d.lastX, d.lastY, ix, iy, useAppStore.getState().maskBrushSize / 2, d.value);
      d.lastX = ix;
      d.lastY = iy;
      if (rect) refreshOverlay(rect);
      else draw();
    } else if (d.kind === 'pan') {
      refs.view.current = { ...d.view, offsetX: d.view.offsetX + sx - d.startX, offsetY: d.view.offsetY + sy - d.startY };
      draw();
    } else if (pointers.current.size === 2) {
      const [a, b] = [...pointers.current.values()] as [Point, Point];
      const dist = Math.hypot(a.x - b.x, a.y - b.y);
      const cx = (a.x + b.x) / 2;
      const cy = (a.y + b.y) / 2;
      const zoomed = zoomAt(d.view, dist / Math.max(1, d.dist), d.cx, d.cy);
      setView({ ...zoomed, offsetX: zoomed.offsetX + cx - d.cx, offsetY: zoomed.offsetY + cy - d.cy });
    }
  };

  const endPointer = (e: React.PointerEvent<HTMLCanvasElement>) => {
    pointers.current.delete(e.pointerId);
    const d = dragRef.current;
    if (d?.kind === 'paint') commit();
    if (d?.kind === 'pinch' && pointers.current.size === 1) {
      dragRef.current = undefined; // wait for a fresh touch
      return;
    }
    if (pointers.current.size === 0) dragRef.current = undefined;
  };

  const onPointerLeave = () => {
    refs.hover.current = undefined;
    draw();
  };

  // --- keyboard --------------------------------------------------------------------------------
  const onKeyDown = (e: React.KeyboardEvent) => {
    const target = e.target as HTMLElement;
    const type = (target as HTMLInputElement).type;
    if (target.tagName === 'INPUT' && type !== 'range' && type !== 'checkbox') return;
    const h = historyShortcut(e);
    if (h) {
      e.preventDefault();
      if (h === 'undo') undo();
      else redo();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const st = useAppStore.getState();
    if (e.key === ' ' && target === refs.canvas.current) {
      e.preventDefault();
      refs.space.current = true;
    } else if (e.key === 'b' || e.key === 'B') st.setMaskTool('brush');
    else if (e.key === 'e' || e.key === 'E') st.setMaskTool('eraser');
    else if (e.key === 'h' || e.key === 'H') st.setMaskTool('pan');
    else if (e.key === '[') st.setMaskBrushSize(st.maskBrushSize / 1.25);
    else if (e.key === ']') st.setMaskBrushSize(st.maskBrushSize * 1.25);
    else if (e.key === '+' || e.key === '=') zoomBy(1.25);
    else if (e.key === '-') zoomBy(0.8);
    else if (e.key === '0') fit();
  };

  const onKeyUp = (e: React.KeyboardEvent) => {
    if (e.key === ' ') refs.space.current = false;
  };

  return {
    zoomPct,
    fit,
    zoomBy,
    /** spread on the editor's root: shortcuts work from any of its controls */
    keyHandlers: { onKeyDown, onKeyUp },
    /** spread on the canvas */
    pointerHandlers: {
      onPointerDown,
      onPointerMove,
      onPointerUp: endPointer,
      onPointerCancel: endPointer,
      onPointerLeave,
    },
  };
}
