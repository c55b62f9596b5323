import type { PropertyWeights, RestoreRequest, TaskDefaultsInfo, TaskName, UpdateRule, UpscaleMethod } from '../workers/api';
import { COLOR_STYLES, defaultSampler, presetGuidance } from '../workers/shared/presets';

export interface CliOptions {
  task: TaskName;
  inputs: string[];
  masks: string[];
  refs: string[];
  out: string;
  models?: string;
  noise?: string;
  dumpSteps?: string;
  threads?: number;
  styleRefs: string[];
  quiet: boolean;
  /** 'all' or 1-based face numbers, left to right ("1,3") */
  faces: string;
  /** treat each input as the model's crop itself (no detection; resized to the model and back) */
  cropOnly: boolean;
  /** how a face larger in the photo than the model's output is enlarged: the super-resolution step or bicubic */
  upscaler: UpscaleMethod;
  request: Omit<RestoreRequest, 'image' | 'mask' | 'references'>;
  /** flags the user gave (they win over the model set's per-task defaults) */
  given: string[];
}

export const USAGE = `Usage: npm run restore -- --task TASK --input IN.png [--input IN2.png ...] --out OUT.png|DIR [options]

Tasks: blind | colorization | inpainting | reference | old-photo | custom
Inputs are photos: every face is found, aligned to the model set's template, restored and pasted back; the output
has the input's size and framing (an aligned 512 px crop comes back 512 px). A mask is drawn for the input photo.

  --faces all|N[,M...]        which faces to restore, numbered left to right from 1 (default: all)
  --crop-only                 no face detection: the input is the model's crop (resized to the model and back)
  --upscaler esrgan|bicubic   how faces larger than the model's output are enlarged (default esrgan: the
                              super-resolution step; bicubic, with a message, if its model cannot be loaded)

  --models DIR|manifest.json  model set (default: public/models/pgdiff-utk-latent)
  --mask FILE                 mask (white = missing) for inpainting / old-photo; one per input or one for all
  --ref FILE                  identity reference photo (repeatable; several are averaged)
  --steps N|ddpmN             sampling steps (default 100)        --sampler ddpm|ddim   --eta X
  --start F                   start the chain at this fraction of T from the noised restorer estimate (or the
                              photo) instead of pure noise (default 1 = pure noise, the paper)
  --seed N                    random seed (default 1234)          --variants N
  --scale S                   guidance scale (default: the task's reference value)
  --N N --s-start F --s-end F gradient steps per timestep inside (s_end, s_start) (fractions of T)
  --w-unmasked W --w-lightness W --w-color W --w-smooth W --w-identity W --w-restorer-lightness W
                              property weights (0 disables; 'custom' starts from smooth=1)
  --update mean-shift|dynamic-global|dynamic-channel     --zero-grad-in-mask true|false
  --style 0-3                 colour style for colour statistics   --style-ref FILE (repeatable)
  --identity-loss mse|cosine
  --keep-unmasked true|false  keep the photo's pixels outside the mask in the result (default: true for inpainting)
  --blend-latents true|false  latent sets: keep the photo's latent outside the mask while sampling (default: as
                              --keep-unmasked)
  --keep-lightness true|false keep the photo's lightness, the result's colour (default: true when the lightness
                              property is on, as in colorization)
  --paper-values              start from the paper's settings instead of the model set's per-task defaults
  --noise FILE                raw float32 LE: initial noise, then each sampler call's noise
  --dump-steps DIR            write x, x0_hat (and grad) after every sampler call as raw float32
  --threads N                 onnxruntime CPU threads               --quiet
`;

const weightFlags: Record<string, keyof PropertyWeights> = {
  '--w-unmasked': 'unmasked',
  '--w-lightness': 'lightness',
  '--w-color': 'color',
  '--w-smooth': 'smooth',
  '--w-identity': 'identity',
  '--w-restorer-lightness': 'restorerLightness',
};

