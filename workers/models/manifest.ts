/**
 * Validation of model-set manifests (shapes in manifest-types.ts) and small helpers the loader and
 * the engine share: which file of a role to use, and where it lives.
 */
import type {
  ComponentManifest,
  LatentSpace,
  ModelEntry,
  ModelFile,
  ModelManifest,
  ModelRole,
  TaskDefaults,
  TaskId,
  TensorSpec,
} from './manifest-types';

export const MANIFEST_FORMAT = 'pgdiff-model-set';
export const COMPONENTS_FORMAT = 'pgdiff-components';
/** Roles a components manifest may hold (the rest belong to model sets). */
export const COMPONENT_ROLES: readonly ModelRole[] = ['face-detector', 'face-landmarks', 'upscaler-x2', 'upscaler-x4'];
export const SUPPORTED_MANIFEST_VERSIONS: readonly number[] = [1];

export const MODEL_ROLES: readonly ModelRole[] = [
  'prior',
  'restorer',
  'identity',
  'identity-vjp',
  'perceptual',
  'discriminator',
  'face-detector',
  'face-landmarks',
  'upscaler-x2',
  'upscaler-x4',
  'decoder',
  'decoder-vjp',
  'encoder',
];
export const TASK_IDS: readonly TaskId[] = ['blind', 'colorization', 'inpainting', 'reference', 'old-photo'];

export interface ManifestIssue {
  /** field path, e.g. "models[1].files.fp32.sha256" ("" for the whole document) */
  path: string;
  message: string;
}

/** A manifest that does not validate. `path` and `detail` describe the first problem; `issues` lists all. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  readonly path: string;
  readonly detail: string;
  constructor(
    readonly source: string,
    readonly issues: ManifestIssue[],
  ) {
    const first = issues[0] ?? { path: '', message: 'invalid manifest' };
    const where = first.path ? `${first.path}: ` : '';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    super(`Invalid model manifest ${source}: ${where}${first.message}${more}`);
    this.path = first.path;
    this.detail = first.message;
  }
}

/**
 * Optional, documented extensions of ModelEntry.params that this module reads (written by
 * tools/make-manifest.ts). A plain number means the same bound for both precisions.
 */
export interface ModelParamsExtension {
  /** bytes of the largest initializer (weights tensor) in each file */
  largestTensorBytes?: number | { fp32?: number; fp16?: number };
  /** that tensor's name, for messages */
  largestTensorName?: string | { fp32?: string; fp16?: string };
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
};

class Checker {
  readonly issues: ManifestIssue[] = [];
  fail(path: string, message: string): void {
    this.issues.push({ path, message });
  }
  object(v: unknown, path: string): Json | undefined {
    if (isObject(v)) return v;
    this.fail(path, v === undefined ? 'missing (expected an object)' : `expected an object, got ${describe(v)}`);
    return undefined;
  }
  string(v: unknown, path: string, { optional = false } = {}): string | undefined {
    if (v === undefined && optional) return undefined;
    if (typeof v === 'string' && v.trim() !== '') return v;
    this.fail(path, v === undefined ? 'missing (expected a non-empty string)' : `expected a non-empty string, got ${describe(v)}`);
    return undefined;
  }
  positiveInt(v: unknown, path: string): number | undefined {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
    this.fail(path, v === undefined ? 'missing (expected a positive integer)' : `expected a positive integer, got ${describe(v)}`);
    return undefined;
  }
  oneOf<T extends string | number>(v: unknown, allowed: readonly T[], path: string): T | undefined {
    if ((allowed as readonly unknown[]).includes(v)) return v as T;
    const list = allowed.map((a) => (typeof a === 'string' ? `"${a}"` : String(a))).join(', ');
    this.fail(path, v === undefined ? `missing (expected one of ${list})` : `expected one of ${list}, got ${describe(v)}`);
    return undefined;
  }
}

