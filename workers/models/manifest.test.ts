import { describe, expect, it } from 'vitest';
import type { ModelEntry } from './manifest-types';
import { ManifestError, fileBaseName, largestTensorOf, parseManifest, pickFile, resolveFileUrl } from './manifest';
import { manifestJson, randomFile } from '../../tests/helpers/models/fixtures';

const prior = { path: 'prior.onnx', data: randomFile(16) };
const priorFp16 = { path: 'prior.fp16.onnx', data: randomFile(8) };
const restorer = { path: 'sub/restorer.onnx', data: randomFile(16) };
type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const good = (): J => manifestJson({ prior, priorFp16, restorer });

/** Apply a change to a fresh valid manifest and return the ManifestError it causes. */
function errorOf(change: (m: J) => void): ManifestError {
  const m = good();
  change(m);
  try {
    parseManifest(m, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return e as ManifestError;
  }
  throw new Error('the manifest was accepted');
}

describe('parseManifest', () => {
  it('accepts a valid manifest and returns its fields', () => {
    const m = parseManifest(good(), 'test.json');
    expect(m.name).toBe('fixture');
    expect(m.models.map((x) => x.role)).toEqual(['prior', 'restorer']);
    expect(m.models[0]!.files.fp16?.dtype).toBe('float16');
    expect(m.alignment.template).toHaveLength(5);
    expect(m.testOnly).toBe(true);
  });

  it('lower-cases sha256 and keeps params', () => {
    const j = good();
    j.models[0].files.fp32.sha256 = j.models[0].files.fp32.sha256.toUpperCase();
    j.models[0].params = { largestTensorBytes: { fp32: 10, fp16: 5 }, usesXt: true };
    const m = parseManifest(j, 'x');
    expect(m.models[0]!.files.fp32.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.models[0]!.params).toEqual({ largestTensorBytes: { fp32: 10, fp16: 5 }, usesXt: true });
  });

  const cases: [string, (m: J) => void, string, RegExp][] = [
    ['not an object', (m) => Object.keys(m).forEach((k) => delete m[k]), 'format', /expected "pgdiff-model-set"/],
    ['wrong format', (m) => (m.format = 'onnx'), 'format', /expected "pgdiff-model-set", got "onnx"/],
    [
      'newer version',
      (m) => (m.version = 2),
      'version',
      /unsupported manifest version number 2; this app reads version 1 \(the model set is newer than the app: update the app\)/,
    ],
    ['string version', (m) => (m.version = '1'), 'version', /unsupported manifest version "1"; this app reads version 1/],
    ['missing name', (m) => delete m.name, 'name', /missing \(expected a non-empty string\)/],
    ['empty licence', (m) => (m.licence = ' '), 'licence', /expected a non-empty string/],
    ['fractional resolution', (m) => (m.resolution = 63.5), 'resolution', /expected a positive integer, got number 63.5/],
    ['alignment size vs resolution', (m) => (m.alignment.size = 128), 'alignment.size', /expected 64 \(the manifest's resolution.*got 128/],
    ['four landmarks', (m) => m.alignment.template.pop(), 'alignment.template', /expected 5 landmarks .* got 4/],
    ['bad landmark', (m) => (m.alignment.template[2] = [1, 'a']), 'alignment.template[2]', /expected \[x, y\] with two finite numbers/],
    ['landmark outside', (m) => (m.alignment.template[1] = [70, 3]), 'alignment.template[1]', /lies outside the 64x64 crop/],
    [
      'bad schedule',
      (m) => (m.diffusion.schedule = 'quadratic'),
      'diffusion.schedule',
      /expected one of "linear", "scaled-linear", "cosine", got "quadratic"/,
    ],
    ['bad prediction', (m) => (m.diffusion.prediction = 'v'), 'diffusion.prediction', /expected one of "epsilon"/],
    ['zero steps', (m) => (m.diffusion.steps = 0), 'diffusion.steps', /positive integer/],
    ['bad layout', (m) => (m.preprocessing.layout = 'NHWC'), 'preprocessing.layout', /expected one of "NCHW", got "NHWC"/],
    ['testOnly not boolean', (m) => (m.testOnly = 'yes'), 'testOnly', /expected true or false/],
    ['no models', (m) => (m.models = []), 'models', /expected a non-empty list of models, got an empty list/],
    [
      'short sha256',
      (m) => (m.models[1].files.fp32.sha256 = 'abc'),
      'models[1].files.fp32.sha256',
      /expected 64 hex characters, got 3 characters "abc"/,
    ],
    [
      'non-hex sha256',
      (m) => (m.models[0].files.fp16.sha256 = 'g'.repeat(64)),
      'models[0].files.fp16.sha256',
      /expected 64 hex characters/,
    ],
    ['negative bytes', (m) => (m.models[0].files.fp32.bytes = -5), 'models[0].files.fp32.bytes', /positive integer, got number -5/],
    [
      'fp32 file with fp16 dtype',
      (m) => (m.models[0].files.fp32.dtype = 'float16'),
      'models[0].files.fp32.dtype',
      /expected one of "float32", got "float16"/,
    ],
    ['missing fp32', (m) => delete m.models[1].files.fp32, 'models[1].files.fp32', /missing \(expected an object\)/],
    ['unknown precision', (m) => (m.models[1].files.fp23 = m.models[1].files.fp32), 'models[1].files.fp23', /unknown precision/],
    ['empty path', (m) => (m.models[0].files.fp32.path = ''), 'models[0].files.fp32.path', /non-empty string/],
    ['unknown role', (m) => (m.models[1].role = 'upscaler'), 'models[1].role', /expected one of "prior", "restorer".*got "upscaler"/],
    ['no inputs', (m) => delete m.models[1].inputs, 'models[1].inputs', /missing \(expected a non-empty list of tensors\)/],
    ['empty outputs', (m) => (m.models[0].outputs = []), 'models[0].outputs', /got an empty list/],
    [
      'bad tensor dtype',
      (m) => (m.models[0].inputs[1].dtype = 'uint8'),
      'models[0].inputs[1].dtype',
      /expected one of "float32", "float16", "int64", "int32", got "uint8"/,
    ],
    [
      'bad dimension',
      (m) => (m.models[0].inputs[0].shape[0] = -2),
      'models[0].inputs[0].shape[0]',
      /expected an integer >= -1 or a dimension name, got number -2/,
    ],
    ['duplicate tensor name', (m) => (m.models[0].inputs[1].name = 'x'), 'models[0].inputs[1].name', /duplicate tensor name "x"/],
    [
      'spatial size vs resolution',
      (m) => (m.models[0].inputs[0].shape[3] = 32),
      'models[0].inputs[0].shape[3]',
      /expected 64 \(the manifest's resolution\) or a dynamic dimension, got 32/,
    ],
    [
      'learned-range needs 6 channels',
      (m) => (m.models[0].outputs[0].shape[1] = 3),
      'models[0].outputs[0].shape[1]',
      /expected 6 channels for diffusion.variance "learned-range", got 3/,
    ],
    ['params not an object', (m) => (m.models[0].params = [1]), 'models[0].params', /expected an object, got an array/],
    [
      'bad largestTensorBytes',
      (m) => (m.models[0].params = { largestTensorBytes: { fp32: 'big' } }),
      'models[0].params.largestTensorBytes.fp32',
      /expected a byte count/,
    ],
    ['no prior', (m) => (m.models[0].role = 'perceptual'), 'models', /expected exactly one model with role "prior", found 0/],
    [
      'two priors',
      (m) => m.models.push(structuredClone(m.models[0])),
      'models',
      /expected exactly one model with role "prior", found 2 \(models\[0\], models\[2\]\)/,
    ],
    ['duplicate role', (m) => m.models.push(structuredClone(m.models[1])), 'models[2].role', /role "restorer" appears more than once/],
    ['identity without vjp', (m) => (m.models[1].role = 'identity'), 'models', /role "identity" needs its gradient model "identity-vjp"/],
    ['vjp without identity', (m) => (m.models[1].role = 'identity-vjp'), 'models', /role "identity-vjp" needs the "identity" model/],
  ];
  it.each(cases)('rejects %s with a specific message', (_label, change, path, message) => {
    const e = errorOf(change);
    expect(e.path).toBe(path);
    expect(e.detail).toMatch(message);
    expect(e.message).toContain('test.json');
    expect(e.message).toContain(path ? `${path}: ` : '');
  });

  it('accepts identity with identity-vjp', () => {
    const j = good();
    const id = structuredClone(j.models[1]);
    id.role = 'identity';
    const vjp = structuredClone(j.models[1]);
    vjp.role = 'identity-vjp';
    j.models.push(id, vjp);
    expect(parseManifest(j, 'x').models.map((m) => m.role)).toEqual(['prior', 'restorer', 'identity', 'identity-vjp']);
  });

  it('lists every problem, first one in the message', () => {
    const e = errorOf((m) => {
      m.name = 3;
      m.models[0].files.fp32.bytes = 0;
    });
    expect(e.issues.map((i) => i.path)).toEqual(['name', 'models[0].files.fp32.bytes']);
    expect(e.message).toMatch(/name: expected a non-empty string, got number 3 \(and 1 more problem\)/);
  });
});

describe('helpers', () => {
  const m = parseManifest(good(), 'x');
  const entry = m.models[0]!;
  it('pickFile: fp16 only with shader-f16 and an fp16 file', () => {
    expect(pickFile(entry, { shaderF16: true })).toMatchObject({ precision: 'fp16', file: { path: 'prior.fp16.onnx' } });
    expect(pickFile(entry, { shaderF16: false })).toMatchObject({ precision: 'fp32', file: { path: 'prior.onnx' } });
    expect(pickFile(m.models[1]!, { shaderF16: true })).toMatchObject({ precision: 'fp32' });
  });
  it('resolveFileUrl resolves against the manifest URL', () => {
    expect(resolveFileUrl('sub/restorer.onnx', 'https://a.example/models/set/manifest.json')).toBe(
      'https://a.example/models/set/sub/restorer.onnx',
    );
    expect(resolveFileUrl('../x.onnx', 'https://a.example/models/set/manifest.json')).toBe('https://a.example/models/x.onnx');
    expect(resolveFileUrl('https://cdn.example/p.onnx', 'https://a.example/m.json')).toBe('https://cdn.example/p.onnx');
    expect(fileBaseName('sub/dir/restorer.onnx?v=2')).toBe('restorer.onnx');
  });
  it('largestTensorOf reads a number or per-precision figures', () => {
    const e = (params: Record<string, unknown>): ModelEntry => ({ ...entry, params });
    expect(largestTensorOf(e({ largestTensorBytes: 7 }), 'fp16')).toEqual({ bytes: 7 });
    expect(largestTensorOf(e({ largestTensorBytes: { fp32: 8, fp16: 4 }, largestTensorName: { fp16: 'w' } }), 'fp16')).toEqual({
      bytes: 4,
      name: 'w',
    });
    expect(largestTensorOf(e({}), 'fp32')).toBeUndefined();
  });
});
