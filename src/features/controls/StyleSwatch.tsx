import { useEffect, useRef } from 'react';
import type { ColorStyle } from '../../../workers/api';
import { renderSwatch } from './controls-model';

/** A small canvas that shows a colour style's palette (from its per-channel mean and std). */
export function StyleSwatch({ style, size = 48 }: { style: ColorStyle; size?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const img = new ImageData(size, size);
    img.data.set(renderSwatch(style, size));
    ctx.putImageData(img, 0, 0);
  }, [style, size]);
  return <canvas ref={ref} width={size} height={size} className="style-swatch" aria-hidden="true" />;
}