const SHA256 = /^[0-9a-fA-F]{64}$/;
const TENSOR_DTYPES = ['float32', 'float16', 'int64', 'int32'] as const;

function checkFile(c: Checker, v: unknown, path: string, dtype: ModelFile['dtype']): ModelFile | undefined {
  const o = c.object(v, path);
  if (!o) return undefined;
  const p = c.string(o.path, `${path}.path`);
  let sha: string | undefined;
  if (typeof o.sha256 === 'string' && SHA256.test(o.sha256)) sha = o.sha256.toLowerCase();
  else
    c.fail(
      `${path}.sha256`,
      typeof o.sha256 === 'string'
        ? `expected 64 hex characters, got ${o.sha256.length} character${o.sha256.length === 1 ? '' : 's'} ${describe(o.sha256)}`
        : `expected 64 hex characters, got ${describe(o.sha256)}`,
    );
  const bytes = c.positiveInt(o.bytes, `${path}.bytes`);
  const dt = c.oneOf(o.dtype, [dtype], `${path}.dtype`);
  if (p === undefined || sha === undefined || bytes === undefined || dt === undefined) return undefined;
  return { path: p, sha256: sha, bytes, dtype: dt };
}

function checkTensors(c: Checker, v: unknown, path: string): TensorSpec[] | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    c.fail(
      path,
      v === undefined
        ? 'missing (expected a non-empty list of tensors)'
        : `expected a non-empty list of tensors, got ${Array.isArray(v) ? 'an empty list' : describe(v)}`,
    );
    return undefined;
  }
  const out: TensorSpec[] = [];
  const seen = new Set<string>();
  let ok = true;
  v.forEach((t, i) => {
    const tp = `${path}[${i}]`;
    const o = c.object(t, tp);
    if (!o) return void (ok = false);
    const name = c.string(o.name, `${tp}.name`);
    if (name !== undefined && seen.has(name)) {
      c.fail(`${tp}.name`, `duplicate tensor name "${name}"`);
      ok = false;
    }
    if (name !== undefined) seen.add(name);
    let shape: (number | string)[] | undefined;
    if (!Array.isArray(o.shape)) c.fail(`${tp}.shape`, `expected a list of dimensions, got ${describe(o.shape)}`);
    else {
      shape = [];
      o.shape.forEach((d, j) => {
        if ((typeof d === 'number' && Number.isSafeInteger(d) && d >= -1) || (typeof d === 'string' && d !== '')) shape?.push(d);
        else {
          c.fail(`${tp}.shape[${j}]`, `expected an integer >= -1 or a dimension name, got ${describe(d)}`);
          shape = undefined;
        }
      });
    }
    const dtype = c.oneOf(o.dtype, TENSOR_DTYPES, `${tp}.dtype`);
    if (name === undefined || shape === undefined || dtype === undefined) ok = false;
    else out.push({ name, shape, dtype });
  });
  return ok ? out : undefined;
}

/** Spatial dims of a 4-D NCHW tensor must match the resolution when they are fixed numbers. */
function checkSpatial(c: Checker, tensors: TensorSpec[], path: string, size: number, what: string): void {
  tensors.forEach((t, i) => {
    if (t.shape.length !== 4) return;
    for (const axis of [2, 3]) {
      const d = t.shape[axis];
      if (typeof d === 'number' && d > 0 && d !== size)
        c.fail(`${path}[${i}].shape[${axis}]`, `expected ${size} (the manifest's ${what}) or a dynamic dimension, got ${d}`);
    }
  });
}

