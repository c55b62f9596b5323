"""End-to-end proof at full size, with random weights saved in the official file layouts.

    /usr/bin/python3 -m tools.convert.check_full [--out DIR] [--only prior,restorer,arcface] [--threads 2]

1. builds the three official architectures (prior 512, restorer 23/64/32, ArcFace iresnet50) with random
   weights, every tensor perturbed (BatchNorm statistics too), and saves them the way the authors' files are:
   prior with DataParallel's `module.` prefix, restorer under 'state_dict', ArcFace as an fp16 state dict;
2. checks that each saved file's names and shapes equal ../shared/spec/official-checkpoints/*.keys.tsv
   (so the real checkpoints load through the same code, key for key);
3. runs the converter's command line on them (`--check`: one random input per network, PyTorch vs
   onnxruntime-node, fp32 and fp16) and fails if any fp32 graph differs from PyTorch by more than 1e-4;
4. cross-checks the converter's MAC count (from the ONNX graph) with PyTorch forward hooks on the golden
   small prior (the full-size count uses the same code);
5. writes DIR/full-check.json with every number.
Scratch output: .data/convert/full (git-ignored). One 512x512 prior forward takes ~20-40 s per
runtime here; the whole run takes several minutes.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

from tools.pgdiff_models import create_unet, iresnet50
from tools.pgdiff_models.rrdb import OFFICIAL_RESTORER, Restorer
from tools.pgdiff_models.unet import OFFICIAL_PRIOR_512, QKVAttentionLegacy

from .convert import REPO_ROOT, export_onnx, run
from .onnx_graph import count_macs

OFFICIAL = REPO_ROOT.parent / "shared" / "spec" / "official-checkpoints"
GOLDEN = OFFICIAL / "golden"
FP32_TOL = 1e-4


def read_keys(name: str) -> list:
    out = []
    for line in (OFFICIAL / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        k, shape = line.split("\t")
        out.append((k, tuple(int(d) for d in shape.strip("()").split(",") if d.strip())))
    return out


def perturb(model: torch.nn.Module, seed: int) -> None:
    """Every tensor random (no zero-initialised layer, no unit BatchNorm statistics)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=g))
            elif name.endswith("running_mean"):
                t.copy_(0.1 * torch.randn(t.shape, generator=g))
            elif t.dim() == 1:  # biases, norm weights, PReLU slopes
                t.add_(0.05 * torch.randn(t.shape, generator=g))
            else:
                t.mul_(1.0 + 0.05 * torch.randn(t.shape, generator=g))


def save_official(out: Path, only: set) -> dict:
    """Random-weight checkpoints in the official layouts; returns the key comparisons."""
    res = {}
    torch.manual_seed(0)
    if "prior" in only:
        p = out / "iddpm_ffhq512_ema500000.pth"
        if not p.exists():
            m = create_unet(OFFICIAL_PRIOR_512)
            perturb(m, 1)
            torch.save({"module." + k: v for k, v in m.state_dict().items()}, str(p))
            del m
        sd = torch.load(str(p), map_location="cpu")
        res["prior"] = compare(sd, "prior-iddpm_ffhq512.keys.tsv")
        del sd
    if "restorer" in only:
        p = out / "rrdb_iter_100000.pth"
        if not p.exists():
            m = Restorer(**OFFICIAL_RESTORER)
            perturb(m, 2)
            torch.save({"state_dict": m.state_dict()}, str(p))
        res["restorer"] = compare(torch.load(str(p), map_location="cpu")["state_dict"], "restorer-rrdb.keys.tsv")
    if "arcface" in only:
        p = out / "ms1mv3_arcface_r50_fp16.pth"
        if not p.exists():
            m = iresnet50()
            perturb(m, 3)
            torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in m.state_dict().items()}, str(p))
        sd = torch.load(str(p), map_location="cpu")
        res["arcface"] = compare(sd, "arcface-iresnet50.keys.tsv")
        res["arcface"]["dtypes"] = sorted({str(v.dtype) for v in sd.values()})
    return res


def compare(sd: dict, tsv: str) -> dict:
    want = read_keys(tsv)
    got = [(k, tuple(v.shape)) for k, v in sd.items()]
    ok = got == want
    print(f"[{'OK' if ok else 'FAIL'}] saved layout vs {tsv}: {len(got)} tensors (official {len(want)})")
    return {"equal": ok, "tensors": len(got), "official": len(want)}


