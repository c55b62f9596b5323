#!/usr/bin/env python3
"""Pack the UTKFace tar into uint8 arrays for training.

Usage: /usr/bin/python3 tools/train/pack.py [--tar ../shared/datasets/utkface/utkface-aligned-200.tar]
         [--out .data] [--res 64] [--sharp-drop 0.05] [--carry-quality 92]

Writes (all under --out, which is git-ignored):
  utk{R}_train.npy   uint8 (N,3,R,R)   training split
  utk{R}_val.npy     uint8 (M,3,R,R)   held-out split: every 50th file by sorted name
  utk{R}_val_names.txt                 file names of the held-out split (same order)
  utk{R}_carry.npz   the whole packed set (train+val, before the sharpness filter) as
                     JPEG bytes at quality --carry-quality, <= 64 MiB, for a GPU run to carry
  pack_{R}.json      counts, sharpness threshold, sizes

Sharpness filter (training split only): variance of the 3x3 Laplacian of the grey image at 200x200;
the lowest --sharp-drop fraction is dropped (blurry/low-quality photos).
"""
import argparse, io, json, os, tarfile, time
import numpy as np
from PIL import Image

from utk_split import TAR, is_val, jpeg_members, laplacian_var


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, '..', '..'))
    ap.add_argument('--tar', default=TAR)
    ap.add_argument('--out', default=os.path.join(root, '.data'))
    ap.add_argument('--res', type=int, nargs='+', default=[64])
    ap.add_argument('--sharp-drop', type=float, default=0.05)
    ap.add_argument('--carry-quality', type=int, default=92)
    ap.add_argument('--limit', type=int, default=0, help='only the first N files (tests)')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    with tarfile.open(a.tar) as tf:
        members = jpeg_members(tf, a.limit)
        names, imgs = [], {r: [] for r in a.res}
        sharp = []
        for m in members:
            data = tf.extractfile(m).read()
            im = Image.open(io.BytesIO(data)).convert('RGB')
            sharp.append(laplacian_var(np.asarray(im.convert('L'))))
            for r in a.res:
                imgs[r].append(np.asarray(im.resize((r, r), Image.BICUBIC, reducing_gap=None)).transpose(2, 0, 1))
            names.append(os.path.basename(m.name))
    n = len(names)
    idx = np.arange(n)
    val, tr = idx[is_val(idx)], idx[~is_val(idx)]
    sharp = np.array(sharp)
    thr = float(np.quantile(sharp[tr], a.sharp_drop)) if a.sharp_drop > 0 else -1.0
    tr_keep = tr[sharp[tr] > thr] if a.sharp_drop > 0 else tr
    info = {'files': n, 'val': int(len(val)), 'train_before_filter': int(len(tr)),
            'train': int(len(tr_keep)), 'sharpness_threshold_laplacian_var': thr,
            'sharp_drop': a.sharp_drop, 'seconds': None, 'res': {}}
    for r in a.res:
        arr = np.stack(imgs[r])
        np.save(os.path.join(a.out, f'utk{r}_train.npy'), arr[tr_keep])
        np.save(os.path.join(a.out, f'utk{r}_val.npy'), arr[val])
        with open(os.path.join(a.out, f'utk{r}_val_names.txt'), 'w') as f:
            f.write('\n'.join(names[i] for i in val) + '\n')
        # carry copy: JPEG bytes of every image (train split before filter + val), plus names and split
        blobs = []
        for i in range(n):
            b = io.BytesIO()
            Image.fromarray(arr[i].transpose(1, 2, 0)).save(b, 'JPEG', quality=a.carry_quality)
            blobs.append(np.frombuffer(b.getvalue(), np.uint8))
        lens = np.array([len(x) for x in blobs], np.int64)
        cp = os.path.join(a.out, f'utk{r}_carry.npz')
        np.savez(cp, jpeg=np.concatenate(blobs), lengths=lens, names=np.array(names),
                 is_val=is_val(idx), sharpness=sharp.astype(np.float32), res=np.int64(r))
        info['res'][str(r)] = {'train_shape': list(arr[tr_keep].shape), 'carry_bytes': os.path.getsize(cp)}
        if os.path.getsize(cp) > 64 * 1024 * 1024:
            print(f'WARNING: carry file {cp} is over 64 MiB; lower --carry-quality')
    info['seconds'] = round(time.time() - t0, 1)
    with open(os.path.join(a.out, f'pack_{"_".join(map(str, a.res))}.json'), 'w') as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info, indent=1))


def unpack_carry(path, out, sharp_drop=0.05):
    """Carry npz -> utk{R}_train.npy / utk{R}_val.npy in `out` (same split and sharpness rule as main())."""
    imgs, held_out, sharp = load_carry(path)
    r = imgs.shape[-1]
    tr = np.where(~held_out)[0]
    thr = float(np.quantile(sharp[tr], sharp_drop)) if sharp_drop > 0 else -1.0
    keep = tr[sharp[tr] > thr] if sharp_drop > 0 else tr
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, f'utk{r}_train.npy'), imgs[keep])
    np.save(os.path.join(out, f'utk{r}_val.npy'), imgs[held_out])
    print(json.dumps({'train': int(len(keep)), 'val': int(held_out.sum()), 'res': int(r)}))


def load_carry(path):
    """Decode a carry npz back to (train uint8 (N,3,R,R), val uint8) applying the same filter rule."""
    z = np.load(path)
    jpeg, lengths = z['jpeg'], z['lengths']  # read each member once (NpzFile re-reads on every access)
    off = np.concatenate([[0], np.cumsum(lengths)])
    imgs = np.stack([np.asarray(Image.open(io.BytesIO(jpeg[off[i]:off[i + 1]].tobytes())).convert('RGB')).transpose(2, 0, 1)
                     for i in range(len(lengths))])
    return imgs, z['is_val'], z['sharpness']


if __name__ == '__main__':
    import sys
    if len(sys.argv) >= 4 and sys.argv[1] == '--from-carry':
        unpack_carry(sys.argv[2], sys.argv[3])
    else:
        main()
