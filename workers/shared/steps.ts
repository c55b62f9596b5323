/**
 * Step counting, shared by the engine and the UI (both may import workers/shared/): which timesteps a
 * respaced schedule keeps, how often each is repeated inside the N-gradient-steps window, and so how many
 * prior calls a run makes. Pure functions, no engine or DOM imports.
 */

/** The window where each timestep is repeated N times (fractions of the FULL schedule, spec section 4). */
export interface GradWindow {
  gradSteps: number;
  sStart: number;
  sEnd: number;
}

/**
 * guided-diffusion's space_timesteps: "ddimN" / "ddpmN" keeps range(0, T, stride) for the stride that
 * gives exactly N steps; otherwise comma-separated counts per equal section, spread evenly.
 */
export function spaceTimesteps(T: number, spec: string | number): number[] {
  let sectionCounts: number[];
  if (typeof spec === 'string') {
    if (spec.startsWith('ddpm') || spec.startsWith('ddim')) {
      const desired = Number(spec.slice(4));
      if (!Number.isInteger(desired) || desired < 1) throw new RangeError(`bad respacing "${spec}"`);
      for (let stride = 1; stride < T; stride++) {
        const kept: number[] = [];
        for (let t = 0; t < T; t += stride) kept.push(t);
        if (kept.length === desired) return kept;
      }
      throw new RangeError(`cannot create exactly ${desired} steps with an integer stride over ${T}`);
    }
    sectionCounts = spec.split(',').map((s) => Number(s.trim()));
  } else {
    sectionCounts = [spec];
  }
  if (sectionCounts.some((c) => !Number.isInteger(c) || c < 1)) throw new RangeError(`bad respacing "${spec}"`);
  const sizePer = Math.floor(T / sectionCounts.length);
  const extra = T % sectionCounts.length;
  let startIdx = 0;
  const all: number[] = [];
  sectionCounts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) throw new RangeError(`cannot divide section of ${size} steps into ${count}`);
    const fracStride = count <= 1 ? 1 : (size - 1) / (count - 1);
    let cur = 0;
    const taken: number[] = [];
    for (let k = 0; k < count; k++) {
      taken.push(startIdx + roundHalfEven(cur));
      cur += fracStride;
    }
    all.push(...taken);
    startIdx += size;
  });
  return Array.from(new Set(all)).sort((a, b) => a - b);
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * How many times timestep tOrig (an ORIGINAL index of a T-step schedule) is sampled: N inside the window
 * int(sEnd*T) < t < int(sStart*T), else once (the reference truncates the bounds with int()).
 */
export function repeatsAt(tOrig: number, T: number, w: GradWindow): number {
  if (w.gradSteps <= 1) return 1;
  return tOrig < Math.trunc(w.sStart * T) && tOrig > Math.trunc(w.sEnd * T) ? w.gradSteps : 1;
}

/** Prior calls for one variant: every kept timestep, repeated inside the window. */
export function countPriorCalls(timesteps: readonly number[], T: number, w: GradWindow): number {
  let n = 0;
  for (const t of timesteps) n += repeatsAt(t, T, w);
  return n;
}

/** The last respaced index whose timestep is at most start * (T - 1): where the chain begins (index 0 at least). */
export function startIndexFor(timesteps: readonly number[], T: number, start: number): number {
  const limit = start * (T - 1) + 1e-9;
  let index = 0;
  for (let i = 0; i < timesteps.length; i++) if ((timesteps[i] as number) <= limit) index = i;
  return index;
}
