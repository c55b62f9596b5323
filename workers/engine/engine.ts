import type { ProgressCallback, RestoreRequest, RestoreResult, RgbaImage, RunStats } from '../api';
import type { ModelSetBytes } from '../models/loader';
import { COMPONENT_ROLES, MODEL_ROLES } from '../models/manifest';
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
  weightInput,
  type StepScalars,
} from './graph/graphs';
import { blendOutsideMask, chwToRgba, withLightnessOf } from './image';
import { resolveModelIo, type ModelIo, type Slot } from './model-io';
import { planRun, repeatsOf, stepScalars, type RunPlan } from './plan';
import { seededNoise, type NoiseSource } from './rng';

// a model set whose files are in memory: the models module fetches, verifies and caches them
export type { ModelSetBytes };

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

/** The roles a model set's own files play; components (face detector, upscalers) load elsewhere. */
const ROLES = MODEL_ROLES.filter((r) => !COMPONENT_ROLES.includes(r));

/** The compiled graphs one run uses (null where the plan needs none). */
interface RunGraphs {
  posterior: Session;
  /** pixel sets: the properties' gradient and the update rule in one graph */
  guidance: Session | null;
  /** latent sets: decoded x0_hat, its pixel gradient, and the update rule on the latent */
  decoded: Session | null;
  pixGrad: Session | null;
  update: Session | null;
  cotangent: Session | null;
  preview: Session | null;
}

/** Device tensors that stay the same for the whole run (every variant). */
interface RunInputs {
  /** the photo y, the keep mask, the property weights and colour style, keyed by graph input name */
  graphInputs: Record<string, RtTensor>;
  /** the restorer's estimate when it reads only y (computed once) */
  fOnce?: RtTensor;
  refEmbedding?: RtTensor;
  /** unguided latent runs still go through the update graph, with a zero gradient */
  zeroGrad?: RtTensor;
  /** a start below T: the clean estimate the chain starts from, in the sample's space (normalised latent or pixels) */
  startFrom?: Float32Array;
}

/** One restore in progress: the plan, its graphs and inputs, the caller's options and the counters. */
interface Run {
  plan: RunPlan;
  graphs: RunGraphs;
  inputs: RunInputs;
  opts: RunOptions;
  phaseMs: Record<string, number>;
  started: number;
  /** input names any graph of the run reads: only these step scalars are uploaded */
  scalarNames: (keyof StepScalars)[];
  /** benchmark: a tiny graph whose result is read to wait for the GPU after each phase */
  fence: ((t: RtTensor) => Promise<Session>) | null;
}

/**
 * The PGDiff sampling engine: the prior, the restorer, the identity network and the guidance
 * graphs, all run through one Backend, so on WebGPU every tensor of the loop stays on the GPU.
 */
export class Engine {
  private sessions: Partial<Record<ModelRole, Session>> = {};
  private io: ModelIo = {};
  private graphCache = new Map<string, Session>();
  private models: ModelSetBytes | null = null;
  private live = new Set<RtTensor>();

  constructor(readonly backend: Backend) {}

  get manifest(): ModelManifest | null {
    return this.models?.manifest ?? null;
  }

  /** Sessions for every model of the set; what the app shows about the set comes from the loader. */
  async load(models: ModelSetBytes, onProgress?: ProgressCallback): Promise<void> {
    await this.unload();
    const m = models.manifest;
    try {
      for (const role of ROLES) {
        const bytes = models.files[role];
        if (!bytes) continue;
        onProgress?.({ status: 'load', role, file: role });
        this.sessions[role] = await this.backend.createSession(bytes, role);
      }
      if (!this.sessions.prior) throw new EngineError('invalid-model', `Model set "${m.name}" has no prior.`);
      if (m.latent && !(this.sessions.decoder && this.sessions['decoder-vjp'])) {
        throw new EngineError('invalid-model', `Model set "${m.name}" samples latents but its decoder or decoder-vjp file is missing.`);
      }
      // every model's input and output names, from the manifest, checked once here
      this.io = resolveModelIo(m, this.sessions);
    } catch (err) {
      await this.unload();
      throw err;
    }
    this.models = models;
    onProgress?.({ status: 'ready', modelSet: m.name, backend: this.backend.kind });
  }

