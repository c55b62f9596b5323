import type {
  ColorStyle,
  LoadedModelSetInfo,
  ProgressCallback,
  RestoreRequest,
  RestoreResult,
  RgbaImage,
  RunStats,
} from '../api';
import type { ModelManifest, ModelRole } from '../models/manifest-types';
import type { Backend, RtTensor, Session } from '../runtime/backend';
import { CancelledError, EngineError, badInput } from './errors';
import {
  buildDecodedGraph,
  buildFenceGraph,
  buildGuidanceGraph,
  buildIdentityCotangentGraph,
  buildLatentPreviewGraph,
  buildLatentUpdateGraph,
  buildPixelGradientGraph,
  buildPosteriorGraph,
  buildPreviewGraph,
  sampleDims,
  needsIdentity,
  needsKeep,
  needsRestorer,
  needsY,
  type GuidancePlan,
} from './graph/graphs';
import { resizeChw } from './graph/resize';
import { blendOutsideMask, chwToRgba, featherFor, maskToChw, rgbaToChw } from './image';
import { COLOR_STYLES } from './presets';
import { seededNoise, type NoiseSource } from './rng';
import { logVarianceBounds, makeDiffusion, type Diffusion } from './schedule';

/** A model set whose files are in memory (the models module fetches, verifies and caches them). */
export interface ModelSetBytes {
  manifest: ModelManifest;
  files: Partial<Record<ModelRole, Uint8Array>>;
}

/** Extra controls for Node, tests and the benchmark (not part of the worker API). */
export interface RunOptions {
  onProgress?: ProgressCallback;
  /** checked between sampler calls: cancelling stops within one step */
  isCancelled?: () => boolean;
  /** replaces the seeded generator (CLI --noise, goldens) */
  noise?: NoiseSource;
  /** called after every sampler call with tensors read back (CLI --dump-steps, golden tests) */
  onStepDump?: (dump: StepDump) => void;
  /** sync the GPU after each phase so phase times are real (benchmark) */
  profile?: boolean;
  /** stop after this many sampler calls (benchmark) */
  maxCalls?: number;
}

export interface StepDump {
  call: number;
  index: number;
  timestep: number;
  x: Float32Array;
  x0: Float32Array;
  grad?: Float32Array;
}

const MAX_SIDE = 2048;

/** The extension point: model-based properties and the roles whose gradient graphs serve them. */
interface ModelProperty {
  weight: 'perceptual' | 'adversarial';
  role: 'perceptual' | 'discriminator';
}
const MODEL_PROPERTIES: ModelProperty[] = [
  { weight: 'perceptual', role: 'perceptual' },
  { weight: 'adversarial', role: 'discriminator' },
];
const IDENTITY_INPUT = 112;

/** Everything one restore needs, derived from the request and the loaded models. */
interface Prepared {
  plan: GuidancePlan;
  /** model-based properties in the order of plan.extraGrads */
  extraRoles: ModelProperty[];
  diffusion: Diffusion;
  steps: number;
  gradSteps: number;
  sStart: number;
  sEnd: number;
  T: number;
  scale: number;
  eta: number;
  /** blend the photo back outside the mask at the end */
  keepUnmasked: boolean;
}

/**
 * The PGDiff sampling engine: the prior, the restorer, the identity network and the guidance
 * graphs, all run through one Backend, so on WebGPU every tensor of the loop stays on the GPU.
 */
export class Engine {
  private sessions: Partial<Record<ModelRole, Session>> = {};
  private graphCache = new Map<string, Session>();
  private models: ModelSetBytes | null = null;
  private live = new Set<RtTensor>();

  constructor(readonly backend: Backend) {}

  get manifest(): ModelManifest | null {
    return this.models?.manifest ?? null;
  }

