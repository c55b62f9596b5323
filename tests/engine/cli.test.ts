import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { applyTaskDefaults, parseArgs, UsageError } from '../../cli/args';
import { loadGolden, tensorAt } from '../helpers/goldens';
import { chwToRgbaExact } from './golden-request';
import { REPO, TINY } from './helpers';

const run = promisify(execFile);
const SHARED = path.resolve(REPO, '..', 'shared');

async function png(file: string, x: Float32Array, mask = false): Promise<void> {
  const img = chwToRgbaExact(x, 64, mask);
  await sharp(Buffer.from(img.data.buffer), { raw: { width: 64, height: 64, channels: 4 } })
    .png()
    .toFile(file);
}

describe('npm run restore (cli/restore.ts)', () => {
  it('parses every guidance flag and refuses bad ones clearly', () => {
    const o = parseArgs([
      '--task',
      'inpainting',
      '--input',
      'a.png',
      '--mask',
      'm.png',
      '--out',
      'o.png',
      '--steps',
      'ddpm50',
      '--seed',
      '3',
      '--scale',
      '0.02',
      '--N',
      '2',
      '--s-start',
      '0.9',
      '--s-end',
      '0.5',
      '--w-unmasked',
      '2',
      '--sampler',
      'ddim',
      '--eta',
      '0.3',
      '--style',
      '2',
    ]);
    expect(o.request.guidance.scale).toBe(0.02);
    expect(o.request.guidance.gradSteps).toBe(2);
    expect(o.request.guidance.weights.unmasked).toBe(2);
    expect(o.request.sampler).toMatchObject({ kind: 'ddim', eta: 0.3, seed: 3, steps: 'ddpm50' });
    expect(() => parseArgs(['--task', 'nope', '--input', 'a', '--out', 'b'])).toThrow(UsageError);
    expect(() => parseArgs(['--task', 'blind', '--input', 'a', '--out', 'b', '--scale', 'x'])).toThrow(/--scale needs a number/);
    expect(() => parseArgs(['--task', 'blind', '--out', 'b'])).toThrow(/--input is required/);
  });

  it("starts from the model set's task defaults unless a flag or --paper-values says otherwise", () => {
    const d = { scale: 0.5, steps: 40, sampler: 'ddim' as const, gradSteps: 2, update: 'dynamic-global' as const, weights: { smooth: 3 } };
    const o = parseArgs([
      '--task',
      'blind',
      '--input',
      'a.png',
      '--out',
      'o.png',
      '--steps',
      '25',
      '--w-smooth',
      '2',
      '--keep-unmasked',
      'false',
    ]);
    const took = applyTaskDefaults(o, d);
    expect(o.request.guidance.scale).toBe(0.5);
    expect(o.request.sampler.steps).toBe(25); // given
    expect(o.request.sampler.kind).toBe('ddim');
    expect(o.request.guidance.gradSteps).toBe(2);
    expect(o.request.guidance.update).toBe('dynamic-global');
    expect(o.request.guidance.weights.smooth).toBe(2); // given
    expect(o.request.keepUnmasked).toBe(false);
    expect(took).toEqual(['scale 0.5', 'sampler ddim', 'N 2', 'update dynamic-global']);
    const paper = parseArgs(['--task', 'blind', '--input', 'a.png', '--out', 'o.png', '--paper-values']);
    expect(applyTaskDefaults(paper, d)).toEqual([]);
    expect(paper.request.guidance.scale).toBe(0.1);
    expect(() => parseArgs(['--task', 'inpainting', '--input', 'a', '--out', 'b', '--keep-unmasked', 'maybe'])).toThrow(
      /--keep-unmasked must be true or false/,
    );
    const blend = (v: string) => parseArgs(['--task', 'inpainting', '--input', 'a', '--out', 'b', '--blend-latents', v]).request;
    expect(blend('false').blendLatents).toBe(false);
    expect(blend('true').blendLatents).toBe(true);
    expect(o.request.blendLatents).toBeUndefined();
    expect(() => blend('1')).toThrow(/--blend-latents must be true or false/);
  });

  it('with --noise and --dump-steps reproduces the Python reference step by step (inpainting golden)', async () => {
    const g = loadGolden('inpainting');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgdiff-cli-'));
    await png(path.join(dir, 'in.png'), g.inputs.y);
    await png(path.join(dir, 'mask.png'), g.inputs.mask as Float32Array, true);
    await writeFile(path.join(dir, 'noise.bin'), g.noise);
    await run(
      'npx',
      [
        'tsx',
        'cli/restore.ts',
        '--task',
        'inpainting',
        '--input',
        path.join(dir, 'in.png'),
        '--mask',
        path.join(dir, 'mask.png'),
        '--out',
        path.join(dir, 'out.png'),
        '--models',
        TINY,
        '--steps',
        g.config.sampler.respacing,
        '--noise',
        path.join(dir, 'noise.bin'),
        '--dump-steps',
        path.join(dir, 'dump'),
        '--threads',
        '1',
        '--quiet',
        '--crop-only',
      ],
      { cwd: REPO },
    );
    const files = (await readdir(path.join(dir, 'dump'))).filter((f) => f.endsWith('_x.f32')).sort();
    expect(files).toHaveLength(g.config.calls.length);
    let worst = 0;
    for (const [k, f] of files.entries()) {
      const buf = await readFile(path.join(dir, 'dump', f));
      const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      const want = tensorAt(g.steps, g.tensorSize, k);
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (want[i] as number)));
    }
    expect(worst).toBeLessThanOrEqual(1e-4);
    const meta = await sharp(path.join(dir, 'out.png')).metadata();
    expect([meta.width, meta.height]).toEqual([64, 64]);
  });

  it('a 512x512 aligned face comes back 512x512 in the same framing: found, re-framed to the model, pasted back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgdiff-cli-'));
    const input = path.join(SHARED, 'testdata/cropped_faces/0040.png');
    const out = path.join(dir, 'out.png');
    const r = await run(
      'npx',
      ['tsx', 'cli/restore.ts', '--task', 'blind', '--input', input, '--out', out, '--models', TINY, '--steps', '2', '--threads', '1'],
      { cwd: REPO },
    );
    expect(r.stderr).toMatch(/1 face found, restoring 1/);
    const a = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const b = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([b.info.width, b.info.height]).toEqual([512, 512]);
    // the random test model paints noise where the face is: the changed pixels sit on the face (centre of the
    // FFHQ framing); the photo's corners, outside the face's footprint, are the input's own
    let cx = 0;
    let cy = 0;
    let n = 0;
    let borderChanged = 0;
    for (let y = 0; y < 512; y++)
      for (let x = 0; x < 512; x++) {
        const i = (y * 512 + x) * 3;
        const d = Math.abs(a.data[i]! - b.data[i]!) + Math.abs(a.data[i + 1]! - b.data[i + 1]!) + Math.abs(a.data[i + 2]! - b.data[i + 2]!);
        if (d > 30) {
          cx += x;
          cy += y;
          n++;
        }
        const corner = (x < 8 || x >= 504) && (y < 8 || y >= 504);
        if (corner && d > 8) borderChanged++;
      }
    expect(n).toBeGreaterThan(512 * 512 * 0.1);
    expect(Math.abs(cx / n - 256)).toBeLessThan(40);
    expect(Math.abs(cy / n - 270)).toBeLessThan(50);
    expect(borderChanged).toBe(0);
  });

  it('exits non-zero naming a missing input file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgdiff-cli-'));
    const err = await run(
      'npx',
      [
        'tsx',
        'cli/restore.ts',
        '--task',
        'blind',
        '--input',
        path.join(dir, 'missing.png'),
        '--out',
        path.join(dir, 'o.png'),
        '--models',
        TINY,
      ],
      { cwd: REPO },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).not.toBe(0);
    expect((err as { stderr: string }).stderr).toMatch(/missing\.png/);
  });
});
