import type { RestoreRequest } from '../workers/api';

/** The benchmark's request (pure: used by bench/run.ts in Node and by the harness page). */
export function benchRequest(size: number, task: 'blind' | 'reference', steps: `ddpm${number}` | number = 'ddpm100'): RestoreRequest {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    data[i * 4] = (i * 7) % 255;
    data[i * 4 + 1] = (i * 3) % 255;
    data[i * 4 + 2] = (i * 11) % 255;
    data[i * 4 + 3] = 255;
  }
  const img = { width: size, height: size, data };
  return {
    image: img,
    ...(task === 'reference' ? { references: [img] } : {}),
    guidance: {
      task,
      weights: task === 'reference' ? { smooth: 1, identity: 25 } : { smooth: 1 },
      scale: 0.1,
      update: 'mean-shift',
      zeroGradInMask: false,
      gradSteps: 1,
      sStart: 1,
      sEnd: 0.7,
    },
    sampler: { kind: 'ddpm', steps, seed: 1 },
  };
}
