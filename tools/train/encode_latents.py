#!/usr/bin/env python3
"""Prepare UTKFace for the latent prior: 256 px face chunks, then TAEF2 latents (resumable, chunked).

  /usr/bin/python3 tools/train/encode_latents.py                 # image chunks only (~2 min)
  nohup npx tsx tools/train/encode-latents.ts > .data/encode.log 2>&1 &   # latents with onnxruntime-node
  /usr/bin/python3 tools/train/encode_latents.py --torch --device cuda    # or latents with torch (GPU)

onnxruntime-node runs the encoder 3.7x faster than Debian's torch on this CPU (0.19 s vs 0.70 s per face,
one thread), so on the CPU machine the latents come from the Node script on the same image chunks.

Split as tools/train/pack.py: files sorted by name, every 50th is held out (val); the blurriest
--sharp-drop of the training split is dropped. Faces (200x200) are resized to --res (bicubic) and encoded
to raw latents (N, 32, res/8, res/8), stored as float16 chunks of --chunk faces:

  OUT/img_val_000.npy ...        held-out faces, uint8 (N,3,res,res) (all of them, first)
  OUT/img_train_000.npy ...      training faces in a fixed shuffled order (so early chunks are a fair sample)
  OUT/img_trainflip_000.npy ...  the same faces mirrored (--flip), encoded as their own latents
  OUT/{val,train,trainflip}_000.npy   latents of the chunk of the same name (float16 or float32)
  OUT/*.names.txt                file names of each chunk, same order
  OUT/index.json           split sizes, threshold, seconds per face

A trainer may start on the first chunks while this keeps going: it picks up new chunks as they appear.
"""
from __future__ import annotations

import argparse, io, json, os, sys, tarfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, ROOT)

import numpy as np
from PIL import Image
import torch

from tools.pgdiff_models.taef2 import load_taef2  # noqa: E402
from tools.train.utk_split import TAR, is_val, jpeg_members, laplacian_var  # noqa: E402


def split(tar_path: str, sharp_drop: float, limit: int = 0):
    """(names, jpeg bytes, val indices, kept train indices, threshold) with pack.py's split."""
    with tarfile.open(tar_path) as tf:
        members = jpeg_members(tf, limit)
        names = [os.path.basename(m.name) for m in members]
        blobs = [tf.extractfile(m).read() for m in members]
    idx = np.arange(len(names))
    val, tr = idx[is_val(idx)], idx[~is_val(idx)]
    sharp = np.array([laplacian_var(np.asarray(Image.open(io.BytesIO(blobs[i])).convert('L'))) for i in tr])
    thr = float(np.quantile(sharp, sharp_drop)) if sharp_drop > 0 else -1.0
    keep = tr[sharp > thr] if sharp_drop > 0 else tr
    return names, blobs, val, keep, thr


