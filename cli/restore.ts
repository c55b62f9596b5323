/**
 * The Node runner: the same engine as the browser, on onnxruntime-node (CPU).
 *   npm run restore -- --task inpainting --input in.png --mask m.png --out out.png --steps 100 --seed 1
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProgressEvent } from '../workers/api';
import { EngineError, toEngineError } from '../workers/engine/errors';
import { styleFromImages } from '../workers/shared/presets';
import { recordedNoise } from '../workers/engine/rng';
import { applyTaskDefaults, parseArgs, USAGE, UsageError } from './args';
import { readRgba, resizeRgba, writePng } from './image-io';
import { createEnlarger } from './upscale';
import { alignWithMask, createNodeFaces, pasteBack, pickFaces } from './faces';
import type { Affine, RgbaImage } from '../workers/api';
import { createNodeEngine } from './node-engine';

function progressBar(quiet: boolean, label: string) {
  return (e: ProgressEvent) => {
    if (quiet || e.status !== 'step') return;
    const width = 30;
    const filled = Math.round((e.step / e.total) * width);
    const eta = Math.round(e.etaMs / 1000);
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.step}/${e.total} variant ${e.variant + 1}  eta ${eta}s   `,
    );
    if (e.step === e.total) process.stderr.write('\n');
  };
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) process.stderr.write(`error: ${err.message}\n\n`);
      process.stderr.write(USAGE);
      return err.message ? 2 : 0;
    }
    throw err;
  }
  const ne = await createNodeEngine({
    ...(opts.models ? { models: opts.models } : {}),
    ...(opts.threads ? { threads: opts.threads } : {}),
  });
  const size = ne.info.resolution;
  const grid = ne.info.latent ? `, sampled as ${ne.info.latent.size}x${ne.info.latent.size}x${ne.info.latent.channels} latents` : '';
  if (!opts.quiet)
    process.stderr.write(`model set ${ne.info.name} ${ne.info.version} (${size}x${size}${grid}), backend ${ne.info.backend}\n`);
  const took = opts.task === 'custom' ? [] : applyTaskDefaults(opts, ne.info.defaults?.[opts.task]);
  if (took.length && !opts.quiet)
    process.stderr.write(`the set's ${opts.task} defaults: ${took.join(', ')} (--paper-values for the paper's)\n`);
  const multi = opts.inputs.length > 1 || (opts.request.variants ?? 1) > 1;
  if (multi) await mkdir(opts.out, { recursive: true });
  const references = await Promise.all(opts.refs.map((r) => readRgba(r, size)));
  if (opts.styleRefs.length) opts.request.guidance.style = styleFromImages(await Promise.all(opts.styleRefs.map((r) => readRgba(r))));
  const enlarge = createEnlarger(ne.service, opts.upscaler, (msg) => process.stderr.write(`warning: ${msg}\n`));
  const faces = opts.cropOnly ? undefined : createNodeFaces(ne.service);
  try {
    for (const [idx, input] of opts.inputs.entries()) {
      const image = await readRgba(input);
      const maskFile = opts.masks[opts.masks.length === 1 ? 0 : idx];
      const noiseData = opts.noise ? await readFloat32(opts.noise) : undefined;
      const dumpDir = opts.dumpSteps ? path.join(opts.dumpSteps, multi ? path.parse(input).name : '') : undefined;
      if (dumpDir) await mkdir(dumpDir, { recursive: true });
      const dumps: Promise<void>[] = [];
      const restoreCrop = (crop: RgbaImage, mask: RgbaImage | undefined, label: string) =>
        ne.restore(
          { ...opts.request, image: crop, ...(mask ? { mask } : {}), ...(references.length ? { references } : {}) },
          {
            onProgress: progressBar(opts.quiet, label),
            ...(noiseData ? { noise: recordedNoise(noiseData) } : {}),
            ...(dumpDir
              ? {
                  onStepDump: (d) => {
                    const stem = path.join(dumpDir, `call${String(d.call).padStart(4, '0')}_t${d.timestep}`);
                    dumps.push(writeFile(`${stem}_x.f32`, d.x), writeFile(`${stem}_x0.f32`, d.x0));
                    if (d.grad) dumps.push(writeFile(`${stem}_grad.f32`, d.grad));
                  },
                }
              : {}),
          },
        );
      let outputs: RgbaImage[];
      let ms = 0;
      let calls = 0;
      if (!faces) {
        // --crop-only: the input is the model's crop; the result goes back to the input's size
        const resized = image.width !== size || image.height !== size;
        if (resized && !opts.quiet) process.stderr.write(`${input}: ${image.width}x${image.height} resized to ${size}x${size} and back\n`);
        const img = resized ? await readRgba(input, size) : image;
        const mask = maskFile ? await readRgba(maskFile, size) : undefined;
        const result = await restoreCrop(img, mask, path.basename(input));
        // back to the input's size: larger through the super-resolution step (--upscaler), smaller by resampling
        const larger = image.width > size || image.height > size;
        const back = (o: RgbaImage) => (larger ? enlarge.to(o, image.width, image.height) : resizeRgba(o, image.width, image.height));
        outputs = await Promise.all(result.images.map((o) => (!resized ? o : back(o))));
        ms = result.stats.totalMs;
        calls = result.stats.priorCalls;
      } else {
        const mask = maskFile ? await readRgba(maskFile) : undefined;
        if (mask && (mask.width !== image.width || mask.height !== image.height)) {
          throw new EngineError(
            'bad-input',
            `The mask ${maskFile} is ${mask.width}x${mask.height} but the photo ${input} is ${image.width}x${image.height}; a mask is drawn for the photo.`,
          );
        }
        const found = await faces.find(image);
        if (found.length === 0) {
          throw new EngineError(
            'bad-input',
            `No face was found in ${input}. If it is already a face crop in the model's framing, add --crop-only.`,
          );
        }
        const picks = pickFaces(opts.faces, found.length);
        if (!opts.quiet)
          process.stderr.write(
            `${input}: ${found.length} face${found.length === 1 ? '' : 's'} found, restoring ${picks.map((i) => i + 1).join(', ')}\n`,
          );
        const perFace: { inverse: Affine; images: RgbaImage[] }[] = [];
        for (const i of picks) {
          const { aligned, mask: faceMask } = alignWithMask(image, found[i]!, ne.info.template, size, mask);
          const result = await restoreCrop(aligned.crop, faceMask, `${path.basename(input)} face ${i + 1}`);
          perFace.push({ inverse: aligned.inverse, images: result.images });
          ms += result.stats.totalMs;
          calls += result.stats.priorCalls;
        }
        const variants = perFace[0]?.images.length ?? 0;
        outputs = [];
        // faces larger in the photo than the model's output are enlarged first (--upscaler), then pasted back
        for (let v = 0; v < variants; v++) {
          outputs.push(pasteBack(image, await Promise.all(perFace.map((f) => enlarge.forPaste(f.images[v]!, f.inverse)))));
        }
      }
      await Promise.all(dumps);
      for (const [v, out] of outputs.entries()) {
        const file = multi ? path.join(opts.out, `${path.parse(input).name}${outputs.length > 1 ? `_v${v}` : ''}.png`) : opts.out;
        await writePng(file, out);
        if (!opts.quiet)
          process.stderr.write(`wrote ${file} (${out.width}x${out.height}, ${(ms / 1000).toFixed(1)} s, ${calls} prior calls)\n`);
      }
    }
  } catch (err) {
    const e = toEngineError(err);
    process.stderr.write(`\nerror (${e.code}): ${e.message}\n${e.hint ? `${e.hint}\n` : ''}`);
    return e.code === 'bad-input' ? 2 : 1;
  } finally {
    await faces?.release();
    await ne.dispose();
  }
  return 0;
}

async function readFloat32(file: string): Promise<Float32Array> {
  const buf = await readFile(file);
  if (buf.byteLength % 4 !== 0)
    throw new EngineError('bad-input', `${file}: ${buf.byteLength} bytes is not a whole number of float32 values.`);
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = toEngineError(err);
    process.stderr.write(`error (${e.code}): ${e.message}\n`);
    process.exit(1);
  },
);
