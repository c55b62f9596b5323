import sharp from 'sharp';
import type { RgbaImage } from '../workers/api';

/** Decode any image sharp reads (EXIF orientation applied) to RGBA. */
export async function readRgba(file: string, size?: number): Promise<RgbaImage> {
  let img = sharp(file, { failOn: 'error' }).rotate();
  if (size) img = img.resize(size, size, { fit: 'fill', kernel: 'cubic' });
  const { data, info } = await img.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
}

export async function writePng(file: string, img: RgbaImage): Promise<void> {
  await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 4 },
  })
    .png()
    .toFile(file);
}

/** Resize (cubic) to width x height. */
export async function resizeRgba(img: RgbaImage, width: number, height: number): Promise<RgbaImage> {
  const { data, info } = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 4 },
  })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
}