def load_face(blob: bytes, res: int, flip: bool = False) -> np.ndarray:
    im = Image.open(io.BytesIO(blob)).convert('RGB')
    if im.size != (res, res):
        im = im.resize((res, res), Image.BICUBIC)
    if flip:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    return np.asarray(im).transpose(2, 0, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tar', default=TAR)
    ap.add_argument('--out', default=os.path.join(ROOT, '.data', 'lat256'))
    ap.add_argument('--res', type=int, default=256)
    ap.add_argument('--chunk', type=int, default=512)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--sharp-drop', type=float, default=0.05)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--flip', type=int, default=1, help='after all faces, encode mirrored copies too')
    ap.add_argument('--limit', type=int, default=0, help='only the first N files (tests)')
    ap.add_argument('--torch', action='store_true', help='also encode the chunks here with torch')
    ap.add_argument('--carry', type=int, default=0,
                    help='write OUT/utk200_carry.npz: the held-out faces and the first N training faces (shuffled '
                         'order) as their original JPEG bytes, for a GPU run to carry (<= 64 MiB)')
    ap.add_argument('--from-carry', default='', help='read faces from a carry file instead of the tar')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--val-jpegs', default='', help='only write the held-out faces as their original JPEG files to this '
                    'folder (tools/quality/run.ts reads .data/utk_val200 as its real faces) and stop')
    a = ap.parse_args()
    if a.val_jpegs:
        names, blobs, val, _, _ = split(a.tar, 0.0)
        os.makedirs(a.val_jpegs, exist_ok=True)
        for i in val:
            with open(os.path.join(a.val_jpegs, names[i]), 'wb') as f:
                f.write(blobs[i])
        print(f'wrote {len(val)} held-out faces to {a.val_jpegs}')
        return
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    if a.from_carry:
        c = np.load(a.from_carry)
        offs = np.concatenate([[0], np.cumsum(c['lengths'])])
        blobs = [c['jpeg'][offs[i]:offs[i + 1]].tobytes() for i in range(len(c['lengths']))]
        names = [str(n) for n in c['names']]
        val = np.nonzero(c['is_val'])[0]
        order = np.nonzero(~c['is_val'])[0]  # already in the shuffled order
        thr = float(c['threshold'])
        keep = order
    else:
        names, blobs, val, keep, thr = split(a.tar, a.sharp_drop, a.limit)
        order = np.random.RandomState(0).permutation(keep)
    if a.carry:
        pick = list(val) + list(order[:a.carry])
        lens = np.array([len(blobs[i]) for i in pick], np.int64)
        path = os.path.join(a.out, 'utk200_carry.npz')
        np.savez(path, jpeg=np.frombuffer(b''.join(blobs[i] for i in pick), np.uint8), lengths=lens,
                 names=np.array([names[i] for i in pick]), is_val=np.array([i in set(val) for i in pick]), threshold=thr)
        print(f'wrote {path}: {len(pick)} faces, {os.path.getsize(path) / 2**20:.1f} MiB', flush=True)
        return
    index = {'files': len(names), 'val': int(len(val)), 'train': int(len(keep)), 'res': a.res,
             'sharpness_threshold_laplacian_var': thr, 'sharp_drop': a.sharp_drop, 'chunk': a.chunk,
             'split_seconds': round(time.time() - t0, 1)}
    json.dump(index, open(os.path.join(a.out, 'index.json'), 'w'), indent=1)
    print(json.dumps(index), flush=True)
    jobs = [('val', val, False), ('train', order, False)] + ([('trainflip', order, True)] if a.flip else [])
    for kind, ids, flip in jobs:
        for c in range(0, len(ids), a.chunk):
            part = ids[c:c + a.chunk]
            path = os.path.join(a.out, f'img_{kind}_{c // a.chunk:03d}.npy')
            if os.path.exists(path):
                continue
            imgs = np.stack([load_face(blobs[i], a.res, flip) for i in part])
            with open(os.path.join(a.out, f'{kind}_{c // a.chunk:03d}.names.txt'), 'w') as f:
                f.write('\n'.join(names[i] for i in part) + '\n')
            np.save(path + '.tmp.npy', imgs)
            os.replace(path + '.tmp.npy', path)  # encoders only ever see whole chunks
    print(f'image chunks ready in {time.time() - t0:.0f}s', flush=True)
    if a.torch:
        encode_with_torch(a)


def encode_with_torch(a):
    import glob
    enc, _ = load_taef2()
    enc.to(a.device)
    for path in sorted(glob.glob(os.path.join(a.out, 'img_*_[0-9][0-9][0-9].npy'))):
        out = os.path.join(a.out, os.path.basename(path)[4:])
        if os.path.exists(out):
            continue
        ts = time.time()
        imgs = np.load(path)
        with torch.no_grad():
            lat = np.concatenate([enc(torch.from_numpy(imgs[b:b + a.batch]).to(a.device).float() / 255.0).cpu().numpy()
                                  for b in range(0, len(imgs), a.batch)]).astype(np.float16)
        np.save(out + '.tmp.npy', lat)
        os.replace(out + '.tmp.npy', out)
        print(f'{os.path.basename(out)}: {len(lat)} faces in {time.time() - ts:.0f}s', flush=True)


if __name__ == '__main__':
    main()
