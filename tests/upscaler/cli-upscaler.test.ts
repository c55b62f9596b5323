/**
 * The runner's --upscaler flag: a 512 px aligned face restored by a 64 px test model comes back 512 px through the
 * super-resolution step (default) or bicubic, and the two differ.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args';
import { REPO, TINY } from '../engine/helpers';

const run = promisify(execFile);
const input = path.resolve(REPO, '..', 'shared', 'testdata', 'ref_faces', '00016.png');

describe('npm run restore -- --upscaler', () => {
  it('defaults to esrgan, takes bicubic, refuses anything else by name', () => {
    const base = ['--task', 'blind', '--input', 'a.png', '--out', 'o.png'];
    expect(parseArgs(base).upscaler).toBe('esrgan');
    expect(parseArgs([...base, '--upscaler', 'bicubic']).upscaler).toBe('bicubic');
    expect(() => parseArgs([...base, '--upscaler', 'lanczos'])).toThrow(/--upscaler must be esrgan or bicubic, got "lanczos"/);
  });

  it('a 512 px crop from a 64 px model: 512x512 either way, ESRGAN differs from bicubic', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pgdiff-sr-'));
    const outs: Buffer[] = [];
    for (const method of ['esrgan', 'bicubic']) {
      const out = path.join(dir, `${method}.png`);
      const r = await run(
        'npx',
        [
          'tsx',
          'cli/restore.ts',
          '--task',
          'blind',
          '--input',
          input,
          '--crop-only',
          '--out',
          out,
          '--models',
          TINY,
          '--steps',
          '2',
          '--threads',
          '1',
          '--upscaler',
          method,
        ],
        { cwd: REPO },
      );
      expect(r.stderr).toMatch(/\(64x64/);
      expect(r.stderr).not.toMatch(/warning/);
      const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([512, 512]);
      outs.push(data);
    }
    let diff = 0;
    for (let i = 0; i < outs[0]!.length; i++) diff += Math.abs(outs[0]![i]! - outs[1]![i]!);
    expect(diff / outs[0]!.length).toBeGreaterThan(1);
  }, 600_000);
});
