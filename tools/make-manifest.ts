/**
 * Write a model-set manifest from a small spec and the ONNX files it names.
 *   npx tsx tools/make-manifest.ts spec.json out/manifest.json
 * Computes sha256 and size of every file, each file's largest initializer, and reads input/output
 * names and shapes from the ONNX files when the spec omits them. The result is validated with the
 * app's own parser. Spec format: workers/models/README.md.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelManifest, TensorSpec } from '../workers/models/manifest-types';
import { parseManifest } from '../workers/models/manifest';
import { readOnnxInfo, type OnnxInfo, type OnnxValueInfo } from './onnx-info';

export interface SpecModel {
  role: string;
  /** paths relative to the spec file */
  files?: { fp32: string; fp16?: string };
  /** shorthand for files.fp32 / files.fp16 */
  fp32?: string;
  fp16?: string;
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  params?: Record<string, unknown>;
}

export interface ManifestSpec {
  name: string;
  /** the set's own version (alias: version) */
  setVersion?: string;
  version?: string;
  description?: string;
  /** licence text, or licenceFile: a text file relative to the spec */
  licence?: string;
  licenceFile?: string;
  resolution: number;
  diffusion: Partial<ModelManifest['diffusion']> & Pick<ModelManifest['diffusion'], 'steps' | 'schedule' | 'variance'>;
  /** size defaults to resolution */
  alignment: { template: [number, number][]; size?: number };
  preprocessing?: ModelManifest['preprocessing'];
  testOnly?: boolean;
  /** latent sets: the latent block (channels, downscale, per-channel normalisation, preview map) */
  latent?: ModelManifest['latent'];
  /** per-task defaults */
  defaults?: ModelManifest['defaults'];
  models: SpecModel[];
}

export class SpecError extends Error {
  override name = 'SpecError';
}

const TENSOR_DTYPES = new Set(['float32', 'float16', 'int64', 'int32']);

function toTensorSpecs(values: OnnxValueInfo[], file: string, what: string): TensorSpec[] {
  return values.map((v) => {
    if (!TENSOR_DTYPES.has(v.dtype))
      throw new SpecError(`${file}: ${what} "${v.name}" has element type ${v.dtype}; a manifest allows float32, float16, int64, int32`);
    return { name: v.name, shape: v.shape, dtype: v.dtype as TensorSpec['dtype'] };
  });
}

interface FileFacts {
  relPath: string;
  sha256: string;
  bytes: number;
  info: OnnxInfo;
}

async function describeFile(specDir: string, outDir: string, p: string, where: string): Promise<FileFacts> {
  const abs = resolve(specDir, p);
  let data: Buffer;
  try {
    data = await readFile(abs);
  } catch (e) {
    throw new SpecError(`${where}: cannot read ${abs} (${(e as Error).message})`);
  }
  let info: OnnxInfo;
  try {
    info = readOnnxInfo(data);
  } catch (e) {
    throw new SpecError(`${where}: ${abs} is not a readable ONNX model (${(e as Error).message})`);
  }
  const external = info.tensors.filter((t) => t.external);
  if (external.length)
    throw new SpecError(
      `${where}: ${abs} keeps ${external.length} tensor(s) in external data files (e.g. "${external[0]!.name}"); the app loads single-file models only`,
    );
  const rel = relative(outDir, abs).split(sep).join('/');
  if (rel.startsWith('../') || isAbsolute(rel)) console.warn(`warning: ${where}: ${abs} lies outside the manifest's folder (${rel})`);
  return { relPath: rel, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.byteLength, info };
}

function checkNames(given: TensorSpec[] | undefined, actual: OnnxValueInfo[], file: string, what: string): void {
  if (!given) return;
  const have = actual.map((a) => a.name);
  for (const g of given)
    if (!have.includes(g.name))
      throw new SpecError(
        `${file}: the spec lists ${what} "${g.name}" but the model's ${what}s are ${have.map((h) => `"${h}"`).join(', ')}`,
      );
}

