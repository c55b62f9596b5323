"""Export the ONNX test fixtures (opset 17) and the tiny model-set manifest.

Run from the repo root:  /usr/bin/python3 -m tools.pgdiff_models.make_fixtures
Writes tests/fixtures/models/tiny/{prior,restorer,identity,identity-vjp}.onnx + manifest.json and
tests/fixtures/models/bench/{prior.onnx,config.json}. Deterministic: fixed seeds, same bytes each run
(checked by tests/fixtures/models/tiny.test.ts only through sha256 in the manifest).
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch

from . import GOLDEN_DIR, REPO_ROOT, load_prior_state_dict, load_restorer_state_dict
from .rrdb import create_restorer
from .tiny_identity import EMBED_DIM, INPUT_SIZE, TinyIdentity, TinyIdentityVJP
from .unet import create_unet

OPSET = 17
TINY = REPO_ROOT / "tests" / "fixtures" / "models" / "tiny"
BENCH = REPO_ROOT / "tests" / "fixtures" / "models" / "bench"
FFHQ512_TEMPLATE = [
    [192.98138, 239.94708],
    [318.90277, 240.1936],
    [256.63416, 314.01935],
    [201.26117, 371.41043],
    [313.08905, 371.15118],
]

BENCH_CONFIG = dict(
    image_size=256,
    num_channels=32,
    num_res_blocks=1,
    channel_mult=[1, 1, 2, 2, 4, 4],
    attention_resolutions=[16, 8],
    num_head_channels=64,
    num_heads=1,
    use_scale_shift_norm=True,
    resblock_updown=False,
    use_new_attention_order=False,
    learn_sigma=True,
    dropout=0.0,
    in_channels=3,
)


def export(model: torch.nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
           dynamic: dict | None = None) -> None:
    buf = io.BytesIO()
    torch.onnx.export(model, args, buf, opset_version=OPSET, input_names=inputs, output_names=outputs,
                      dynamic_axes=dynamic, do_constant_folding=True)
    m = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(m)
    m.producer_name = "pgdiff-web tools/pgdiff_models"
    m.producer_version = "1"
    path.write_bytes(m.SerializeToString())
    print(f"wrote {path.relative_to(REPO_ROOT)} ({path.stat().st_size} bytes)")


def file_entry(path: Path) -> dict:
    data = path.read_bytes()
    return {"path": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "dtype": "float32"}


def main() -> int:
    torch.set_num_threads(1)
    TINY.mkdir(parents=True, exist_ok=True)
    BENCH.mkdir(parents=True, exist_ok=True)
    hw = {2: "H", 3: "W"}

    # prior: golden prior-small with its golden weights
    cfg = json.loads((GOLDEN_DIR / "prior-small.config.json").read_text())
    prior = create_unet(cfg).eval()
    prior.load_state_dict(load_prior_state_dict(GOLDEN_DIR / "prior-small.pth"), strict=True)
    x = torch.from_numpy(np.load(GOLDEN_DIR / "prior-small.input-x.npy"))[:1]
    export(prior, (x, torch.tensor([999], dtype=torch.int64)), TINY / "prior.onnx", ["x", "t"], ["out"],
           {"x": hw, "out": hw})

    # restorer: golden restorer-small with its golden weights
    rcfg = json.loads((GOLDEN_DIR / "restorer-small.config.json").read_text())
    rest = create_restorer(rcfg).eval()
    rest.load_state_dict(load_restorer_state_dict(GOLDEN_DIR / "restorer-small.pth"), strict=True)
    xt = torch.from_numpy(np.load(GOLDEN_DIR / "restorer-small.input-xt.npy"))
    y = torch.from_numpy(np.load(GOLDEN_DIR / "restorer-small.input-y.npy"))
    export(rest, (xt, y, torch.tensor([500], dtype=torch.int64)), TINY / "restorer.onnx", ["x_t", "y", "t"],
           ["out"], {"x_t": hw, "y": hw, "out": hw})

    # identity + its VJP (random weights, seed 1234)
    ident = TinyIdentity().randomize(1234)
    g = torch.Generator().manual_seed(99)
    xin = torch.rand((1, 3, INPUT_SIZE, INPUT_SIZE), generator=g) * 2 - 1
    cot = torch.randn((1, EMBED_DIM), generator=g)
    export(ident, (xin,), TINY / "identity.onnx", ["input"], ["embedding"])
    vjp = TinyIdentityVJP(ident).eval()
    xr = xin.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad((ident(xr) * cot).sum(), xr)
    with torch.no_grad():
        mine = vjp(xin, cot)
    d = float((mine - ref).abs().max())
    print(f"identity-vjp vs torch.autograd: max|diff| {d:.3e} (max|grad| {float(ref.abs().max()):.3e})")
    if d > 1e-5:
        print("FAIL: VJP mismatch")
        return 1
    export(vjp, (xin, cot), TINY / "identity-vjp.onnx", ["input", "cotangent"], ["grad_input"])

    # bench prior: official architecture family, scaled down, random weights (seed 0)
    torch.manual_seed(0)
    bench = create_unet(BENCH_CONFIG).eval()
    xb = torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ob = bench(xb, torch.tensor([500]))
    print(f"bench prior: {sum(p.numel() for p in bench.parameters())} params, out max|.| {float(ob.abs().max()):.3f}")
    export(bench, (xb, torch.tensor([500], dtype=torch.int64)), BENCH / "prior.onnx", ["x", "t"], ["out"],
           {"x": hw, "out": hw})
    bcfg = dict(BENCH_CONFIG, params=sum(p.numel() for p in bench.parameters()), weights="random (torch.manual_seed(0), default init)",
                note="guided-diffusion UNet of the official family, scaled down for benchmarks; dynamic H, W (multiples of 32)",
                inputs={"x": [1, 3, "H", "W"], "t": [1]}, outputs={"out": [1, 6, "H", "W"]},
                file=file_entry(BENCH / "prior.onnx"))
    (BENCH / "config.json").write_text(json.dumps(bcfg, indent=1) + "\n")

    scale = 64 / 512
    manifest = {
        "format": "pgdiff-model-set",
        "version": 1,
        "name": "tiny-test",
        "setVersion": "1.0.0",
        "description": "Tiny 64x64 test set: the golden small prior and restorer from the official-architecture "
                       "checkpoints, and a tiny random ArcFace-shaped identity net with its VJP. For tests only.",
        "licence": "TEST WEIGHTS ONLY: these networks have random (test) weights and produce no meaningful "
                   "images. They exist for automated tests of PGDiff web and must not be used or presented "
                   "as a face restoration model.",
        "resolution": 64,
        "diffusion": {"steps": 1000, "schedule": "linear", "variance": "learned-range", "prediction": "epsilon",
                      "timestep": "original-index"},
        "alignment": {"template": [[round(a * scale, 6), round(b * scale, 6)] for a, b in FFHQ512_TEMPLATE],
                      "size": 64},
        "preprocessing": {"range": "[-1,1]", "channels": "RGB", "layout": "NCHW"},
        "models": [
            {"role": "prior", "files": {"fp32": file_entry(TINY / "prior.onnx")},
             "inputs": [{"name": "x", "shape": [1, 3, "H", "W"], "dtype": "float32"},
                        {"name": "t", "shape": [1], "dtype": "int64"}],
             "outputs": [{"name": "out", "shape": [1, 6, "H", "W"], "dtype": "float32"}]},
            {"role": "restorer", "files": {"fp32": file_entry(TINY / "restorer.onnx")},
             "inputs": [{"name": "x_t", "shape": [1, 3, "H", "W"], "dtype": "float32"},
                        {"name": "y", "shape": [1, 3, "H", "W"], "dtype": "float32"},
                        {"name": "t", "shape": [1], "dtype": "int64"}],
             "outputs": [{"name": "out", "shape": [1, 3, "H", "W"], "dtype": "float32"}],
             "params": {"usesXt": True}},
            {"role": "identity", "files": {"fp32": file_entry(TINY / "identity.onnx")},
             "inputs": [{"name": "input", "shape": [1, 3, INPUT_SIZE, INPUT_SIZE], "dtype": "float32"}],
             "outputs": [{"name": "embedding", "shape": [1, EMBED_DIM], "dtype": "float32"}],
             "params": {"inputSize": INPUT_SIZE, "embeddingDim": EMBED_DIM}},
            {"role": "identity-vjp", "files": {"fp32": file_entry(TINY / "identity-vjp.onnx")},
             "inputs": [{"name": "input", "shape": [1, 3, INPUT_SIZE, INPUT_SIZE], "dtype": "float32"},
                        {"name": "cotangent", "shape": [1, EMBED_DIM], "dtype": "float32"}],
             "outputs": [{"name": "grad_input", "shape": [1, 3, INPUT_SIZE, INPUT_SIZE], "dtype": "float32"}],
             "params": {"inputSize": INPUT_SIZE, "embeddingDim": EMBED_DIM}},
        ],
        "testOnly": True,
    }
    (TINY / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print("wrote tests/fixtures/models/tiny/manifest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
