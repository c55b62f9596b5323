#!/usr/bin/env python3
"""Held-out faces under the quality runs' fixed recipes, for tools/train/restorer-eval.ts.

  /usr/bin/python3 tools/train/restorer_recipes.py [--n 24]   # .data/lat256/img_val{blind,old}_000.npy

The first N held-out faces (img_val_000.npy) degraded by degrade.py's blind_test (seed 100 + i) and old_photo_test
without scratches (seed 200 + i): the restorer's scores on what the quality runs feed it, beside valdeg_000 (its own
training recipe).
"""
import argparse, os, sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import degrade as D  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', default=os.path.join(HERE, '..', '..', '.data', 'lat256'))
    ap.add_argument('--n', type=int, default=24)
    a = ap.parse_args()
    v = np.load(os.path.join(a.dir, 'img_val_000.npy'))[:a.n]
    recipes = {'valblind': lambda x, i: D.blind_test(x, 100 + i), 'valold': lambda x, i: D.old_photo_test(x, 200 + i, False)[0]}
    for name, f in recipes.items():
        out = np.empty_like(v)
        for i in range(len(v)):
            x = v[i].transpose(1, 2, 0).astype(np.float32) / 255
            out[i] = np.clip(np.round(f(x, i) * 255), 0, 255).astype(np.uint8).transpose(2, 0, 1)
        np.save(os.path.join(a.dir, f'img_{name}_000.npy'), out)
        print(f'wrote img_{name}_000.npy ({len(out)} faces)')


if __name__ == '__main__':
    main()