function checkEntry(c: Checker, v: unknown, path: string): ModelEntry | undefined {
  const o = c.object(v, path);
  if (!o) return undefined;
  const role = c.oneOf(o.role, MODEL_ROLES, `${path}.role`);
  const files = c.object(o.files, `${path}.files`);
  let fp32: ModelFile | undefined;
  let fp16: ModelFile | undefined;
  let filesOk = false;
  if (files) {
    for (const k of Object.keys(files))
      if (k !== 'fp32' && k !== 'fp16') c.fail(`${path}.files.${k}`, 'unknown precision (expected "fp32" or "fp16")');
    fp32 = checkFile(c, files.fp32, `${path}.files.fp32`, 'float32');
    filesOk = fp32 !== undefined;
    if (files.fp16 !== undefined) {
      fp16 = checkFile(c, files.fp16, `${path}.files.fp16`, 'float16');
      filesOk &&= fp16 !== undefined;
    }
  }
  const inputs = checkTensors(c, o.inputs, `${path}.inputs`);
  const outputs = checkTensors(c, o.outputs, `${path}.outputs`);
  let params: Record<string, unknown> | undefined;
  if (o.params !== undefined) {
    params = c.object(o.params, `${path}.params`);
    if (params) checkParamsExtension(c, params, `${path}.params`);
  }
  if (!role || !fp32 || !filesOk || !inputs || !outputs || (o.params !== undefined && !params)) return undefined;
  const entry: ModelEntry = { role, files: fp16 ? { fp32, fp16 } : { fp32 }, inputs, outputs };
  if (params) entry.params = params;
  return entry;
}

function checkParamsExtension(c: Checker, params: Json, path: string): void {
  const b = params.largestTensorBytes;
  if (b === undefined) return;
  const okNum = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (okNum(b)) return;
  if (isObject(b)) {
    for (const [k, x] of Object.entries(b)) {
      if (k !== 'fp32' && k !== 'fp16') c.fail(`${path}.largestTensorBytes.${k}`, 'unknown precision (expected "fp32" or "fp16")');
      else if (!okNum(x)) c.fail(`${path}.largestTensorBytes.${k}`, `expected a byte count (integer >= 0), got ${describe(x)}`);
    }
    return;
  }
  c.fail(`${path}.largestTensorBytes`, `expected a byte count or { fp32, fp16 }, got ${describe(b)}`);
}

/**
 * Validate a parsed manifest. `source` names where it came from (a URL or file name) for messages.
 * Throws ManifestError listing every problem; the first one is in the message.
 */
