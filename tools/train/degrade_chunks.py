#!/usr/bin/env python3
"""Degraded copies of the 256 px face chunks, for the latent restorer (tools/train/latent_restorer.py).

  /usr/bin/python3 tools/train/degrade_chunks.py --chunks 8     # img_deg_000..007 + img_valdeg_000
  /usr/bin/python3 tools/train/degrade_chunks.py --chunks 8 --mild 8   # also img_degm_000..007 (light damage, mosaics)

Each `img_deg_NNN.npy` holds the faces of `img_train_NNN.npy` in the same order, degraded once by
tools/train/degrade.py's training recipe (blur, down-sampling, noise, JPEG, sometimes fading, grey, scratches;
seeded per chunk, so the pairs are reproducible). `img_valdeg_000.npy` does the same to the held-out faces.
tools/train/encode-latents.ts then encodes them to `deg_NNN.npy` / `valdeg_000.npy`, the restorer's inputs; the
clean latents of the same chunk are its targets.
"""
from __future__ import annotations

import argparse, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)

import numpy as np
import degrade as D  # noqa: E402


# Chunks from this index on also get the nearest-neighbour mosaic (20% of faces, first round): added in the fourth
# session after the real reference inputs (pixelated thumbnails) came back still pixelated. Earlier chunks keep their
# recipe, so existing files stay valid.
MOSAIC_FROM = 8


def degrade_chunk(src: str, dst: str, seed: int, p_mosaic: float = 0.0, mild: bool = False) -> None:
    if os.path.exists(dst):
        return
    imgs = np.load(src)  # (N,3,R,R) uint8
    rs = np.random.RandomState(seed)
    out = np.empty_like(imgs)
    for i in range(len(imgs)):
        x = imgs[i].transpose(1, 2, 0).astype(np.float32) / 255.0
        y = D.degrade_mild(x, rs) if mild else D.degrade(x, rs, p_mosaic=p_mosaic)
        out[i] = np.clip(np.round(y * 255), 0, 255).astype(np.uint8).transpose(2, 0, 1)
    tmp = dst + '.tmp.npy'
    np.save(tmp, out)
    os.replace(tmp, dst)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', default=os.path.join(ROOT, '.data', 'lat256'))
    ap.add_argument('--chunks', type=int, default=8)
    ap.add_argument('--mild', type=int, default=0, help='also img_degm_000.. (degrade.degrade_mild) for this many chunks')
    a = ap.parse_args()
    t0 = time.time()
    degrade_chunk(os.path.join(a.dir, 'img_val_000.npy'), os.path.join(a.dir, 'img_valdeg_000.npy'), 7)
    for k in range(a.chunks):
        degrade_chunk(os.path.join(a.dir, f'img_train_{k:03d}.npy'), os.path.join(a.dir, f'img_deg_{k:03d}.npy'), 1000 + k,
                      0.2 if k >= MOSAIC_FROM else 0.0)
        print(f'deg chunk {k} done at {time.time() - t0:.0f} s', flush=True)
    for k in range(a.mild):
        degrade_chunk(os.path.join(a.dir, f'img_train_{k:03d}.npy'), os.path.join(a.dir, f'img_degm_{k:03d}.npy'), 2000 + k,
                      mild=True)
        print(f'mild chunk {k} done at {time.time() - t0:.0f} s', flush=True)


if __name__ == '__main__':
    main()
