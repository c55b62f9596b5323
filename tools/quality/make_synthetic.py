#!/usr/bin/env python3
"""Synthetic test inputs from held-out UTKFace faces (tools/train/utk_split.py), for
tools/quality/run.ts. Uses tools/train/degrade.py's fixed recipes, at max(128, --res) px then area-resized to --res.

  /usr/bin/python3 tools/quality/make_synthetic.py [--n 6] [--out .data/quality-inputs]

Without --src (default .data/utk_val200) it first extracts the held-out faces there (all 467).

Writes per face i: gt_i.png (64, clean), blind_i.png, grey_i.png, old_i.png (faded+grey, no scratches),
oldscr_i.png + oldscr_mask_i.png (with scratches; white = damaged), inpaint_i.png + inpaint_mask_i.png
(a box and strokes), all 64x64, and list.json.
"""
import argparse, json, os, sys
import numpy as np
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'train'))
import degrade as D  # noqa: E402
from utk_split import TAR, is_val, jpeg_members  # noqa: E402


def save(x, p):
    Image.fromarray((np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)).save(p)


def extract_val(dst: str):
    """All 467 held-out faces (tools/train/utk_split.py), as their JPEG files. (The
    folder's name says 200, but the inputs in docs/quality.md were always picked from the whole split.)"""
    import tarfile
    with tarfile.open(TAR) as tf:
        members = jpeg_members(tf)
        os.makedirs(dst, exist_ok=True)
        for m in (m for i, m in enumerate(members) if is_val(i)):
            with open(os.path.join(dst, os.path.basename(m.name)), 'wb') as f:
                f.write(tf.extractfile(m).read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', default=os.path.join(ROOT, '.data', 'utk_val200'))
    ap.add_argument('--n', type=int, default=6)
    ap.add_argument('--res', type=int, default=64)
    ap.add_argument('--out', default=os.path.join(ROOT, '.data', 'quality-inputs'))
    a = ap.parse_args()
    if not os.path.isdir(a.src):
        extract_val(a.src)  # also the real faces run.ts measures samples against (--real)
    os.makedirs(a.out, exist_ok=True)
    names = sorted(os.listdir(a.src))
    # spread over the split (every k-th held-out file), deterministic
    pick = names[:: max(1, len(names) // a.n)][:a.n]
    R = a.res
    items = []
    for i, name in enumerate(pick):
        im = Image.open(os.path.join(a.src, name)).convert('RGB')
        hi = np.asarray(im.resize((max(128, R), max(128, R)), Image.BICUBIC), np.float32) / 255
        gt = np.asarray(im.resize((R, R), Image.BICUBIC), np.float32) / 255
        down = lambda x: D.resize(x, R, R, 'area')
        save(gt, f'{a.out}/gt_{i}.png')
        save(down(D.blind_test(hi, 1000 + i)), f'{a.out}/blind_{i}.png')
        save(D.to_grey(gt), f'{a.out}/grey_{i}.png')
        y, _ = D.old_photo_test(hi, 2000 + i, False)
        save(down(y), f'{a.out}/old_{i}.png')
        y, m = D.old_photo_test(hi, 3000 + i, True)
        y = down(y)
        m = (D.resize(np.repeat(m[..., None], 3, -1), R, R, 'area')[..., 0] > 0.2).astype(np.float32)
        save(y, f'{a.out}/oldscr_{i}.png')
        save(np.repeat(m[..., None], 3, -1), f'{a.out}/oldscr_mask_{i}.png')
        rs = np.random.RandomState(4000 + i)
        mk = Image.new('L', (R, R), 0)
        d = ImageDraw.Draw(mk)
        x0, y0 = rs.randint(8, R // 2), rs.randint(8, R // 2)
        d.rectangle([x0, y0, x0 + R // 4, y0 + R // 5], fill=255)
        for _ in range(3):
            d.line([tuple(rs.randint(0, R, 2)), tuple(rs.randint(0, R, 2))], fill=255, width=max(1, R // 32))
        mask = np.asarray(mk, np.float32)[..., None] / 255
        save(gt * (1 - mask) + mask, f'{a.out}/inpaint_{i}.png')
        save(np.repeat(mask, 3, -1), f'{a.out}/inpaint_mask_{i}.png')
        items.append({'i': i, 'source': name})
    json.dump({'res': R, 'items': items}, open(f'{a.out}/list.json', 'w'), indent=1)
    print(json.dumps({'written': len(items), 'out': a.out}))


if __name__ == '__main__':
    main()