  /** Release every session and graph (GPU memory). The engine can load again afterwards. */
  async unload(): Promise<void> {
    this.releaseLive();
    for (const s of Object.values(this.sessions)) await s?.dispose();
    for (const s of this.graphCache.values()) await s.dispose();
    this.sessions = {};
    this.io = {};
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

  /** Guidance graphs compiled and kept (one per shape and property set; slider values do not add any). */
  get compiledGraphs(): number {
    return this.graphCache.size;
  }

  /** The request validated and resolved against the loaded set (throws bad-input / no-model). */
  plan(req: RestoreRequest, opts: { emitGrad?: boolean } = {}): RunPlan {
    const models = this.models;
    if (!models) throw new EngineError('no-model', 'No model set is loaded.');
    return planRun(req, { manifest: models.manifest, io: this.io }, opts);
  }

  /** Number of prior calls a request makes per variant (for ETA and progress totals). */
  countCalls(req: RestoreRequest): number {
    return this.plan(req).callsPerVariant;
  }

  async restore(req: RestoreRequest, opts: RunOptions = {}): Promise<RestoreResult> {
    const plan = this.plan(req, { emitGrad: !!opts.onStepDump });
    const started = now();
    this.backend.resetReadbacks();
    const phaseMs: Record<string, number> = { prior: 0, posterior: 0, restorer: 0, identity: 0, models: 0, guidance: 0, preview: 0 };
    const images: RgbaImage[] = [];
    let restorerEstimate: RgbaImage | undefined;
    let priorCalls = 0;
    let readbackBytesBetweenSteps = 0;
    let largestReadbackBetweenSteps = 0;
    try {
      const graphs = await this.graphsFor(plan);
      const fence = opts.profile ? (t: RtTensor) => this.graph(`fence|${t.dims.join('x')}`, () => buildFenceGraph(t.dims)) : null;
      const run: Run = { plan, graphs, opts, phaseMs, started, fence, scalarNames: scalarNamesOf(graphs), inputs: { graphInputs: {} } };
      run.inputs = await this.runInputs(run);
      for (let v = 0; v < plan.variants; v++) {
        const out = await this.sampleOne(run, v, opts.noise ?? seededNoise(plan.seed + v));
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
      steps: plan.diffusion.timesteps.length,
      priorCalls,
      totalMs,
      phaseMs,
      readbackBytesBetweenSteps,
      largestReadbackBetweenSteps,
    };
    return { images, ...(restorerEstimate ? { restorerEstimate } : {}), stats };
  }

  /** The graphs a plan needs, from the cache when the shape and property set were seen before. */
  private async graphsFor(plan: RunPlan): Promise<RunGraphs> {
    const spec = plan.graphs;
    const key = JSON.stringify(spec);
    const latent = !!spec.latent;
    const { every, size, from } = plan.preview;
    const lp = plan.latentPreview;
    const graphs: RunGraphs = {
      posterior: await this.graph(`posterior|${key}`, () => buildPosteriorGraph(spec)),
      guidance: latent ? null : await this.graph(`guidance|${key}`, () => buildGuidanceGraph(spec)),
      decoded: latent && plan.guided ? await this.graph(`decoded|${key}`, () => buildDecodedGraph(spec)) : null,
      pixGrad: latent && plan.guided ? await this.graph(`pixgrad|${key}`, () => buildPixelGradientGraph(spec)) : null,
      update: latent ? await this.graph(`update|${key}`, () => buildLatentUpdateGraph(spec)) : null,
      cotangent: null,
      preview: null,
    };
    if (every > 0 && from === 'latent' && lp) {
      graphs.preview = await this.graph(`lpreview|${key}|${size}`, () => buildLatentPreviewGraph(spec, size, lp.matrix, lp.bias));
    } else if (every > 0 && from === 'x0') {
      graphs.preview = await this.graph(`preview|${spec.H}x${spec.W}|${size}`, () => buildPreviewGraph(spec.H, spec.W, size));
    }
    return graphs;
  }

  /** Uploads what stays fixed for the run: the photo, the mask, the weights and style, the reference embedding. */
  private async runInputs(run: Run): Promise<RunInputs> {
    const { plan } = run;
    const be = this.backend;
    const { H, W } = plan.graphs;
    const scalar = (v: number) => this.track(be.tensor(Float32Array.from([v]), [1]));
    const y = this.track(be.tensor(plan.y, [1, 3, H, W]));
    const graphInputs: Record<string, RtTensor> = { y };
    if (plan.keep) graphInputs.keep = this.track(be.tensor(plan.keep, [1, 3, H, W]));
    for (const term of plan.graphs.terms) graphInputs[weightInput(term)] = scalar(plan.weights[term]);
    plan.extras.forEach((e, k) => (graphInputs[weightInput(`gext${k}`)] = scalar(e.weight)));
    if (plan.graphs.terms.includes('color')) {
      graphInputs.styleMean = this.track(be.tensor(Float32Array.from(plan.style.mean), [1, 3, 1, 1]));
      graphInputs.styleStd = this.track(be.tensor(Float32Array.from(plan.style.std), [1, 3, 1, 1]));
    }
    const inputs: RunInputs = { graphInputs };
    if (plan.graphs.latent && !plan.guided) {
      const [C, h, w] = sampleDims(plan.graphs);
      inputs.zeroGrad = this.track(be.tensor(new Float32Array(C * h * w), [1, C, h, w]));
    }
    if (plan.restorer === 'once') {
      inputs.fOnce = await this.timed(
        run,
        'restorer',
        () => this.runRole('restorer', { photo: y }),
        (t) => t,
      );
    }
    if (plan.start.from !== 'noise') inputs.startFrom = await this.startEstimate(run, inputs, y);
    if (plan.latentBlend && plan.graphs.latent) {
      const { C, h, w } = plan.graphs.latent;
      // a start from the photo (with a mask: the same hole-filled photo) has encoded it already
      let z = plan.start.from === 'photo' ? inputs.startFrom : undefined;
      if (!z) {
        const photo = this.track(be.tensor(plan.latentBlend.photo, [1, 3, H, W]));
        z = await this.encodeLatent(run, photo);
        this.free(photo);
      }
      graphInputs.zKnown = this.track(be.tensor(z, [1, C, h, w]));
      graphInputs.keepLat = this.track(be.tensor(plan.latentBlend.keepLat, [1, 1, h, w]));
    }
    if (plan.identity) {
      const { references, size, loss } = plan.identity;
      inputs.refEmbedding = await this.referenceEmbedding(references, size);
      const dim = inputs.refEmbedding.dims[1] as number;
      run.graphs.cotangent = await this.graph(`idcot|${dim}|${loss}`, () => buildIdentityCotangentGraph(dim, loss));
    }
    return inputs;
  }

  /** One variant: the reverse chain from noise to the image (spec section 2), reading only the run. */
  private async sampleOne(
    run: Run,
    variant: number,
    noise: NoiseSource,
  ): Promise<{ image: RgbaImage; restorer?: RgbaImage; priorCalls: number }> {
    const { plan, graphs, inputs, opts } = run;
    const be = this.backend;
    const { H, W, latent } = plan.graphs;
    const [C, h, w] = sampleDims(plan.graphs);
    const size = C * h * w;
    const dims = [1, C, h, w];
    const timed = <T>(phase: string, fn: () => Promise<T>, syncOn?: (r: T) => RtTensor | undefined) => this.timed(run, phase, fn, syncOn);

    const xInit = noise.next(size);
    assertFinite(xInit, 'initial noise');
    const first = plan.start.index;
    if (inputs.startFrom) {
      // q(x_t | x_0) at the start: sqrt(abar) x_0 + sqrt(1 - abar) noise
      const abar = plan.diffusion.alphasCumprod[first] as number;
      const a = Math.sqrt(abar);
      const b = Math.sqrt(1 - abar);
      for (let k = 0; k < size; k++) xInit[k] = a * (inputs.startFrom[k] as number) + b * (xInit[k] as number);
    }
    let x = this.track(be.tensor(xInit, dims));
    const total = plan.callsPerVariant;
    const maxCalls = opts.maxCalls ?? Infinity;
    let call = 0;
    let lastF: RtTensor | undefined;

    for (let i = first; i >= 0 && call < maxCalls; i--) {
      const tOrig = plan.diffusion.timesteps[i] as number;
      const t = this.track(be.int64([tOrig]));
      const scalars = this.scalarTensors(run, stepScalars(plan, i));
      // the restorer's smooth estimate is computed once per timestep and reused by the N repeats
      let f: RtTensor | undefined = inputs.fOnce;
      const repeats = repeatsOf(plan, tOrig);
      for (let r = 0; r < repeats && call < maxCalls; r++) {
        // give the event loop a turn so a cancel message (a macrotask) is seen between steps:
        // a chain of awaited runs is all microtasks and would starve it
        await yieldToEventLoop();
        if (opts.isCancelled?.()) throw new CancelledError();
        const out = await timed(
          'prior',
          () => this.runRole('prior', { sample: x, timestep: t }),
          (o) => o,
        );
        const post = await timed(
          'posterior',
          () => this.runGraph(graphs.posterior, { x, out, ...scalars }),
          (o) => o.x0,
        );
        this.free(out);
        // x0_hat in pixels: the posterior's own (pixel sets) or the decoded latent (latent sets)
        let pix: Record<string, RtTensor> = post;
        if (graphs.decoded) {
          const image = await timed(
            'decoder',
            () => this.runRole('decoder', { input: post.z0raw as RtTensor }),
            (o) => o,
          );
          pix = await this.runGraph(graphs.decoded, { image });
          this.free(image);
        }
        if (plan.restorer === 'each-timestep' && !f) {
          const sample = latent ? (pix.x0 as RtTensor) : x;
          f = await timed(
            'restorer',
            () => this.runRole('restorer', { sample, photo: inputs.graphInputs.y, timestep: t }),
            (o) => o,
          );
        }
        const properties: Record<string, RtTensor> = { ...inputs.graphInputs };
        if (f) properties.f = f;
        if (graphs.cotangent && inputs.refEmbedding) {
          const cot = graphs.cotangent;
          const ref = inputs.refEmbedding;
          const w = inputs.graphInputs[weightInput('identity')] as RtTensor;
          properties.gid = await timed(
            'identity',
            () => this.identityGradient(pix.x0id as RtTensor, ref, cot, w),
            (o) => o,
          );
        }
        const gext: RtTensor[] = [];
        for (const [k, e] of plan.extras.entries()) {
          const grad = await timed(
            'models',
            () => this.runRole(e.role, { x0: pix.x0 as RtTensor, photo: inputs.graphInputs.y }),
            (o) => o,
          );
          gext.push(grad);
          properties[`gext${k}`] = grad;
        }
        const noiseData = noise.next(size);
        assertFinite(noiseData, 'noise');
        const z = this.track(be.tensor(noiseData, dims));
        const update = { x0: post.x0 as RtTensor, mean: post.mean as RtTensor, logvar: post.logvar as RtTensor, x, noise: z, ...scalars };
        let g: Record<string, RtTensor>;
        let graw: RtTensor | undefined;
        if (graphs.guidance) {
          g = await timed(
            'guidance',
            () => this.runGraph(graphs.guidance as Session, { ...update, ...properties }),
            (o) => o.next,
          );
        } else {
          if (graphs.pixGrad) {
            const gp = await timed(
              'guidance',
              () => this.runGraph(graphs.pixGrad as Session, { ...properties, x0: pix.x0 as RtTensor }),
              (o) => o.gpix,
            );
            graw = await timed(
              'decoder-vjp',
              () => this.runRole('decoder-vjp', { input: post.z0raw as RtTensor, cotangent: gp.gpix as RtTensor }),
              (o) => o,
            );
            this.free(gp.gpix);
          }
          g = await timed(
            'update',
            () =>
              this.runGraph(graphs.update as Session, { ...inputs.graphInputs, ...update, graw: graw ?? (inputs.zeroGrad as RtTensor) }),
            (o) => o.next,
          );
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
        let previewImg: RgbaImage | undefined;
        const every = plan.preview.every;
        if (graphs.preview && every > 0 && (call % every === 0 || call === total)) {
          const src = (plan.preview.from === 'latent' ? post.x0 : pix.x0) as RtTensor;
          const pv = await timed('preview', () => this.runGraph(graphs.preview as Session, { x: src }));
          const data = await be.read(pv.preview as RtTensor);
          previewImg = chwToRgba(data, plan.preview.size, plan.preview.size);
          this.free(pv.preview);
        }
        this.free(x, z, post.x0, post.mean, post.logvar, post.x0id, post.z0raw, properties.gid, g.grad, graw, ...gext);
        if (pix !== post) this.free(pix.x0, pix.x0id);
        x = next;
        const elapsed = now() - run.started;
        const done = variant * total + call;
        const all = plan.variants * total;
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
      // keep the last timestep's estimate for the result; free the others
      if (f && f !== inputs.fOnce) {
        if (i === 0 || call >= maxCalls) lastF = f;
        else this.free(f);
      }
      this.free(t, ...Object.values(scalars));
    }
    // the final reads are the result, not between-steps readbacks
    const result = latent ? await this.decodeFinal(x, run) : await be.read(x, false);
    let restorerImg: RgbaImage | undefined;
    const estimate = lastF ?? inputs.fOnce;
    if (estimate) {
      const fData = await be.read(estimate, false);
      restorerImg = chwToRgba(
        fData.map((v) => Math.max(-1, Math.min(1, v))),
        W,
        H,
      );
    }
    this.free(x, lastF);
    let image = chwToRgba(result, W, H);
    const keep = plan.keepUnmasked;
    if (keep) image = blendOutsideMask(image, keep.photo, keep.mask, keep.feather);
    if (plan.keepLightness) image = withLightnessOf(image, plan.keepLightness.photo, plan.keepLightness.mask);
    return { image, ...(restorerImg ? { restorer: restorerImg } : {}), priorCalls: call };
  }

  /** The step's scalars as [1] tensors, only those some graph of the run reads. */
  private scalarTensors(run: Run, s: StepScalars): Record<string, RtTensor> {
    const out: Record<string, RtTensor> = {};
    for (const name of run.scalarNames) out[name] = this.track(this.backend.tensor(Float32Array.from([s[name]]), [1]));
    return out;
  }

  /**
   * The clean estimate a start below T begins from: the restorer's (run once on y) or the photo; for latent sets
   * encoded and normalised like the prior's latents. One read per request, not per step.
   */
  private async startEstimate(run: Run, inputs: RunInputs, y: RtTensor): Promise<Float32Array> {
    const { plan } = run;
    const filled = plan.startPhoto ? this.track(this.backend.tensor(plan.startPhoto, [1, 3, plan.graphs.H, plan.graphs.W])) : undefined;
    const est = plan.start.from === 'restorer' && inputs.fOnce ? inputs.fOnce : (filled ?? y);
    const L = plan.graphs.latent;
    if (!L) {
      const pixels = Float32Array.from(await this.backend.read(est, false));
      this.free(filled);
      return pixels;
    }
    const z = await this.encodeLatent(run, est);
    this.free(filled);
    return z;
  }

  /** Pixels (1, 3, H, W) in [-1, 1] through the set's encoder, normalised like the prior's latents (one read). */
  private async encodeLatent(run: Run, pixels: RtTensor): Promise<Float32Array> {
    const L = run.plan.graphs.latent as NonNullable<RunPlan['graphs']['latent']>;
    const raw = await this.timed(
      run,
      'encoder',
      () => this.runRole('encoder', { input: pixels }),
      (t) => t,
    );
    const z = Float32Array.from(await this.backend.read(raw, false));
    this.free(raw);
    if (z.length !== L.C * L.h * L.w)
      throw new EngineError('invalid-model', `The encoder returned ${z.length} values; a ${L.C}x${L.h}x${L.w} latent was expected.`);
    return scaleLatent(z, L, 'normalise');
  }

  /** The final latent, denormalised and decoded at full resolution, clamped to [-1, 1]. */
  private async decodeFinal(x: RtTensor, run: Run): Promise<Float32Array> {
    const L = run.plan.graphs.latent as NonNullable<RunPlan['graphs']['latent']>;
    // a copy: on CPU backends read() may hand back the tensor's own buffer
    const z = Float32Array.from(await this.backend.read(x, false));
    scaleLatent(z, L, 'denormalise');
    const zt = this.track(this.backend.tensor(z, [1, L.C, L.h, L.w]));
    const img = await this.runRole('decoder', { input: zt });
    const out = await this.backend.read(img, false);
    this.free(zt, img);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i] as number));
    return out;
  }

  /** Gradient of the weighted identity loss w.r.t. the resized x0_hat, on the device. */
  private async identityGradient(x0id: RtTensor, ref: RtTensor, cot: Session, weight: RtTensor): Promise<RtTensor> {
    const e = await this.runRole('identity', { input: x0id });
    const v = (await this.runGraph(cot, { e, r: ref, [weightInput('identity')]: weight })).v as RtTensor;
    const grad = await this.runRole('identity-vjp', { input: x0id, cotangent: v });
    this.free(e, v);
    return grad;
  }

  /** Mean embedding of the reference photos (already resized to the network's input by the plan). */
  private async referenceEmbedding(refs: Float32Array[], s: number): Promise<RtTensor> {
    let sum: Float32Array | null = null;
    for (const chw of refs) {
      const input = this.track(this.backend.tensor(chw, [1, 3, s, s]));
      const out = await this.runRole('identity', { input });
      // one small read per request (the reference's embedding), not per step
      const e = await this.backend.read(out, false);
      this.free(input, out);
      if (!sum) sum = new Float32Array(e.length);
      for (let i = 0; i < e.length; i++) sum[i] = (sum[i] as number) + (e[i] as number) / refs.length;
    }
    const emb = sum as Float32Array;
    return this.track(this.backend.tensor(emb, [1, emb.length]));
  }

  // ---- running sessions: every tensor they return is tracked, and freed by whoever is done with it ----

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

  /** Runs one of our graphs, feeding each input it declares from `pool` by name. */
  private async runGraph(s: Session, pool: Record<string, RtTensor>): Promise<Record<string, RtTensor>> {
    const feeds: Record<string, RtTensor> = {};
    for (const name of s.inputNames) {
      const t = pool[name];
      if (!t) throw new EngineError('internal', `${s.label} needs input "${name}", which this run does not provide.`);
      feeds[name] = t;
    }
    const out = await s.run(feeds);
    for (const t of Object.values(out)) this.track(t);
    return out;
  }

  /** Runs a model of the set, feeding its inputs by what they carry (names from the manifest); returns its output. */
  private async runRole(role: ModelRole, values: Partial<Record<Slot, RtTensor>>): Promise<RtTensor> {
    const s = this.sessions[role];
    const io = this.io[role];
    if (!s || !io) throw new EngineError('no-model', `The loaded model set has no ${role} model.`);
    const feeds: Record<string, RtTensor> = {};
    for (const [name, slot] of Object.entries(io.slotOf)) {
      const t = values[slot];
      if (!t) throw new EngineError('internal', `${role} input "${name}" (${slot}) was not given.`);
      feeds[name] = t;
    }
    const out = await s.run(feeds);
    for (const t of Object.values(out)) this.track(t);
    const result = out[io.output] as RtTensor;
    for (const t of Object.values(out)) if (t !== result) this.free(t);
    return result;
  }

  private async timed<T>(run: Run, phase: string, fn: () => Promise<T>, syncOn?: (r: T) => RtTensor | undefined): Promise<T> {
    const t0 = now();
    const r = await fn();
    if (run.fence && syncOn) {
      const t = syncOn(r);
      if (t) {
        const f = await (await run.fence(t)).run({ x: t });
        await this.backend.sync(f.sum as RtTensor);
        (f.sum as RtTensor).dispose();
      }
    }
    run.phaseMs[phase] = (run.phaseMs[phase] ?? 0) + (now() - t0);
    return r;
  }
}

/** The step scalars that the run's graphs read (each graph declares the ones it uses). */
function scalarNamesOf(graphs: RunGraphs): (keyof StepScalars)[] {
  const probe: Record<keyof StepScalars, true> = {
    sqrtRecipAbar: true,
    sqrtRecipm1Abar: true,
    posteriorCoef1: true,
    posteriorCoef2: true,
    minLogVar: true,
    maxLogVar: true,
    scale: true,
    nonzero: true,
    sqrtOneMinusAbar: true,
    sqrtAbarPrev: true,
    sqrtOneMinusAbarPrev: true,
    ddimDirCoef: true,
    ddimSigma: true,
  };
  const used = new Set(Object.values(graphs).flatMap((s: Session | null) => (s ? [...s.inputNames] : [])));
  return (Object.keys(probe) as (keyof StepScalars)[]).filter((n) => used.has(n));
}

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

/** In place, per channel: the encoder's latent -> the prior's normalised space, or back (the decoder's input). */
function scaleLatent(
  z: Float32Array,
  L: { C: number; h: number; w: number; mean: readonly number[]; std: readonly number[] },
  to: 'normalise' | 'denormalise',
): Float32Array {
  const n = L.h * L.w;
  for (let c = 0; c < L.C; c++) {
    const s = L.std[c] as number;
    const m = L.mean[c] as number;
    for (let i = c * n; i < (c + 1) * n; i++) z[i] = to === 'normalise' ? ((z[i] as number) - m) / s : (z[i] as number) * s + m;
  }
  return z;
}
