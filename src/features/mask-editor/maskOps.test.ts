import { describe, expect, it } from 'vitest';
import {
  MaskHistory,
  clearMask,
  countMasked,
  createMask,
  fitView,
  historyShortcut,
  invertMask,
  maskFromEngine,
  maskFromImage,
  maskToRgba,
  paintSegment,
  screenToImage,
  zoomAt,
} from './maskOps';

describe('paintSegment', () => {
  it('paints a disc for a click, with area close to pi r^2', () => {
    const m = createMask(64, 64);
    paintSegment(m, 32, 32, 32, 32, 10, 1);
    const area = countMasked(m);
    expect(Math.abs(area - Math.PI * 100) / (Math.PI * 100)).toBeLessThan(0.06);
    expect(m.data[32 * 64 + 32]).toBe(1);
    expect(m.data[32 * 64 + 45]).toBe(0);
  });
  it('paints a gap-free capsule along a fast stroke and erases with value 0', () => {
    const m = createMask(100, 20);
    const rect = paintSegment(m, 5, 10, 95, 10, 3, 1);
    for (let x = 3; x < 97; x++) expect(m.data[10 * 100 + x]).toBe(1);
    expect(m.data[2 * 100 + 50]).toBe(0);
    expect(rect).toEqual({ x0: 2, y0: 7, x1: 98, y1: 13 });
    paintSegment(m, 50, 10, 50, 10, 5, 0);
    expect(m.data[10 * 100 + 50]).toBe(0);
    expect(m.data[10 * 100 + 40]).toBe(1);
  });
  it('clips to the mask and reports a miss', () => {
    const m = createMask(10, 10);
    expect(paintSegment(m, -50, -50, -40, -40, 2, 1)).toBeUndefined();
    paintSegment(m, -5, 5, 15, 5, 1, 1);
    expect(countMasked(m)).toBeGreaterThanOrEqual(10);
  });
});

describe('invert, clear, conversions', () => {
  it('invert twice is identity; clear empties', () => {
    const m = createMask(8, 8);
    paintSegment(m, 2, 2, 2, 2, 2, 1);
    const before = m.data.slice();
    invertMask(m);
    expect(countMasked(m)).toBe(64 - countMasked({ ...m, data: before }));
    invertMask(m);
    expect(m.data).toEqual(before);
    clearMask(m);
    expect(countMasked(m)).toBe(0);
  });
  it('round-trips through the engine RGBA convention (white = missing)', () => {
    const m = createMask(6, 4);
    m.data[7] = 1;
    const rgba = maskToRgba(m);
    expect([...rgba.data.slice(28, 32)]).toEqual([255, 255, 255, 255]);
    expect([...rgba.data.slice(0, 4)]).toEqual([0, 0, 0, 255]);
    expect(maskFromEngine(rgba).data).toEqual(m.data);
  });
});

function rgba(w: number, h: number, f: (x: number, y: number) => [number, number, number, number]) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y), (y * w + x) * 4);
  return { width: w, height: h, data };
}

describe('maskFromImage (import, resized to the crop)', () => {
  it('shrinks 1024 -> 512 keeping a white square where it was', () => {
    const src = rgba(1024, 1024, (x, y) => (x >= 200 && x < 600 && y >= 100 && y < 300 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    const m = maskFromImage(src, 512, 512);
    expect(countMasked(m)).toBe(200 * 100);
    expect(m.data[100 * 512 + 150]).toBe(1);
    expect(m.data[40 * 512 + 150]).toBe(0);
  });
  it('enlarges and stretches a non-square mask; transparent counts as not missing', () => {
    const src = rgba(4, 2, (x) => (x < 2 ? [255, 255, 255, 255] : [255, 255, 255, 0]));
    const m = maskFromImage(src, 16, 16);
    expect(m.data[8 * 16 + 2]).toBe(1);
    expect(m.data[8 * 16 + 13]).toBe(0);
    expect(countMasked(m)).toBe(128);
  });
});

describe('MaskHistory', () => {
  it('undoes and redoes strokes in order and a new stroke clears redo', () => {
    const h = new MaskHistory();
    let m = createMask(4, 4);
    h.record(m);
    m.data[0] = 1;
    h.record(m);
    m.data[1] = 1;
    expect(h.canUndo).toBe(true);
    m = h.undo(m) ?? m;
    expect([m.data[0], m.data[1]]).toEqual([1, 0]);
    m = h.undo(m) ?? m;
    expect(countMasked(m)).toBe(0);
    expect(h.undo(m)).toBeUndefined();
    m = h.redo(m) ?? m;
    expect(m.data[0]).toBe(1);
    h.record(m);
    m.data[5] = 1;
    expect(h.canRedo).toBe(false);
  });
  it('keeps at most `limit` steps', () => {
    const h = new MaskHistory(3);
    let m = createMask(2, 2);
    for (let i = 0; i < 4; i++) {
      h.record(m);
      m.data[i] = 1;
    }
    let n = 0;
    while (h.canUndo) {
      m = h.undo(m) ?? m;
      n++;
    }
    expect(n).toBe(3);
    expect(m.data[0]).toBe(1);
  });
});

describe('shortcuts and view', () => {
  it('maps Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y and Cmd variants', () => {
    const k = (key: string, o: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean }>) =>
      historyShortcut({ key, ctrlKey: false, metaKey: false, shiftKey: false, ...o });
    expect(k('z', { ctrlKey: true })).toBe('undo');
    expect(k('Z', { ctrlKey: true, shiftKey: true })).toBe('redo');
    expect(k('y', { ctrlKey: true })).toBe('redo');
    expect(k('z', { metaKey: true })).toBe('undo');
    expect(k('z', {})).toBeUndefined();
  });
  it('zooms about a fixed screen point and fits the image', () => {
    const v = fitView(512, 512, 256, 300);
    expect(v.zoom).toBe(0.5);
    expect(v.offsetY).toBe(22);
    const before = screenToImage(v, 100, 120);
    const z = zoomAt(v, 2, 100, 120);
    const after = screenToImage(z, 100, 120);
    expect(after[0]).toBeCloseTo(before[0], 9);
    expect(after[1]).toBeCloseTo(before[1], 9);
    expect(zoomAt(v, 1000, 0, 0).zoom).toBe(16);
  });
});