const tasks: TaskName[] = ['blind', 'colorization', 'inpainting', 'reference', 'old-photo', 'custom'];

export class UsageError extends Error {}

function num(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isFinite(n)) throw new UsageError(`${flag} needs a number, got "${v ?? ''}"`);
  return n;
}

export function parseArgs(argv: string[]): CliOptions {
  const o = {
    inputs: [] as string[],
    masks: [] as string[],
    refs: [] as string[],
    styleRefs: [] as string[],
    quiet: false,
    faces: 'all',
    cropOnly: false,
    upscaler: 'esrgan',
  } as Partial<CliOptions> & {
    inputs: string[];
    masks: string[];
    refs: string[];
    styleRefs: string[];
    quiet: boolean;
    faces: string;
    cropOnly: boolean;
    upscaler: UpscaleMethod;
  };
  let task: TaskName | undefined;
  const over: Record<string, string> = {};
  const weights: PropertyWeights = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const v = argv[i + 1];
    const take = () => {
      i += 1;
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--help' || a === '-h') throw new UsageError('');
    else if (a === '--task') {
      const t = take() as TaskName;
      if (!tasks.includes(t)) throw new UsageError(`unknown task "${t}" (one of ${tasks.join(', ')})`);
      task = t;
    } else if (a === '--input') o.inputs.push(take());
    else if (a === '--mask') o.masks.push(take());
    else if (a === '--ref') o.refs.push(take());
    else if (a === '--style-ref') o.styleRefs.push(take());
    else if (a === '--out') o.out = take();
    else if (a === '--models') o.models = take();
    else if (a === '--noise') o.noise = take();
    else if (a === '--dump-steps') o.dumpSteps = take();
    else if (a === '--threads') o.threads = num(a, take());
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--crop-only') o.cropOnly = true;
    else if (a === '--faces') o.faces = take();
    else if (a === '--upscaler') {
      const u = take();
      if (u !== 'esrgan' && u !== 'bicubic') throw new UsageError(`--upscaler must be esrgan or bicubic, got "${u}"`);
      o.upscaler = u;
    } else if (a === '--paper-values') over[a] = 'true';
    else if (a in weightFlags) weights[weightFlags[a] as keyof PropertyWeights] = num(a, take());
    else if (
      [
        '--steps',
        '--seed',
        '--scale',
        '--N',
        '--s-start',
        '--s-end',
        '--sampler',
        '--eta',
        '--start',
        '--variants',
        '--update',
        '--zero-grad-in-mask',
        '--style',
        '--identity-loss',
        '--keep-unmasked',
        '--keep-lightness',
        '--blend-latents',
      ].includes(a)
    )
      over[a] = take();
    else throw new UsageError(`unknown option "${a}"`);
  }
  if (!task) throw new UsageError('--task is required');
  if (o.inputs.length === 0) throw new UsageError('--input is required');
  if (!o.out) throw new UsageError('--out is required');
  if (o.masks.length > 1 && o.masks.length !== o.inputs.length)
    throw new UsageError(`give one --mask for all inputs or one per input (${o.inputs.length}), not ${o.masks.length}`);

  const guidance = presetGuidance(task);
  guidance.weights = { ...guidance.weights, ...weights };
  if (over['--scale'] !== undefined) guidance.scale = num('--scale', over['--scale']);
  if (over['--N'] !== undefined) guidance.gradSteps = num('--N', over['--N']);
  if (over['--s-start'] !== undefined) guidance.sStart = num('--s-start', over['--s-start']);
  if (over['--s-end'] !== undefined) guidance.sEnd = num('--s-end', over['--s-end']);
  if (over['--update'] !== undefined) {
    const u = over['--update'] as UpdateRule;
    if (!['mean-shift', 'dynamic-global', 'dynamic-channel'].includes(u)) throw new UsageError(`unknown --update "${u}"`);
    guidance.update = u;
  }
  if (over['--zero-grad-in-mask'] !== undefined) guidance.zeroGradInMask = over['--zero-grad-in-mask'] === 'true';
  if (over['--style'] !== undefined) {
    const s = COLOR_STYLES[num('--style', over['--style'])];
    if (!s) throw new UsageError('--style must be 0, 1, 2 or 3');
    guidance.style = s;
  }
  if (over['--identity-loss'] !== undefined) {
    const l = over['--identity-loss'];
    if (l !== 'mse' && l !== 'cosine') throw new UsageError('--identity-loss must be mse or cosine');
    guidance.identityLoss = l;
  }
  const sampler = defaultSampler();
  if (over['--steps'] !== undefined) {
    const s = over['--steps'];
    sampler.steps = /^\d+$/.test(s) ? Number(s) : (s as `ddpm${number}`);
  }
  if (over['--seed'] !== undefined) sampler.seed = num('--seed', over['--seed']);
  if (over['--sampler'] !== undefined) {
    const k = over['--sampler'];
    if (k !== 'ddpm' && k !== 'ddim') throw new UsageError('--sampler must be ddpm or ddim');
    sampler.kind = k;
  }
  if (over['--eta'] !== undefined) sampler.eta = num('--eta', over['--eta']);
  if (over['--start'] !== undefined) {
    const v = num('--start', over['--start']);
    if (!(v > 0 && v <= 1)) throw new UsageError(`--start must be a fraction in (0, 1] (1 = from pure noise), got ${v}`);
    sampler.start = v;
  }
  const bool = (flag: string): boolean | undefined => {
    const k = over[flag];
    if (k === undefined) return undefined;
    if (k !== 'true' && k !== 'false') throw new UsageError(`${flag} must be true or false`);
    return k === 'true';
  };
  const keepLightness = bool('--keep-lightness');
  const keepUnmasked = bool('--keep-unmasked');
  const blendLatents = bool('--blend-latents');
  return {
    ...(o as CliOptions),
    task,
    given: [...Object.keys(over), ...Object.keys(weights).map((w) => `weight:${w}`)],
    request: {
      guidance,
      sampler,
      variants: over['--variants'] !== undefined ? num('--variants', over['--variants']) : 1,
      ...(keepUnmasked !== undefined ? { keepUnmasked } : {}),
      ...(keepLightness !== undefined ? { keepLightness } : {}),
      ...(blendLatents !== undefined ? { blendLatents } : {}),
    },
  };
}