/** Build (and validate) the manifest for a spec; paths in the manifest are relative to outPath's folder. */
export async function buildManifest(spec: ManifestSpec, specDir: string, outPath: string): Promise<ModelManifest> {
  const outDir = dirname(resolve(outPath));
  let licence = spec.licence;
  if (licence === undefined && spec.licenceFile) licence = (await readFile(resolve(specDir, spec.licenceFile), 'utf8')).trim();
  if (!Array.isArray(spec.models)) throw new SpecError('spec.models: expected a list');

  const models = [];
  for (const [i, m] of spec.models.entries()) {
    const where = `models[${i}] (${m.role})`;
    const paths = m.files ?? (m.fp32 ? { fp32: m.fp32, ...(m.fp16 ? { fp16: m.fp16 } : {}) } : undefined);
    if (!paths?.fp32) throw new SpecError(`${where}: give files.fp32 (or fp32), a path relative to the spec`);
    const fp32 = await describeFile(specDir, outDir, paths.fp32, where);
    const fp16 = paths.fp16 ? await describeFile(specDir, outDir, paths.fp16, where) : undefined;
    checkNames(m.inputs, fp32.info.inputs, paths.fp32, 'input');
    checkNames(m.outputs, fp32.info.outputs, paths.fp32, 'output');
    if (fp16) {
      // One inputs/outputs list serves both files, so their names must agree.
      const names = (v: OnnxValueInfo[]) => v.map((x) => x.name).join(',');
      if (names(fp16.info.inputs) !== names(fp32.info.inputs) || names(fp16.info.outputs) !== names(fp32.info.outputs))
        throw new SpecError(`${where}: ${paths.fp16} has other input/output names than ${paths.fp32}`);
    }
    const largestTensorBytes: Record<string, number> = { fp32: fp32.info.largest?.bytes ?? 0 };
    const largestTensorName: Record<string, string> = { fp32: fp32.info.largest?.name ?? '' };
    if (fp16) {
      largestTensorBytes.fp16 = fp16.info.largest?.bytes ?? 0;
      largestTensorName.fp16 = fp16.info.largest?.name ?? '';
    }
    models.push({
      role: m.role,
      files: {
        fp32: { path: fp32.relPath, sha256: fp32.sha256, bytes: fp32.bytes, dtype: 'float32' },
        ...(fp16 ? { fp16: { path: fp16.relPath, sha256: fp16.sha256, bytes: fp16.bytes, dtype: 'float16' } } : {}),
      },
      inputs: m.inputs ?? toTensorSpecs(fp32.info.inputs, paths.fp32, 'input'),
      outputs: m.outputs ?? toTensorSpecs(fp32.info.outputs, paths.fp32, 'output'),
      params: { ...m.params, largestTensorBytes, largestTensorName },
    });
  }

  const json: Record<string, unknown> = {
    format: 'pgdiff-model-set',
    version: 1,
    name: spec.name,
    setVersion: spec.setVersion ?? spec.version,
    ...(spec.description ? { description: spec.description } : {}),
    licence,
    resolution: spec.resolution,
    diffusion: { prediction: 'epsilon', timestep: 'original-index', ...spec.diffusion },
    alignment: { size: spec.resolution, ...spec.alignment },
    preprocessing: spec.preprocessing ?? { range: '[-1,1]', channels: 'RGB', layout: 'NCHW' },
    models,
    ...(spec.testOnly !== undefined ? { testOnly: spec.testOnly } : {}),
    ...(spec.latent ? { latent: spec.latent } : {}),
    ...(spec.defaults ? { defaults: spec.defaults } : {}),
  };
  // The app's own validation: what it would refuse, this refuses too.
  return parseManifest(json, outPath);
}

export async function makeManifest(specPath: string, outPath: string): Promise<ModelManifest> {
  const spec = JSON.parse(await readFile(specPath, 'utf8')) as ManifestSpec;
  const manifest = await buildManifest(spec, dirname(resolve(specPath)), outPath);
  await mkdir(dirname(resolve(outPath)), { recursive: true });
  await writeFile(outPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [specPath, outPath] = process.argv.slice(2);
  if (!specPath || !outPath) {
    console.error('usage: npx tsx tools/make-manifest.ts spec.json out/manifest.json');
    process.exit(2);
  }
  makeManifest(specPath, outPath).then(
    (m) => {
      for (const e of m.models) {
        const lt = (e.params?.largestTensorBytes ?? {}) as Record<string, number>;
        console.log(
          `${e.role}: ${e.files.fp32.path} ${e.files.fp32.bytes} bytes, largest tensor ${lt.fp32} bytes${e.files.fp16 ? `; fp16 ${e.files.fp16.path} ${e.files.fp16.bytes} bytes, largest ${lt.fp16}` : ''}`,
        );
      }
      console.log(`wrote ${outPath}`);
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