export function parseManifest(json: unknown, source: string): ModelManifest {
  const c = new Checker();
  const fail = () => new ManifestError(source, c.issues);
  const o = c.object(json, '');
  if (!o) throw fail();

  if (o.format !== MANIFEST_FORMAT) {
    c.fail('format', `expected "${MANIFEST_FORMAT}", got ${describe(o.format)} (is this a PGDiff model-set manifest?)`);
    throw fail();
  }
  if (!SUPPORTED_MANIFEST_VERSIONS.includes(o.version as number)) {
    c.fail(
      'version',
      `unsupported manifest version ${describe(o.version)}; this app reads version${SUPPORTED_MANIFEST_VERSIONS.length > 1 ? 's' : ''} ${SUPPORTED_MANIFEST_VERSIONS.join(', ')}` +
        (typeof o.version === 'number' && o.version > Math.max(...SUPPORTED_MANIFEST_VERSIONS)
          ? ' (the model set is newer than the app: update the app)'
          : ''),
    );
    throw fail();
  }

  const name = c.string(o.name, 'name');
  const setVersion = c.string(o.setVersion, 'setVersion');
  const description = c.string(o.description, 'description', { optional: true });
  const licence = c.string(o.licence, 'licence');
  const resolution = c.positiveInt(o.resolution, 'resolution');

  const d = c.object(o.diffusion, 'diffusion');
  const diffusion = d && {
    steps: c.positiveInt(d.steps, 'diffusion.steps'),
    schedule: c.oneOf(d.schedule, ['linear', 'scaled-linear', 'cosine'] as const, 'diffusion.schedule'),
    variance: c.oneOf(d.variance, ['learned-range', 'fixed-large', 'fixed-small'] as const, 'diffusion.variance'),
    prediction: c.oneOf(d.prediction, ['epsilon'] as const, 'diffusion.prediction'),
    timestep: c.oneOf(d.timestep, ['original-index'] as const, 'diffusion.timestep'),
  };

  const a = c.object(o.alignment, 'alignment');
  let template: [number, number][] | undefined;
  let size: number | undefined;
  if (a) {
    size = c.positiveInt(a.size, 'alignment.size');
    if (size !== undefined && resolution !== undefined && size !== resolution)
      c.fail(
        'alignment.size',
        `expected ${resolution} (the manifest's resolution; the template is in the model crop's pixels), got ${size}`,
      );
    if (!Array.isArray(a.template) || a.template.length !== 5)
      c.fail(
        'alignment.template',
        `expected 5 landmarks [x, y] (left eye, right eye, nose, left mouth, right mouth), got ${Array.isArray(a.template) ? `${a.template.length}` : describe(a.template)}`,
      );
    else {
      const pts: [number, number][] = [];
      a.template.forEach((p, i) => {
        if (Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x))) {
          const [x, y] = p as [number, number];
          if (size !== undefined && (x < 0 || y < 0 || x > size || y > size))
            c.fail(`alignment.template[${i}]`, `landmark (${x}, ${y}) lies outside the ${size}x${size} crop`);
          pts.push([x, y]);
        } else c.fail(`alignment.template[${i}]`, `expected [x, y] with two finite numbers, got ${describe(p)}`);
      });
      if (pts.length === 5) template = pts;
    }
  }

  const p = c.object(o.preprocessing, 'preprocessing');
  const preprocessing = p && {
    range: c.oneOf(p.range, ['[-1,1]'] as const, 'preprocessing.range'),
    channels: c.oneOf(p.channels, ['RGB'] as const, 'preprocessing.channels'),
    layout: c.oneOf(p.layout, ['NCHW'] as const, 'preprocessing.layout'),
  };

  let testOnly: boolean | undefined;
  if (o.testOnly !== undefined) {
    if (typeof o.testOnly === 'boolean') testOnly = o.testOnly;
    else c.fail('testOnly', `expected true or false, got ${describe(o.testOnly)}`);
  }

  const latent = o.latent === undefined ? undefined : checkLatent(c, o.latent, resolution);
  const defaults = o.defaults === undefined ? undefined : checkDefaults(c, o.defaults);
  const priorSize = latent && resolution !== undefined ? resolution / latent.downscale : resolution;

  const models: ModelEntry[] = [];
  if (!Array.isArray(o.models) || o.models.length === 0) {
    c.fail(
      'models',
      o.models === undefined
        ? 'missing (expected a non-empty list of models)'
        : `expected a non-empty list of models, got ${Array.isArray(o.models) ? 'an empty list' : describe(o.models)}`,
    );
  } else {
    const rolesAt = new Map<ModelRole, number[]>();
    o.models.forEach((m, i) => {
      const e = checkEntry(c, m, `models[${i}]`);
      const role = isObject(m) && MODEL_ROLES.includes(m.role as ModelRole) ? (m.role as ModelRole) : undefined;
      if (role) rolesAt.set(role, [...(rolesAt.get(role) ?? []), i]);
      if (e) {
        models.push(e);
        if (resolution !== undefined && e.role === 'restorer') {
          checkSpatial(c, e.inputs, `models[${i}].inputs`, resolution, 'resolution');
          checkSpatial(c, e.outputs, `models[${i}].outputs`, resolution, 'resolution');
        }
        if (priorSize !== undefined && Number.isInteger(priorSize) && e.role === 'prior') {
          const what = latent ? `resolution / latent.downscale` : 'resolution';
          checkSpatial(c, e.inputs, `models[${i}].inputs`, priorSize, what);
          checkSpatial(c, e.outputs, `models[${i}].outputs`, priorSize, what);
        }
        if (e.role === 'prior' && diffusion?.variance) {
          const out0 = e.outputs[0];
          const ch = out0?.shape.length === 4 ? out0.shape[1] : undefined;
          const base = latent ? latent.channels : 3;
          const want = diffusion.variance === 'learned-range' ? 2 * base : base;
          if (typeof ch === 'number' && ch > 0 && ch !== want && !(want === base && ch === 2 * base))
            c.fail(
              `models[${i}].outputs[0].shape[1]`,
              `expected ${want} channels for diffusion.variance "${diffusion.variance}", got ${ch}`,
            );
        }
      }
    });
    const priors = rolesAt.get('prior') ?? [];
    if (priors.length !== 1)
      c.fail(
        'models',
        `expected exactly one model with role "prior", found ${priors.length}${priors.length ? ` (models[${priors.join('], models[')}])` : ''}`,
      );
    for (const [role, at] of rolesAt)
      if (role !== 'prior' && at.length > 1)
        c.fail(
          `models[${at[1]}].role`,
          `role "${role}" appears more than once (models[${at.join('], models[')}]); each role may appear once`,
        );
    const latentRoles = (['decoder', 'decoder-vjp', 'encoder'] as const).filter((r) => rolesAt.has(r));
    if (o.latent !== undefined) {
      for (const r of ['decoder', 'decoder-vjp'] as const)
        if (!rolesAt.has(r)) c.fail('models', `a latent set (the manifest has "latent") needs a model with role "${r}"`);
    } else if (latentRoles.length > 0) {
      const at = rolesAt.get(latentRoles[0]!)![0];
      c.fail(
        `models[${at}].role`,
        `role "${latentRoles[0]}" belongs to latent sets: add the "latent" block (channels, downscale, mean, std)`,
      );
    }
    if (o.latent !== undefined && !rolesAt.has('encoder') && defaults) {
      for (const [task, d] of Object.entries(defaults))
        if ((d.start ?? 1) < 1)
          c.fail(`defaults.${task}.start`, 'starting below T from the estimate needs the set\'s "encoder" model (latent sets)');
    }
    const hasId = rolesAt.has('identity');
    const hasVjp = rolesAt.has('identity-vjp');
    if (hasId !== hasVjp)
      c.fail(
        'models',
        hasId
          ? 'role "identity" needs its gradient model "identity-vjp" too (they come together)'
          : 'role "identity-vjp" needs the "identity" model too (they come together)',
      );
  }

  if (c.issues.length > 0) throw fail();
  // Every field was checked above; the non-null assertions only narrow what the checker proved.
  const manifest: ModelManifest = {
    format: 'pgdiff-model-set',
    version: 1,
    name: name!,
    setVersion: setVersion!,
    licence: licence!,
    resolution: resolution!,
    diffusion: diffusion as ModelManifest['diffusion'],
    alignment: { template: template!, size: size! },
    preprocessing: preprocessing as ModelManifest['preprocessing'],
    models,
  };
  if (description !== undefined) manifest.description = description;
  if (testOnly !== undefined) manifest.testOnly = testOnly;
  if (latent) manifest.latent = latent;
  if (defaults) manifest.defaults = defaults;
  return manifest;
}

