/**
 * Seeded Gaussian noise: xoshiro128** seeded through splitmix32, Box-Muller in float64.
 * Pure integer arithmetic, so a seed gives the same noise in every browser and in Node.
 */
export class NormalRng {
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed: number) {
    let x = (seed >>> 0) ^ 0x9e3779b9;
    this.s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** uniform in (0, 1) */
  private uniform(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1] as number, 5) >>> 0, 7), 9) >>> 0;
    const t = ((s[1] as number) << 9) >>> 0;
    s[2] = (s[2] as number) ^ (s[0] as number);
    s[3] = (s[3] as number) ^ (s[1] as number);
    s[1] = (s[1] as number) ^ (s[2] as number);
    s[0] = (s[0] as number) ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return (result + 0.5) / 4294967296;
  }

  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  fill(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Where the sampler's noise comes from: a seed, or a recorded stream (CLI --noise, goldens). */
export interface NoiseSource {
  /** the next full-size noise tensor (initial x_T first, then one per sampler call) */
  next(size: number): Float32Array;
}

export function seededNoise(seed: number): NoiseSource {
  const rng = new NormalRng(seed);
  return { next: (size) => rng.fill(new Float32Array(size)) };
}

export function recordedNoise(stream: Float32Array): NoiseSource {
  let offset = 0;
  return {
    next(size) {
      if (offset + size > stream.length) {
        throw new RangeError(`noise stream exhausted: needed ${offset + size} values, file has ${stream.length}`);
      }
      const out = stream.slice(offset, offset + size);
      offset += size;
      return out;
    },
  };
}