  async load(models: ModelSetBytes, onProgress?: ProgressCallback): Promise<LoadedModelSetInfo> {
    await this.unload();
    const m = models.manifest;
    const roles = ['prior', 'restorer', 'identity', 'identity-vjp', 'perceptual', 'discriminator', 'decoder', 'decoder-vjp'] as const;
    for (const role of roles) {
      const bytes = models.files[role];
      if (!bytes) continue;
      onProgress?.({ status: 'load', role, file: role });
      this.sessions[role] = await this.backend.createSession(bytes, role);
    }
    if (!this.sessions.prior) throw new EngineError('invalid-model', `Model set "${m.name}" has no prior.`);
    if (m.latent && !(this.sessions.decoder && this.sessions['decoder-vjp'])) {
      throw new EngineError('invalid-model', `Model set "${m.name}" samples latents but its decoder or decoder-vjp file is missing.`);
    }
    this.models = models;
    onProgress?.({ status: 'ready', modelSet: m.name, backend: this.backend.kind });
    return {
      name: m.name,
      version: m.setVersion,
      resolution: m.resolution,
      roles: m.models.map((e) => e.role),
      licence: m.licence,
      totalBytes: Object.values(models.files).reduce((a, b) => a + (b?.byteLength ?? 0), 0),
      backend: this.backend.kind,
      template: m.alignment.template,
      ...(m.latent ? { latent: { channels: m.latent.channels, size: m.resolution / m.latent.downscale } } : {}),
      ...(m.defaults ? { defaults: m.defaults } : {}),
      ...(m.testOnly ? { testOnly: true } : {}),
    };
  }

  /** Release every session and graph (GPU memory). The engine can load again afterwards. */
  async unload(): Promise<void> {
    this.releaseLive();
    for (const s of Object.values(this.sessions)) await s?.dispose();
    for (const s of this.graphCache.values()) await s.dispose();
    this.sessions = {};
    this.graphCache.clear();
    this.models = null;
  }

  async dispose(): Promise<void> {
    await this.unload();
    await this.backend.dispose();
  }

  /** Tensors this engine still holds (0 after a run: GPU memory released). */
  get liveTensors(): number {
    return this.live.size;
  }

  private track<T extends RtTensor>(t: T): T {
    this.live.add(t);
    return t;
  }

  private free(...ts: (RtTensor | undefined | null)[]): void {
    for (const t of ts) {
      if (!t) continue;
      if (this.live.delete(t)) t.dispose();
    }
  }

  private releaseLive(): void {
    for (const t of this.live) t.dispose();
    this.live.clear();
  }

  private async graph(key: string, build: () => Uint8Array): Promise<Session> {
    const hit = this.graphCache.get(key);
    if (hit) return hit;
    const s = await this.backend.createSession(build(), `graph:${key.split('|')[0]}`);
    this.graphCache.set(key, s);
    return s;
  }

  private async runOne(s: Session, feeds: Record<string, RtTensor>): Promise<Record<string, RtTensor>> {
    const out = await s.run(feeds);
    for (const t of Object.values(out)) this.track(t);
    return out;
  }