/**
 * Validate a components manifest (the face detector and mesh): the model entries of a model set, checked the
 * same way, without the diffusion fields. Throws ManifestError listing every problem.
 */
export function parseComponentManifest(json: unknown, source: string): ComponentManifest {
  const c = new Checker();
  const fail = () => new ManifestError(source, c.issues);
  const o = c.object(json, '');
  if (!o) throw fail();
  if (o.format !== COMPONENTS_FORMAT) {
    c.fail('format', `expected "${COMPONENTS_FORMAT}", got ${describe(o.format)}`);
    throw fail();
  }
  if (o.version !== 1) {
    c.fail('version', `unsupported components manifest version ${describe(o.version)}; this app reads version 1`);
    throw fail();
  }
  const name = c.string(o.name, 'name');
  const setVersion = c.string(o.setVersion, 'setVersion');
  const description = c.string(o.description, 'description', { optional: true });
  const licence = c.string(o.licence, 'licence');
  const models: ModelEntry[] = [];
  if (!Array.isArray(o.models) || o.models.length === 0) c.fail('models', `expected a non-empty list of models, got ${describe(o.models)}`);
  else
    o.models.forEach((m, i) => {
      const e = checkEntry(c, m, `models[${i}]`);
      if (!e) return;
      if (!COMPONENT_ROLES.includes(e.role))
        c.fail(
          `models[${i}].role`,
          `role "${e.role}" belongs to a model set; a components manifest holds ${COMPONENT_ROLES.map((r) => `"${r}"`).join(', ')}`,
        );
      else if (models.some((x) => x.role === e.role)) c.fail(`models[${i}].role`, `role "${e.role}" appears more than once`);
      else models.push(e);
    });
  if (c.issues.length > 0) throw fail();
  return {
    format: COMPONENTS_FORMAT,
    version: 1,
    name: name!,
    setVersion: setVersion!,
    licence: licence!,
    models,
    ...(description !== undefined ? { description } : {}),
  };
}

