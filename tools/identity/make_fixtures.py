"""Float64 ground truth for the identity VJP graphs: for each model in public/models/common/identity,
evaluate the ONNX forward graph with torch ops in float64 (tools/onnx_vjp/torch_eval.py) on the
fixture faces, take the identity-loss cotangent c = 2 (E(a) - E(b)), and record J^T c by
torch.autograd plus central finite differences along pseudo-random directions that the vitest test
regenerates (Park-Miller, exact in JS doubles).

Run: /usr/bin/python3 tools/identity/make_fixtures.py   (after convert.sh and make-face112.ts)
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import onnx
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..'))
from tools.onnx_vjp.torch_eval import TorchGraph  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FIX = os.path.join(ROOT, 'tests', 'fixtures', 'identity')
MODELS = os.path.join(ROOT, 'public', 'models', 'common', 'identity')
STRIDE = 7
SEED = 12345
K = 8
H = 1e-6


def park_miller(seed: int, n: int) -> np.ndarray:
    out = np.empty(n)
    s = seed
    for i in range(n):
        s = (s * 48271) % 2147483647
        out[i] = s / 2147483647 - 0.5
    return out


def face(name: str) -> np.ndarray:
    a = np.asarray(Image.open(os.path.join(FIX, name)).convert('RGB'), np.float64)
    return (a / 255 * 2 - 1).transpose(2, 0, 1)[None]


def main() -> None:
    xa, xb = face('face112-a.png'), face('face112-b.png')
    n = xa.size
    raw = park_miller(SEED, K * n).reshape(K, n)
    dirs = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    out = {'faces': ['face112-a.png', 'face112-b.png'], 'gradSampleStride': STRIDE,
           'directions': {'generator': 'park-miller', 'seed': SEED, 'count': K, 'h': H}, 'models': {}}
    for mid in ('mobilefacenet', 'mobileface'):
        g = TorchGraph(onnx.load(os.path.join(MODELS, f'{mid}.onnx')))
        with torch.no_grad():
            eb = g(torch.from_numpy(xb)).numpy()
        xt = torch.from_numpy(xa).requires_grad_(True)
        ea = g(xt)
        c = 2 * (ea.detach().numpy() - eb)
        (gx,) = torch.autograd.grad(ea, xt, torch.from_numpy(c))
        gx = gx.numpy().reshape(-1)
        ct = torch.from_numpy(c)
        fd = []
        with torch.no_grad():
            for v in dirs:
                vt = torch.from_numpy(v.reshape(xa.shape))
                fd.append(float(((g(torch.from_numpy(xa) + H * vt) - g(torch.from_numpy(xa) - H * vt)) * ct).sum() / (2 * H)))
        an = [float(gx @ v) for v in dirs]
        rel = max(abs(a - b) / abs(b) for a, b in zip(an, fd))
        print(f'{mid}: |E(a)-E(b)|^2 = {float((c ** 2).sum() / 4):.4g}, |grad| = {np.linalg.norm(gx):.4g}, '
              f'float64 autograd vs FD (h={H}) max rel {rel:.2e}')
        out['models'][mid] = {
            'embeddingA64': [float(v) for v in ea.detach().numpy().reshape(-1)],
            'cotangent': [float(v) for v in c.reshape(-1)],
            'gradNorm64': float(np.linalg.norm(gx)),
            'gradSample64': [float(v) for v in gx[::STRIDE]],
            'autograd64': an,
            'fd64': fd,
        }
    with open(os.path.join(FIX, 'vjp-identity.json'), 'w') as f:
        json.dump(out, f, separators=(',', ':'))


if __name__ == '__main__':
    main()
