import { useEffect, useRef } from 'react';
import type { RgbaImage } from '../../workers/api';
import { paintCanvas } from './canvas';

/** Shows an RgbaImage; CSS decides the displayed size (it scales, keeping the aspect ratio). */
export function ImageCanvas({ image, label, className, testId }: { image: RgbaImage; label: string; className?: string; testId?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) paintCanvas(ref.current, image);
  }, [image]);
  return (
    <canvas
      ref={ref}
      role="img"
      aria-label={label}
      className={className ?? 'image-canvas'}
      data-testid={testId}
      width={image.width}
      height={image.height}
    />
  );
}