function finiteList(c: Checker, v: unknown, path: string, length: number, { positive = false } = {}): number[] | undefined {
  if (!Array.isArray(v) || v.length !== length) {
    c.fail(path, `expected a list of ${length} numbers, got ${Array.isArray(v) ? `${v.length}` : describe(v)}`);
    return undefined;
  }
  let ok = true;
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0)) {
      c.fail(`${path}[${i}]`, `expected a finite${positive ? ' positive' : ''} number, got ${describe(x)}`);
      ok = false;
    }
  });
  return ok ? (v as number[]) : undefined;
}

function checkLatent(c: Checker, v: unknown, resolution: number | undefined): LatentSpace | undefined {
  const o = c.object(v, 'latent');
  if (!o) return undefined;
  const channels = c.positiveInt(o.channels, 'latent.channels');
  const downscale = c.positiveInt(o.downscale, 'latent.downscale');
  if (downscale !== undefined && resolution !== undefined && resolution % downscale !== 0)
    c.fail('latent.downscale', `the resolution ${resolution} is not a multiple of the downscale factor ${downscale}`);
  if (channels === undefined) return undefined;
  const mean = finiteList(c, o.mean, 'latent.mean', channels);
  const std = finiteList(c, o.std, 'latent.std', channels, { positive: true });
  let preview: LatentSpace['preview'];
  if (o.preview !== undefined) {
    const p = c.object(o.preview, 'latent.preview');
    if (p) {
      const matrix = finiteList(c, p.matrix, 'latent.preview.matrix', 3 * channels);
      const bias = finiteList(c, p.bias, 'latent.preview.bias', 3);
      if (p.fitPsnrDb !== undefined && (typeof p.fitPsnrDb !== 'number' || !Number.isFinite(p.fitPsnrDb)))
        c.fail('latent.preview.fitPsnrDb', `expected a number, got ${describe(p.fitPsnrDb)}`);
      if (matrix && bias) preview = { matrix, bias, ...(typeof p.fitPsnrDb === 'number' ? { fitPsnrDb: p.fitPsnrDb } : {}) };
    }
  }
  if (downscale === undefined || !mean || !std) return undefined;
  return { channels, downscale, mean, std, ...(preview ? { preview } : {}) };
}

const UPDATE_RULES = ['mean-shift', 'dynamic-global', 'dynamic-channel'] as const;