/**
 * Start from the model set's settings for the task (manifest `defaults`), except where the user gave a flag
 * or asked for --paper-values. Returns what was taken from the set, for the log line.
 */
export function applyTaskDefaults(opts: CliOptions, d: TaskDefaultsInfo | undefined): string[] {
  if (!d || opts.given.includes('--paper-values')) return [];
  const g = opts.request.guidance;
  const s = opts.request.sampler;
  const took: string[] = [];
  const unless = (flag: string, apply: () => void, what: string) => {
    if (!opts.given.includes(flag)) {
      apply();
      took.push(what);
    }
  };
  unless('--scale', () => (g.scale = d.scale), `scale ${d.scale}`);
  unless('--steps', () => (s.steps = d.steps), `steps ${d.steps}`);
  unless('--sampler', () => (s.kind = d.sampler), `sampler ${d.sampler}`);
  unless('--N', () => (g.gradSteps = d.gradSteps), `N ${d.gradSteps}`);
  if (d.update) unless('--update', () => (g.update = d.update as UpdateRule), `update ${d.update}`);
  if (d.start !== undefined) unless('--start', () => (s.start = d.start), `start ${d.start}`);
  for (const [k, v] of Object.entries(d.weights ?? {}))
    unless(`weight:${k}`, () => ((g.weights as Record<string, number>)[k] = v), `${k} weight ${v}`);
  return took;
}
