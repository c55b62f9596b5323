"""Check our architectures against the authors' (golden outputs + official key/shape lists).

Run from the repo root:  /usr/bin/python3 -m tools.pgdiff_models.verify
Exits non-zero on any failure.
"""
from __future__ import annotations

import json
import sys

import numpy as np
import torch

from . import GOLDEN_DIR, OFFICIAL_DIR, load_prior_state_dict, load_restorer_state_dict
from .iresnet import iresnet50
from .rrdb import OFFICIAL_RESTORER, Restorer, create_restorer
from .unet import OFFICIAL_PRIOR_512, create_unet

TOL = 1e-4


def read_keys_tsv(path) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        name, shape = line.split("\t")
        dims = tuple(int(d) for d in shape.strip("()").split(",") if d.strip())
        out.append((name, dims))
    return out


def compare_keys(label: str, sd: dict, tsv: str, prefix: str = "") -> bool:
    want = read_keys_tsv(OFFICIAL_DIR / tsv)
    got = [(prefix + k, tuple(v.shape)) for k, v in sd.items()]
    ok = got == want
    n = sum(int(np.prod(s)) for _, s in got)
    print(f"[{'OK' if ok else 'FAIL'}] {label}: {len(got)} tensors, {n} elements vs {tsv} ({len(want)} tensors)")
    if not ok:
        gs, ws = dict(got), dict(want)
        for k in sorted(set(ws) - set(gs))[:10]:
            print("   missing:", k, ws[k])
        for k in sorted(set(gs) - set(ws))[:10]:
            print("   extra:  ", k, gs[k])
        for k in sorted(set(gs) & set(ws)):
            if gs[k] != ws[k]:
                print("   shape:  ", k, gs[k], "want", ws[k])
        if set(gs) == set(ws):
            print("   same names and shapes, different order")
    return ok


def main() -> int:
    torch.set_num_threads(1)
    ok = True
    with torch.no_grad():
        # golden prior
        cfg = json.loads((GOLDEN_DIR / "prior-small.config.json").read_text())
        prior = create_unet(cfg).eval()
        n_params = sum(p.numel() for p in prior.parameters())
        prior.load_state_dict(load_prior_state_dict(GOLDEN_DIR / "prior-small.pth"), strict=True)
        x = torch.from_numpy(np.load(GOLDEN_DIR / "prior-small.input-x.npy"))
        t = torch.from_numpy(np.load(GOLDEN_DIR / "prior-small.input-t.npy"))
        want = np.load(GOLDEN_DIR / "prior-small.output.npy")
        got = prior(x, t).numpy()
        d = float(np.abs(got - want).max())
        good = d <= TOL and n_params == cfg["params"] and got.shape == want.shape
        ok &= good
        print(f"[{'OK' if good else 'FAIL'}] prior-small: params {n_params} (config {cfg['params']}), "
              f"out {got.shape}, max|diff| {d:.3e}, max|out| {np.abs(want).max():.3f}")

        # golden restorer: every key of the checkpoint must be used (strict load both ways)
        rcfg = json.loads((GOLDEN_DIR / "restorer-small.config.json").read_text())
        rest = create_restorer(rcfg).eval()
        n_params = sum(p.numel() for p in rest.parameters())
        rsd = load_restorer_state_dict(GOLDEN_DIR / "restorer-small.pth")
        res = rest.load_state_dict(rsd, strict=True)
        xt = torch.from_numpy(np.load(GOLDEN_DIR / "restorer-small.input-xt.npy"))
        y = torch.from_numpy(np.load(GOLDEN_DIR / "restorer-small.input-y.npy"))
        rt = torch.from_numpy(np.load(GOLDEN_DIR / "restorer-small.input-t.npy"))
        want = np.load(GOLDEN_DIR / "restorer-small.output.npy")
        got = rest(xt, y, rt).numpy()
        d = float(np.abs(got - want).max())
        good = d <= TOL and n_params == rcfg["params"] and not res.missing_keys and not res.unexpected_keys
        ok &= good
        print(f"[{'OK' if good else 'FAIL'}] restorer-small: params {n_params} (config {rcfg['params']}), "
              f"{len(rsd)} checkpoint tensors all used, out {got.shape}, max|diff| {d:.3e}, "
              f"max|out| {np.abs(want).max():.3f}")

    # full-size architectures with random weights: names and shapes must equal the official lists
    torch.manual_seed(0)
    ok &= compare_keys("prior 512 (official config)", create_unet(OFFICIAL_PRIOR_512).state_dict(),
                       "prior-iddpm_ffhq512.keys.tsv", prefix="module.")
    ok &= compare_keys("restorer (23 blocks, 64 feat, growth 32)", Restorer(**OFFICIAL_RESTORER).state_dict(),
                       "restorer-rrdb.keys.tsv")
    ok &= compare_keys("arcface iresnet50", iresnet50().state_dict(), "arcface-iresnet50.keys.tsv")
    print("ALL OK" if ok else "FAILURES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