function checkDefaults(c: Checker, v: unknown): Partial<Record<TaskId, TaskDefaults>> | undefined {
  const o = c.object(v, 'defaults');
  if (!o) return undefined;
  const out: Partial<Record<TaskId, TaskDefaults>> = {};
  for (const [task, d] of Object.entries(o)) {
    const path = `defaults.${task}`;
    if (!(TASK_IDS as readonly string[]).includes(task)) {
      c.fail(path, `unknown task (expected one of ${TASK_IDS.map((t) => `"${t}"`).join(', ')})`);
      continue;
    }
    const t = c.object(d, path);
    if (!t) continue;
    const scale = t.scale;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0)
      c.fail(`${path}.scale`, `expected a number >= 0, got ${describe(scale)}`);
    const steps = c.positiveInt(t.steps, `${path}.steps`);
    const sampler = c.oneOf(t.sampler, ['ddpm', 'ddim'] as const, `${path}.sampler`);
    const gradSteps = c.positiveInt(t.gradSteps, `${path}.gradSteps`);
    const update = t.update === undefined ? undefined : c.oneOf(t.update, UPDATE_RULES, `${path}.update`);
    let weights: Record<string, number> | undefined;
    if (t.weights !== undefined) {
      const w = c.object(t.weights, `${path}.weights`);
      if (w) {
        weights = {};
        for (const [k, x] of Object.entries(w)) {
          if (typeof x === 'number' && Number.isFinite(x)) weights[k] = x;
          else c.fail(`${path}.weights.${k}`, `expected a finite number, got ${describe(x)}`);
        }
      }
    }
    let advised: [number, number] | undefined;
    if (t.advised !== undefined) {
      const a = finiteList(c, t.advised, `${path}.advised`, 2);
      if (a && !(a[0]! >= 0 && a[0]! <= a[1]!))
        c.fail(`${path}.advised`, `expected [low, high] with 0 <= low <= high, got [${a.join(', ')}]`);
      else if (a) advised = [a[0]!, a[1]!];
    }
    const start = t.start;
    if (start !== undefined && !(typeof start === 'number' && start > 0 && start <= 1)) {
      c.fail(`${path}.start`, `expected a fraction of T in (0, 1], got ${describe(start)}`);
    }
    if (typeof scale === 'number' && steps && sampler && gradSteps)
      out[task as TaskId] = {
        scale,
        steps,
        sampler,
        gradSteps,
        ...(update ? { update } : {}),
        ...(weights ? { weights } : {}),
        ...(advised ? { advised } : {}),
        ...(typeof start === 'number' && start > 0 && start <= 1 ? { start } : {}),
      };
  }
  return out;
}

export type Precision = 'fp32' | 'fp16';

/** fp16 when the adapter has shader-f16 and the entry has an fp16 file, else fp32. */
export function pickFile(entry: ModelEntry, opts: { shaderF16: boolean }): { precision: Precision; file: ModelFile } {
  if (opts.shaderF16 && entry.files.fp16) return { precision: 'fp16', file: entry.files.fp16 };
  return { precision: 'fp32', file: entry.files.fp32 };
}

export function findRole(manifest: ModelManifest, role: ModelRole): ModelEntry | undefined {
  return manifest.models.find((m) => m.role === role);
}

/** A file's absolute URL: its path resolved against the manifest's URL (absolute paths stay). */
export function resolveFileUrl(path: string, manifestUrl: string): string {
  return new URL(path, manifestUrl).href;
}

/** The last path segment (used to match picked files and to name files in messages). */
export function fileBaseName(path: string): string {
  const clean = path.split(/[?#]/)[0] ?? path;
  const parts = clean.split(/[\\/]/);
  return parts[parts.length - 1] || clean;
}

/** The largest-tensor figure for the chosen file, or undefined when the manifest lacks it. */
export function largestTensorOf(entry: ModelEntry, precision: Precision): { bytes: number; name?: string } | undefined {
  const ext = (entry.params ?? {}) as ModelParamsExtension;
  const b = ext.largestTensorBytes;
  const bytes = typeof b === 'number' ? b : b?.[precision];
  if (typeof bytes !== 'number') return undefined;
  const n = ext.largestTensorName;
  const name = typeof n === 'string' ? n : n?.[precision];
  return typeof name === 'string' ? { bytes, name } : { bytes };
}