def torch_macs_hooks(model: torch.nn.Module, *inputs: torch.Tensor) -> dict:
    """Independent MAC count: forward hooks on Conv/Linear and the attention's two batched matmuls."""
    macs = {"conv": 0, "linear": 0, "attention": 0}
    hooks = []

    def conv_hook(mod, inp, out):
        macs["conv"] += out.numel() * (mod.in_channels // mod.groups) * math.prod(mod.kernel_size)

    def lin_hook(mod, inp, out):
        macs["linear"] += out.numel() * mod.in_features

    def att_hook(mod, inp, out):
        qkv = inp[0]
        bs, width, length = qkv.shape
        ch = width // (3 * mod.n_heads)
        macs["attention"] += 2 * bs * mod.n_heads * length * length * ch  # q^T k and v w^T

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d)):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, QKVAttentionLegacy):
            hooks.append(m.register_forward_hook(att_hook))
    with torch.no_grad():
        model(*inputs)
    for h in hooks:
        h.remove()
    return macs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=REPO_ROOT / ".data" / "convert" / "full")  # /.data/ is git-ignored
    ap.add_argument("--only", default="prior,restorer,arcface")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-vjp", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    only = set(a.only.split(","))
    ck = a.out / "checkpoints"
    ck.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    layouts = save_official(ck, only)
    ok = all(v["equal"] for v in layouts.values())

    # MAC counter cross-check on the golden small prior (cheap)
    cfg = json.loads((GOLDEN / "prior-small.config.json").read_text())
    small = create_unet(cfg).eval()
    x, t = torch.randn(1, 3, 64, 64), torch.tensor([10])
    hook = torch_macs_hooks(small, x, t)
    tmp = a.out / "macs-small.onnx"
    onnx_macs = count_macs(export_onnx(small, (x, t), ["x", "t"], ["out"], tmp, "mac check"))
    mac_ok = sum(hook.values()) == sum(onnx_macs.values())
    ok &= mac_ok
    print(f"[{'OK' if mac_ok else 'FAIL'}] MAC count, small prior: torch hooks {hook} = {sum(hook.values())}, "
          f"ONNX graph {onnx_macs} = {sum(onnx_macs.values())}")

    argv = ["--out", str(a.out / "model-set"), "--check", "--threads", str(a.threads), "--test-only",
            "--name", "random-full-size", "--licence", "TEST WEIGHTS ONLY: random weights in the official layouts."]
    if "prior" in only:
        argv += ["--prior", str(ck / "iddpm_ffhq512_ema500000.pth")]
    if "restorer" in only:
        argv += ["--restorer", str(ck / "rrdb_iter_100000.pth")]
    if "arcface" in only:
        argv += ["--arcface", str(ck / "ms1mv3_arcface_r50_fp16.pth")]
    if a.no_vjp:
        argv += ["--no-vjp"]
    report = run(argv)
    for r in report["models"]:
        c = r.get("check", {})
        if "fp32" in c:
            good = c["fp32"]["max_abs"] <= FP32_TOL
            ok &= good
            print(f"[{'OK' if good else 'FAIL'}] {r['role']}: fp32 ONNX vs PyTorch max|diff| {c['fp32']['max_abs']:.3e}"
                  + (f"; fp16 max|diff| {c['fp16']['max_abs']:.3e} (max|ref| {c['fp16']['max_abs_ref']:.3f})" if "fp16" in c else ""))
    summary = {"layouts": layouts, "mac_check_small": {"hooks": hook, "onnx": onnx_macs, "equal": mac_ok},
               "convert": report, "seconds": time.time() - t0, "ok": ok}
    (a.out / "full-check.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    for r in report["models"]:
        files = r.get("files", {})
        sizes = ", ".join(f"{k} {(a.out / 'model-set' / v['path']).stat().st_size / 1e6:.1f} MB" for k, v in files.items())
        print(f"{r['role']}: {r.get('parameters', '-')} parameters, {r.get('gflops_per_call', 0):.2f} GFLOPs per call, {sizes}")
    print("ALL OK" if ok else "FAILURES", f"({time.time() - t0:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
