/**
 * Colorization keeps the photo's lightness at the size the person downloads: a grey 512x512 photo colorized with the
 * tiny 64 px test set comes back as a 512x512 face (the 64 px result enlarged) and as the full photo, both with the
 * lightness (mean of R, G, B, as workers/engine/image.ts withLightnessOf) of the uploaded photo at its full
 * resolution (where the shift is not clipped at 0 or 255), and with the colour of the result: not grey.
 */
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { openWithCroppedFace } from './pages/app-page';
import { testImage } from './fixtures';

const SIDE = 512;

async function rgb(buffer: Buffer): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(buffer).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

const lightness = (d: Buffer, o: number) => ((d[o] as number) + (d[o + 1] as number) + (d[o + 2] as number)) / 3;

/**
 * The PSNR (dB) of a 512x512 image's lightness against the photo's, and its mean colour (max - min of R, G, B).
 * The lightness is compared where no channel is 0 or 255: the random-weight test set's colours are saturated, and
 * there withLightnessOf's shift is clipped (as it is at the model's resolution), so the lightness cannot move all
 * the way. `unclipped` says on what share of the pixels it was compared.
 */
async function measure(file: Buffer, photo: { data: Buffer }): Promise<{ psnr: number; unclipped: number; colour: number }> {
  const img = await rgb(file);
  expect([img.width, img.height]).toEqual([SIDE, SIDE]);
  let se = 0;
  let n = 0;
  let colour = 0;
  for (let i = 0; i < SIDE * SIDE; i++) {
    const o = i * 3;
    const px = [img.data[o] as number, img.data[o + 1] as number, img.data[o + 2] as number];
    colour += Math.max(...px) - Math.min(...px);
    if (px.some((v) => v === 0 || v === 255)) continue;
    se += (lightness(img.data, o) - lightness(photo.data, o)) ** 2;
    n++;
  }
  return { psnr: 10 * Math.log10((255 * 255) / Math.max(1e-12, se / n)), unclipped: n / (SIDE * SIDE), colour: colour / (SIDE * SIDE) };
}

const report = (what: string, m: { psnr: number; unclipped: number; colour: number }) =>
  `${what}: lightness ${m.psnr.toFixed(1)} dB on ${(100 * m.unclipped).toFixed(0)} % of the pixels, colour ${m.colour.toFixed(1)}`;

/** The download holds the photo's lightness (where not clipped, on a good share of the pixels) and is not grey. */
function expectKept(m: { psnr: number; unclipped: number; colour: number }) {
  expect(m.unclipped).toBeGreaterThan(0.25);
  expect(m.psnr).toBeGreaterThanOrEqual(40);
  expect(m.colour).toBeGreaterThan(3);
}

test("a colorized 512 px grey photo: the downloaded face and full photo have the photo's lightness, and colour", async ({ page }) => {
  // a run and two 512 px downloads enlarged by bicubic (the super-resolution model is slow on WASM), then one more
  // from the history after a reload
  test.setTimeout(600_000);
  const upload = testImage('grayscale_faces/00063.png');
  const photo = await rgb(upload.buffer);
  expect([photo.width, photo.height]).toEqual([SIDE, SIDE]);
  // the photo is grey: any colour in the downloads comes from the run
  for (let o = 0; o < photo.data.length; o += 3) {
    if (photo.data[o] !== photo.data[o + 1] || photo.data[o] !== photo.data[o + 2]) throw new Error(`not grey at byte ${o}`);
  }
  const app = await openWithCroppedFace(page, upload);
  await page.getByTestId('task-colorization').click();
  expect((await app.state()).task).toBe('colorization');
  await app.setSampler({ steps: 2, seed: 7 });
  expect((await app.runToResults()).currentRun).toMatchObject({ faces: 1, width: 64, height: 64, task: 'colorization' });
  await page.getByTestId('download-upscaler').selectOption('bicubic');

  // the face at its size in the photo: 512 px from the 64 px result, the photo's lightness at 512 px
  const face = await measure((await app.download(app.downloadCrop)).bytes, photo);
  // the 64 px photo enlarged the same way: the lightness an enlarged 64 px result has, far from the photo's
  const small = await sharp(upload.buffer).resize(64, 64, { kernel: 'cubic' }).toBuffer();
  const enlarged = await measure(await sharp(small).resize(SIDE, SIDE, { kernel: 'cubic' }).png().toBuffer(), photo);
  console.log(`${report('face', face)}; the 64 px photo enlarged: ${enlarged.psnr.toFixed(1)} dB`);
  expectKept(face);
  expect(enlarged.psnr).toBeLessThan(35);

  // the full photo with the face pasted back: the same
  const full = await measure((await app.download(app.downloadFull)).bytes, photo);
  console.log(report('full photo', full));
  expectKept(full);

  // the run from the history after a reload (the record and the photo from IndexedDB): still the photo's lightness
  await page.reload();
  await expect(app.historyEntry(0)).toBeVisible();
  await app.historyEntry(0).getByTestId('history-open').click();
  await expect(app.results).toBeVisible();
  await page.getByTestId('download-upscaler').selectOption('bicubic');
  const again = await measure((await app.download(app.downloadCrop)).bytes, photo);
  console.log(report('after a reload', again));
  expectKept(again);
});
