/** Pure helpers for progress and time estimates. */
import type { SamplerSettings } from '../../../workers/api';

/** How many sampler steps one variant takes for a steps setting (1000 = no respacing). */
export function stepsPerVariant(steps: SamplerSettings['steps']): number {
  if (typeof steps === 'number') return Math.max(1, Math.round(steps));
  const n = Number(steps.slice(4));
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 1000;
}

/** Fraction 0..1 of the whole run done. */
export function overallFraction(p: {
  face: number;
  faces: number;
  variant: number;
  variants: number;
  step: number;
  total: number;
}): number {
  const per = Math.max(1, p.total);
  const all = per * Math.max(1, p.variants) * Math.max(1, p.faces);
  const done = (p.face * Math.max(1, p.variants) + p.variant) * per + Math.min(p.step, per);
  return Math.min(1, Math.max(0, done / all));
}

/** "about 3 min 20 s", "about 45 s", "less than a second". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  if (ms < 1000) return 'less than a second';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (m < 60) return rest ? `${m} min ${rest} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

/** "about 12 s" / "less than a second" (never "about less than a second"). */
export function aboutDuration(ms: number): string {
  const d = formatDuration(ms);
  return d === 'less than a second' || d === 'unknown' ? d : `about ${d}`;
}

/** Estimated time for a run of `steps` steps x variants x faces at a measured speed. */
export function estimateRunMs(msPerStep: number, steps: number, variants: number, faces: number): number {
  return msPerStep * steps * Math.max(1, variants) * Math.max(1, faces);
}
