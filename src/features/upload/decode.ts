/** Turn a File into a LoadedPhoto, with clear errors for what cannot be used. */
import type { LoadedPhoto } from '../../store/photoSlice';
import { drawToRgba } from '../../canvas/canvas';
import { AppErrorException, makeError } from '../errors/errors';
import { MAX_FILE_BYTES, MAX_PIXELS, WORK_MAX_SIDE, formatMegapixels, readHeaderSize, sniffImageKind, workingSize } from './image-math';

let counter = 0;

export async function decodePhoto(file: Blob, name: string): Promise<LoadedPhoto> {
  if (file.size === 0) throw new AppErrorException(makeError('not-an-image', `“${name}” is empty (0 bytes).`));
  if (file.size > MAX_FILE_BYTES) {
    throw new AppErrorException(
      makeError('too-large', `“${name}” is ${(file.size / 1048576).toFixed(0)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB.`),
    );
  }
  const head = new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer());
  const kind = sniffImageKind(head);
  const declaredImage = file.type.startsWith('image/');
  if (kind) {
    const size = readHeaderSize(head, kind);
    if (size && size.width * size.height > MAX_PIXELS) {
      throw new AppErrorException(
        makeError(
          'too-large',
          `“${name}” is ${size.width} × ${size.height} pixels (${formatMegapixels(size.width * size.height)}); the limit is ${formatMegapixels(MAX_PIXELS)}.`,
        ),
      );
    }
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    if (kind === 'heic') {
      throw new AppErrorException(
        makeError(
          'corrupt-image',
          `This browser cannot read HEIC photos like “${name}”.`,
          'On your phone, share or export the photo as JPEG (most phones call it “Most compatible”), then choose it again.',
        ),
      );
    }
    if (kind) {
      throw new AppErrorException(
        makeError(
          'corrupt-image',
          `“${name}” looks like a ${kind.toUpperCase()} image but could not be decoded: it may be damaged or incomplete.`,
        ),
      );
    }
    throw new AppErrorException(
      makeError(
        'not-an-image',
        declaredImage ? `“${name}” is named like an image but does not contain one this browser can read.` : `“${name}” is not an image.`,
      ),
    );
  }
  try {
    const { width, height } = bitmap;
    if (width * height > MAX_PIXELS) {
      throw new AppErrorException(
        makeError('too-large', `“${name}” is ${width} × ${height} pixels; the limit is ${formatMegapixels(MAX_PIXELS)}.`),
      );
    }
    const w = workingSize(width, height, WORK_MAX_SIDE);
    const working = drawToRgba(bitmap, w.width, w.height);
    counter += 1;
    return {
      id: `${Date.now().toString(36)}-${counter}`,
      name,
      file,
      bitmap,
      width,
      height,
      working,
      scale: w.scale,
    };
  } catch (e) {
    bitmap.close();
    throw e;
  }
}
