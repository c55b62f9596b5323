/**
 * Writes the two 112x112 faces the VJP fixtures use (PNG is lossless, so Python/PIL and Node/sharp
 * read identical pixels): a = ref_cropped_faces/00010 (degraded), b = ref_faces/00010 (reference).
 * Run: npx tsx tools/identity/make-face112.ts
 */
import path from 'node:path';
import sharp from 'sharp';
import { fixtureDir, sharedDir } from '../../tests/identity/face-input';

async function main(): Promise<void> {
  for (const [name, src] of [
    ['face112-a.png', 'ref_cropped_faces/00010.png'],
    ['face112-b.png', 'ref_faces/00010.png'],
  ] as const) {
    await sharp(path.join(sharedDir, 'testdata', src))
      .removeAlpha()
      .resize(112, 112, { kernel: 'linear', fit: 'fill' })
      .png()
      .toFile(path.join(fixtureDir, name));
  }
}

void main();