  private prepare(req: RestoreRequest): Prepared {
    const models = this.models;
    if (!models) throw new EngineError('no-model', 'No model set is loaded.');
    const m = models.manifest;
    const { image } = req;
    if (!image || !image.data || typeof image.data.length !== 'number') {
      throw badInput('The photo is missing or is not RGBA pixel data.');
    }
    if (image.data.length !== image.width * image.height * 4) {
      throw badInput(`The photo's pixel data has ${image.data.length} bytes; ${image.width}x${image.height} RGBA needs ${image.width * image.height * 4}.`);
    }
    // a latent prior downsamples the latent grid twice more: sides must be multiples of 4 cells
    const multiple = m.latent ? m.latent.downscale * 4 : 8;
    if (image.width % multiple !== 0 || image.height % multiple !== 0 || image.width < 2 * multiple || image.height < 2 * multiple) {
      throw badInput(`The face crop is ${image.width}x${image.height}; the prior needs sides that are multiples of ${multiple} (the model set's size is ${m.resolution}x${m.resolution}).`);
    }
    if (image.width > MAX_SIDE || image.height > MAX_SIDE) {
      throw badInput(`The face crop is ${image.width}x${image.height}; at most ${MAX_SIDE} pixels a side are supported.`);
    }
    if (req.mask && (req.mask.width !== image.width || req.mask.height !== image.height)) {
      throw badInput(`The mask is ${req.mask.width}x${req.mask.height} but the photo is ${image.width}x${image.height}; they must match.`);
    }
    const gs = req.guidance;
    for (const [k, v] of Object.entries({ scale: gs.scale, sStart: gs.sStart, sEnd: gs.sEnd, gradSteps: gs.gradSteps, ...gs.weights })) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw badInput(`Guidance setting "${k}" is ${String(v)}; it must be a finite number.`);
    }
    if (!Number.isInteger(gs.gradSteps) || gs.gradSteps < 1 || gs.gradSteps > 20) {
      throw badInput(`N (gradient steps) must be an integer from 1 to 20, got ${gs.gradSteps}.`);
    }
    const weights = {
      unmasked: gs.weights.unmasked ?? 0,
      lightness: gs.weights.lightness ?? 0,
      color: gs.weights.color ?? 0,
      smooth: gs.weights.smooth ?? 0,
      identity: gs.weights.identity ?? 0,
      restorerLightness: gs.weights.restorerLightness ?? 0,
    };
    const extraRoles = MODEL_PROPERTIES.filter((mp) => (gs.weights[mp.weight] ?? 0) !== 0);
    for (const mp of extraRoles) {
      if (!this.sessions[mp.role]) {
        throw new EngineError('no-model', `Model set "${m.name}" has no ${mp.role} model, which the ${mp.weight} property needs.`);
      }
    }
    const useIdentity = weights.identity !== 0;
    if (useIdentity && !(this.sessions.identity && this.sessions['identity-vjp'])) {
      throw new EngineError('no-model', `Model set "${m.name}" has no identity network, which the identity property needs.`);
    }
    if (useIdentity && !(req.references && req.references.length > 0)) {
      throw badInput('The identity property needs at least one reference photo of the same person.');
    }
    if ((weights.smooth > 0 || weights.restorerLightness > 0) && !this.sessions.restorer) {
      throw new EngineError('no-model', `Model set "${m.name}" has no restorer, which this task needs.`);
    }
    if (weights.unmasked > 0 && !req.mask) {
      // without a mask every pixel is "unmasked": allowed, but it reproduces the input
    }
    let diffusion: Diffusion;
    try {
      diffusion = makeDiffusion(m.diffusion.schedule, m.diffusion.steps, req.sampler.steps);
    } catch (err) {
      throw badInput(`Steps "${String(req.sampler.steps)}": ${(err as Error).message}.`);
    }
    const priorOut = models.manifest.models.find((e) => e.role === 'prior')?.outputs[0]?.shape[1];
    const learnedRange = m.diffusion.variance === 'learned-range';
    const C = m.latent?.channels ?? 3;
    const priorChannels = typeof priorOut === 'number' && priorOut > 0 ? priorOut : learnedRange ? 2 * C : C;
    const latent = m.latent
      ? {
          C,
          h: image.height / m.latent.downscale,
          w: image.width / m.latent.downscale,
          mean: m.latent.mean,
          std: m.latent.std,
        }
      : undefined;
    const style: ColorStyle = gs.style ?? (COLOR_STYLES[0] as ColorStyle);
    const plan: GuidancePlan = {
      H: image.height,
      W: image.width,
      weights,
      update: gs.update,
      sampler: req.sampler.kind,
      hasMask: !!req.mask,
      zeroGradInMask: gs.zeroGradInMask,
      style,
      idSize: useIdentity ? this.identityInputSize() : 0,
      learnedRange,
      priorChannels,
      emitGrad: false,
      extraGrads: extraRoles.map((mp) => gs.weights[mp.weight] as number),
      ...(latent ? { latent } : {}),
    };
    return {
      plan,
      extraRoles,
      diffusion,
      steps: diffusion.timesteps.length,
      gradSteps: gs.gradSteps,
      sStart: gs.sStart,
      sEnd: gs.sEnd,
      T: m.diffusion.steps,
      scale: gs.scale,
      eta: req.sampler.eta ?? 0,
      keepUnmasked: !!req.mask && (req.keepUnmasked ?? weights.unmasked > 0),
    };
  }

  private identityInputSize(): number {
    const entry = this.models?.manifest.models.find((e) => e.role === 'identity');
    const s = entry?.inputs[0]?.shape[2];
    return typeof s === 'number' && s > 0 ? s : IDENTITY_INPUT;
  }

  /** Number of prior calls a request makes (for ETA and progress totals). */
  countCalls(req: RestoreRequest): number {
    const p = this.prepare(req);
    return this.callsFor(p);
  }

  private callsFor(p: Prepared): number {
    let n = 0;
    for (const t of p.diffusion.timesteps) n += this.repeatsAt(p, t);
    return n;
  }

  /** N gradient steps inside the window, read as fractions of the FULL schedule (see docs). */
  private repeatsAt(p: Prepared, tOrig: number): number {
    if (p.gradSteps <= 1) return 1;
    // the reference truncates the bounds with int()
    return tOrig < Math.trunc(p.sStart * p.T) && tOrig > Math.trunc(p.sEnd * p.T) ? p.gradSteps : 1;
  }

  async restore(req: RestoreRequest, opts: RunOptions = {}): Promise<RestoreResult> {
    const prep = this.prepare(req);
    const dumping = !!opts.onStepDump;
    prep.plan.emitGrad = dumping;
    const variants = Math.max(1, Math.min(8, Math.floor(req.variants ?? 1)));
    const images: RgbaImage[] = [];
    let restorerEstimate: RgbaImage | undefined;
    const started = now();
    this.backend.resetReadbacks();
    const phaseMs: Record<string, number> = { prior: 0, posterior: 0, restorer: 0, identity: 0, models: 0, guidance: 0, preview: 0 };
    let priorCalls = 0;
    let readbackBytesBetweenSteps = 0;
    let largestReadbackBetweenSteps = 0;
    try {
      for (let v = 0; v < variants; v++) {
        const noise = opts.noise ?? seededNoise(req.sampler.seed + v);
        const out = await this.sampleOne(req, prep, noise, v, variants, opts, phaseMs, started);
        priorCalls += out.priorCalls;
        readbackBytesBetweenSteps += this.backend.readbacks.elements * 4;
        largestReadbackBetweenSteps = Math.max(largestReadbackBetweenSteps, this.backend.readbacks.largest);
        this.backend.resetReadbacks();
        images.push(out.image);
        if (out.restorer) restorerEstimate = out.restorer;
      }
    } finally {
      this.releaseLive();
    }
    const totalMs = now() - started;
    opts.onProgress?.({ status: 'done', elapsedMs: totalMs });
    const stats: RunStats = {
      backend: this.backend.kind,
      steps: prep.steps,
      priorCalls,
      totalMs,
      phaseMs,
      readbackBytesBetweenSteps,
      largestReadbackBetweenSteps,
    };
    return { images, ...(restorerEstimate ? { restorerEstimate } : {}), stats };
  }

  private async sampleOne(
    req: RestoreRequest,
    p: Prepared,
    noise: NoiseSource,
    variant: number,
    variants: number,
    opts: RunOptions,
    phaseMs: Record<string, number>,
    started: number,
  ): Promise<{ image: RgbaImage; restorer?: RgbaImage; priorCalls: number }> {
    const { plan, diffusion } = p;
    const H = plan.H;
    const W = plan.W;
    const pixDims = [1, 3, H, W];
    // x_t: the image (pixel sets) or its normalised latent (latent sets)
    const [C, h, w] = sampleDims(plan);
    const size = C * h * w;
    const dims = [1, C, h, w];
    const latent = plan.latent;
    const be = this.backend;
    const prior = this.sessions.prior as Session;
    const priorIn = prior.inputNames;
    const key = `${H}x${W}|${JSON.stringify(plan)}`;
    const posterior = await this.graph(`posterior|${key}`, () => buildPosteriorGraph(plan));
    const guidance = latent ? null : await this.graph(`guidance|${key}`, () => buildGuidanceGraph(plan));
    // latent sets decode x0_hat each step only when some property needs pixels
    const guided = !latent || this.isGuided(plan, p);
    const pixGrad = latent && guided ? await this.graph(`pixgrad|${key}`, () => buildPixelGradientGraph(plan)) : null;
    const decoded = latent && guided ? await this.graph(`decoded|${key}`, () => buildDecodedGraph(plan)) : null;
    const update = latent ? await this.graph(`update|${key}`, () => buildLatentUpdateGraph(plan)) : null;
    const previewSize = Math.min(req.previewSize ?? 128, H, W);
    const latentPreview = latent && !guided ? this.models?.manifest.latent?.preview : undefined;
    const preview = !req.previewEvery
      ? null
      : latentPreview
        ? await this.graph(`lpreview|${key}|${previewSize}`, () => buildLatentPreviewGraph(plan, previewSize, latentPreview.matrix, latentPreview.bias))
        : guided
          ? await this.graph(`preview|${H}x${W}|${previewSize}`, () => buildPreviewGraph(H, W, previewSize))
          : null;
    const fence = opts.profile
      ? (t: RtTensor) => this.graph(`fence|${t.dims.join('x')}`, () => buildFenceGraph(t.dims))
      : null;
    const timed = async <T>(phase: string, fn: () => Promise<T>, syncOn?: (r: T) => RtTensor | undefined): Promise<T> => {
      const t0 = now();
      const r = await fn();
      if (fence && syncOn) {
        const t = syncOn(r);
        if (t) {
          const f = await (await fence(t)).run({ x: t });
          await be.sync(f.sum as RtTensor);
          (f.sum as RtTensor).dispose();
        }
      }
      phaseMs[phase] = (phaseMs[phase] ?? 0) + (now() - t0);
      return r;
    };

    // Static inputs go to the device once per run.
    const yData = rgbaToChw(req.image);
    const y = this.track(be.tensor(yData, pixDims));
    let keep: RtTensor | undefined;
    if (needsKeep(plan) && req.mask) {
      const m = maskToChw(req.mask);
      const k = new Float32Array(m.length);
      for (let i = 0; i < m.length; i++) k[i] = m[i] === 0 ? 1 : 0;
      keep = this.track(be.tensor(k, pixDims));
    }
    // unguided latent runs still go through the update graph, with a zero gradient
    const zeroGrad = latent && !guided ? this.track(be.tensor(new Float32Array(size), dims)) : undefined;
    // a restorer that reads only y gives the same estimate at every step: run it once
    const restorerOnce = needsRestorer(plan) && this.restorerReadsOnlyY();
    let fOnce: RtTensor | undefined;
    if (restorerOnce) fOnce = await timed('restorer', () => this.runRestorer(y, y, y), (t) => t);
    let refEmbedding: RtTensor | undefined;
    let cotangent: Session | undefined;
    if (needsIdentity(plan)) {
      refEmbedding = await this.referenceEmbedding(req.references ?? [], plan.idSize);
      const dim = refEmbedding.dims[1] as number;
      const loss = req.guidance.identityLoss ?? 'mse';
      cotangent = await this.graph(`idcot|${dim}|${plan.weights.identity}|${loss}`, () =>
        buildIdentityCotangentGraph(dim, plan.weights.identity, loss),
      );
    }

    const xInit = noise.next(size);
    assertFinite(xInit, 'initial noise');
    let x = this.track(be.tensor(xInit, dims));
    const total = this.callsFor(p);
    let call = 0;
    let lastF: RtTensor | undefined;
    const maxCalls = opts.maxCalls ?? Infinity;

    for (let i = p.steps - 1; i >= 0 && call < maxCalls; i--) {
      const tOrig = diffusion.timesteps[i] as number;
      const tTensor = be.int64([tOrig]);
      const varBounds = logVarianceBounds(diffusion, i, this.models?.manifest.diffusion.variance ?? 'fixed-large');
      const coef = be.tensor(
        Float32Array.from([
          diffusion.sqrtRecipAlphasCumprod[i] as number,
          diffusion.sqrtRecipm1AlphasCumprod[i] as number,
          diffusion.posteriorMeanCoef1[i] as number,
          diffusion.posteriorMeanCoef2[i] as number,
          varBounds.minLog,
          varBounds.maxLog,
        ]),
        [6],
      );
      const abar = diffusion.alphasCumprod[i] as number;
      const abarPrev = diffusion.alphasCumprodPrev[i] as number;
      const sigma = p.eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
      const params = be.tensor(
        Float32Array.from([
          p.scale,
          i === 0 ? 0 : 1,
          diffusion.sqrtRecipAlphasCumprod[i] as number,
          diffusion.sqrtRecipm1AlphasCumprod[i] as number,
          Math.sqrt(1 - abar),
          Math.sqrt(abarPrev),
          Math.sqrt(Math.max(0, 1 - abarPrev - sigma * sigma)),
          sigma,
        ]),
        [8],
      );
      // the restorer's smooth estimate is computed once per timestep and reused by the N repeats
      let f: RtTensor | undefined;
      const repeats = this.repeatsAt(p, tOrig);
      for (let r = 0; r < repeats && call < maxCalls; r++) {
        // give the event loop a turn so a cancel message (a macrotask) is seen between steps:
        // a chain of awaited runs is all microtasks and would starve it
        await yieldToEventLoop();
        if (opts.isCancelled?.()) throw new CancelledError();
        const priorFeeds: Record<string, RtTensor> = {};
        priorFeeds[priorIn[0] ?? 'x'] = x;
        priorFeeds[priorIn[1] ?? 't'] = tTensor;
        const pOut = await timed('prior', () => this.runOne(prior, priorFeeds), (o) => Object.values(o)[0]);
        const priorOut = Object.values(pOut)[0] as RtTensor;
        const post = await timed('posterior', () => this.runOne(posterior, { x, out: priorOut, coef }), (o) => o.x0);
        this.free(priorOut);
        // x0_hat in pixels: the posterior's own (pixel sets) or the decoded latent (latent sets)
        let pix: Record<string, RtTensor> = post;
        if (decoded) {
          const image = await timed('decoder', () => this.runDecoder(post.z0raw as RtTensor), (t) => t);
          pix = await this.runOne(decoded, { image });
          this.free(image);
        }
        if (needsRestorer(plan) && !f) {
          f = fOnce ?? (await timed('restorer', () => this.runRestorer(latent ? (pix.x0 as RtTensor) : x, y, tTensor), (t) => t));
        }
        let gid: RtTensor | undefined;
        if (needsIdentity(plan) && cotangent && refEmbedding) {
          gid = await timed('identity', () => this.identityGradient(pix.x0id as RtTensor, refEmbedding as RtTensor, cotangent as Session), (t) => t);
        }
        const gext: RtTensor[] = [];
        for (const mp of p.extraRoles) {
          gext.push(await timed('models', () => this.runGradientModel(mp.role, pix.x0 as RtTensor, y), (t) => t));
        }
        const noiseData = noise.next(size);
        assertFinite(noiseData, 'noise');
        const nz = this.track(be.tensor(noiseData, dims));
        const propertyFeeds: Record<string, RtTensor> = {};
        if (needsY(plan)) propertyFeeds.y = y;
        if (keep) propertyFeeds.keep = keep;
        if (f) propertyFeeds.f = f;
        if (gid) propertyFeeds.gid = gid;
        gext.forEach((t, k) => (propertyFeeds[`gext${k}`] = t));
        const updateFeeds: Record<string, RtTensor> = {
          x0: post.x0 as RtTensor,
          mean: post.mean as RtTensor,
          logvar: post.logvar as RtTensor,
          x,
          noise: nz,
          params,
        };
        let g: Record<string, RtTensor>;
        let graw: RtTensor | undefined;
        if (guidance) {
          g = await timed('guidance', () => this.runOne(guidance, { ...updateFeeds, ...propertyFeeds }), (o) => o.next);
        } else {
          if (pixGrad) {
            const gp = await timed('guidance', () => this.runOne(pixGrad, { x0: pix.x0 as RtTensor, ...propertyFeeds }), (o) => o.gpix);
            graw = await timed('decoder-vjp', () => this.runDecoderVjp(post.z0raw as RtTensor, gp.gpix as RtTensor), (t) => t);
            this.free(gp.gpix);
          }
          g = await timed('update', () => this.runOne(update as Session, { ...updateFeeds, graw: graw ?? (zeroGrad as RtTensor) }), (o) => o.next);
        }
        const next = g.next as RtTensor;
        if (opts.onStepDump) {
          opts.onStepDump({
            call,
            index: i,
            timestep: tOrig,
            x: await be.read(next, false),
            x0: await be.read(post.x0 as RtTensor, false),
            ...(g.grad ? { grad: await be.read(g.grad, false) } : {}),
          });
        }
        call += 1;
        const every = req.previewEvery ?? 0;
        let previewImg: RgbaImage | undefined;
        if (preview && every > 0 && (call % every === 0 || call === total)) {
          const pv = await timed('preview', () => this.runOne(preview, { x: (latentPreview ? post.x0 : pix.x0) as RtTensor }));
          const data = await be.read(pv.preview as RtTensor);
          previewImg = chwToRgba(data, previewSize, previewSize);
          this.free(pv.preview);
        }
        this.free(x, nz, post.x0, post.mean, post.logvar, post.x0id, post.z0raw, gid, g.grad, graw, ...gext);
        if (pix !== post) this.free(pix.x0, pix.x0id);
        x = next;
        const elapsed = now() - started;
        const done = variant * total + call;
        const all = variants * total;
        opts.onProgress?.({
          status: 'step',
          variant,
          step: call,
          total,
          elapsedMs: elapsed,
          etaMs: (elapsed / done) * (all - done),
          ...(previewImg ? { preview: previewImg } : {}),
        });
      }
      if (f && f !== fOnce) {
        if (i === 0 || call >= maxCalls) {
          lastF = f;
        } else {
          this.free(f);
        }
      }
      tTensor.dispose();
      coef.dispose();
      params.dispose();
    }
    // the final reads are the result, not between-steps readbacks
    const result = latent ? await this.decodeFinal(x, plan) : await be.read(x, false);
    let restorerImg: RgbaImage | undefined;
    lastF ??= fOnce;
    if (lastF) {
      const fData = await be.read(lastF, false);
      restorerImg = chwToRgba(fData.map((v) => Math.max(-1, Math.min(1, v))), W, H);
    }
    this.free(x, y, keep, refEmbedding, lastF, zeroGrad, fOnce);
    let image = chwToRgba(result, W, H);
    if (p.keepUnmasked && req.mask) image = blendOutsideMask(image, req.image, req.mask, featherFor(W, H));
    return { image, ...(restorerImg ? { restorer: restorerImg } : {}), priorCalls: call };
  }

  /** Whether any property is active (otherwise a latent run never needs pixels before the end). */
  private isGuided(plan: GuidancePlan, p: Prepared): boolean {
    const w = plan.weights;
    return Object.values(w).some((v) => v !== 0) || p.extraRoles.length > 0;
  }

  private restorerReadsOnlyY(): boolean {
    const s = this.sessions.restorer;
    return !!s && s.inputNames.every((n) => Y_NAMES.has(n));
  }

  /** The final latent, denormalised and decoded at full resolution, clamped to [-1, 1]. */
  private async decodeFinal(x: RtTensor, plan: GuidancePlan): Promise<Float32Array> {
    const L = plan.latent as NonNullable<GuidancePlan['latent']>;
    // a copy: on CPU backends read() may hand back the tensor's own buffer
    const z = Float32Array.from(await this.backend.read(x, false));
    const n = L.h * L.w;
    for (let c = 0; c < L.C; c++) {
      const s = L.std[c] as number;
      const m = L.mean[c] as number;
      for (let i = c * n; i < (c + 1) * n; i++) z[i] = (z[i] as number) * s + m;
    }
    const zt = this.track(this.backend.tensor(z, [1, L.C, L.h, L.w]));
    const img = await this.runDecoder(zt);
    const out = await this.backend.read(img, false);
    this.free(zt, img);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i] as number));
    return out;
  }

  private ioNames(role: ModelRole): string[] {
    const s = this.sessions[role] as Session;
    const entry = this.models?.manifest.models.find((e) => e.role === role);
    const names = entry?.inputs.map((t) => t.name) ?? [];
    return names.every((n) => s.inputNames.includes(n)) && names.length === s.inputNames.length ? names : [...s.inputNames];
  }

  private async runDecoder(z: RtTensor): Promise<RtTensor> {
    const s = this.sessions.decoder as Session;
    const [name] = this.ioNames('decoder');
    const out = await this.runOne(s, { [name ?? 'latent']: z });
    return Object.values(out)[0] as RtTensor;
  }

  /** Latent gradient (raw latents) of <gpix, decoder(z)>, on the device. */
  private async runDecoderVjp(z: RtTensor, gpix: RtTensor): Promise<RtTensor> {
    const s = this.sessions['decoder-vjp'] as Session;
    const [zName, cName] = this.ioNames('decoder-vjp');
    const out = await this.runOne(s, { [zName ?? 'input']: z, [cName ?? 'cotangent']: gpix });
    const grad = out.grad_input ?? Object.values(out)[0];
    for (const t of Object.values(out)) if (t !== grad) this.free(t);
    return grad as RtTensor;
  }

  /** A model-based property's gradient graph: (x0 [, y]) -> dL/dx0. */
  private async runGradientModel(role: ModelRole, x0: RtTensor, y: RtTensor): Promise<RtTensor> {
    const s = this.sessions[role] as Session;
    const feeds: Record<string, RtTensor> = {};
    for (const name of s.inputNames) feeds[name] = name === 'y' ? y : x0;
    const out = await this.runOne(s, feeds);
    const grad = out.grad ?? Object.values(out)[0];
    for (const t of Object.values(out)) if (t !== grad) this.free(t);
    return grad as RtTensor;
  }

  private async runRestorer(x: RtTensor, y: RtTensor, t: RtTensor): Promise<RtTensor> {
    const s = this.sessions.restorer as Session;
    const feeds: Record<string, RtTensor> = {};
    for (const name of s.inputNames) {
      if (Y_NAMES.has(name)) feeds[name] = y;
      else if (name === 't' || name === 'timestep') feeds[name] = t;
      else feeds[name] = x;
    }
    const out = await this.runOne(s, feeds);
    return Object.values(out)[0] as RtTensor;
  }

  /** Gradient of the weighted identity loss w.r.t. the resized x0_hat, on the device. */
  private async identityGradient(x0id: RtTensor, ref: RtTensor, cot: Session): Promise<RtTensor> {
    const id = this.sessions.identity as Session;
    const vjp = this.sessions['identity-vjp'] as Session;
    const e = Object.values(await this.runOne(id, { [id.inputNames[0] ?? 'input']: x0id }))[0] as RtTensor;
    const v = (await this.runOne(cot, { e, r: ref })).v as RtTensor;
    const feeds: Record<string, RtTensor> = {};
    for (const name of vjp.inputNames) feeds[name] = /cot/i.test(name) ? v : x0id;
    const out = await this.runOne(vjp, feeds);
    this.free(e, v);
    const grad = out.grad_input ?? Object.values(out)[0];
    for (const [k, t] of Object.entries(out)) if (t !== grad) this.free(out[k]);
    return grad as RtTensor;
  }

  /** Mean embedding of the reference photos (each resized to the network's input). */
  private async referenceEmbedding(refs: RgbaImage[], s: number): Promise<RtTensor> {
    const id = this.sessions.identity as Session;
    let sum: Float32Array | null = null;
    for (const ref of refs) {
      const chw = resizeChw(rgbaToChw(ref), 3, ref.height, ref.width, s, s);
      const input = this.backend.tensor(chw, [1, 3, s, s]);
      const out = Object.values(await this.runOne(id, { [id.inputNames[0] ?? 'input']: input }))[0] as RtTensor;
      // one small read per request (the reference's embedding), not per step
      const e = await this.backend.read(out, false);
      this.free(out);
      if (!sum) sum = new Float32Array(e.length);
      for (let i = 0; i < e.length; i++) sum[i] = (sum[i] as number) + (e[i] as number) / refs.length;
    }
    const emb = sum as Float32Array;
    return this.track(this.backend.tensor(emb, [1, emb.length]));
  }
}

/** Input names under which restorers take the degraded photo y. */
const Y_NAMES = new Set(['y', 'y_t', 'lq']);

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function assertFinite(a: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i] as number)) throw badInput(`The ${what} contains NaN or infinite values (index ${i}).`);
  }
}
