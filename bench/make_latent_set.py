"""The latent benchmark set (random prior of realistic size + the real TAEF2 graphs) and PyTorch's own timings.

    /usr/bin/python3 -m bench.make_latent_set [--out .data/bench-latent] [--threads 2] [--res 256]

Writes OUT/{prior,decoder,decoder-vjp,restorer}.onnx + manifest.json (not committed: 20 MB of random weights,
made again in about a minute) and OUT/torch-times.json: per call, in this process with --threads threads,
the prior, the decoder, and the decoder forward + torch.autograd VJP (what a PyTorch implementation of the
latent guidance would pay), medians of 5 after a warm-up.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from pathlib import Path

import onnx
import torch
from torch import nn

from tools.convert.taef2 import PmDecoder, convert
from tools.pgdiff_models.taef2 import load_taef2
from tools.pgdiff_models.unet import create_unet

REPO = Path(__file__).resolve().parents[1]
# the CPU pilot's prior (5.0M parameters), as the benchmark asks
PRIOR = dict(image_size=32, num_channels=64, num_res_blocks=[1, 1, 1], channel_mult=[1, 2, 2], attention_resolutions=[16, 8],
             num_head_channels=32, num_heads=1, use_scale_shift_norm=True, resblock_updown=False,
             use_new_attention_order=False, learn_sigma=False, dropout=0.0, in_channels=32, out_channels=32)


class YRestorer(nn.Module):
    """A small random y -> f network (a latent set's restorer reads only y): 3 convs, 32 channels."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(32, 3, 3, padding=1))

    def forward(self, y):
        return y + 0.1 * self.net(y)


def entry(out: Path, name: str) -> dict:
    data = (out / name).read_bytes()
    return {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "dtype": "float32"}


def timed(fn, n: int = 5) -> float:
    fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=REPO / ".data" / "bench-latent")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--res", type=int, default=256)
    ap.add_argument("--times-only", action="store_true", help="only PyTorch's timings (the set already exists)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    r = a.res // 8
    prior = create_unet(dict(PRIOR, image_size=r)).eval()
    with torch.no_grad():
        for p in prior.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    if a.times_only:
        return torch_times(out, prior, a, r)
    torch.onnx.export(prior, (torch.zeros(1, 32, r, r), torch.tensor([500])), str(out / "prior.onnx"), opset_version=17,
                      input_names=["x", "t"], output_names=["out"])
    rest = YRestorer().eval()
    torch.onnx.export(rest, (torch.zeros(1, 3, a.res, a.res),), str(out / "restorer.onnx"), opset_version=17,
                      input_names=["y"], output_names=["out"])
    convert(out, a.res, fp16=False, check=False)
    for stem in ("decoder", "decoder-vjp"):
        (out / f"{stem}.fp32.onnx").rename(out / f"{stem}.onnx")
    tiny = json.loads((REPO / "tests" / "fixtures" / "models" / "tiny" / "manifest.json").read_text())
    params = sum(p.numel() for p in prior.parameters())
    manifest = {
        "format": "pgdiff-model-set", "version": 1, "name": "bench-latent", "setVersion": "1.0.0",
        "description": f"Benchmark: random {params / 1e6:.2f}M-parameter latent prior at {r}x{r}x32, the real TAEF2 decoder and its VJP, a small random y-only restorer.",
        "licence": tiny["licence"] + " TAEF2: MIT (madebyollin/taesd).", "resolution": a.res,
        "diffusion": {"steps": 1000, "schedule": "linear", "variance": "fixed-large", "prediction": "epsilon", "timestep": "original-index"},
        "alignment": {"template": [[x * a.res / 64, y * a.res / 64] for x, y in tiny["alignment"]["template"]], "size": a.res},
        "preprocessing": tiny["preprocessing"], "testOnly": True,
        "latent": {"channels": 32, "downscale": 8, "mean": [0.0] * 32, "std": [1.0] * 32},
        "models": [
            {"role": "prior", "files": {"fp32": entry(out, "prior.onnx")},
             "inputs": [{"name": "x", "shape": [1, 32, r, r], "dtype": "float32"}, {"name": "t", "shape": [1], "dtype": "int64"}],
             "outputs": [{"name": "out", "shape": [1, 32, r, r], "dtype": "float32"}]},
            {"role": "restorer", "files": {"fp32": entry(out, "restorer.onnx")},
             "inputs": [{"name": "y", "shape": [1, 3, a.res, a.res], "dtype": "float32"}],
             "outputs": [{"name": "out", "shape": [1, 3, a.res, a.res], "dtype": "float32"}]},
            {"role": "decoder", "files": {"fp32": entry(out, "decoder.onnx")},
             "inputs": [{"name": "latent", "shape": [1, 32, r, r], "dtype": "float32"}],
             "outputs": [{"name": "image", "shape": [1, 3, a.res, a.res], "dtype": "float32"}]},
            {"role": "decoder-vjp", "files": {"fp32": entry(out, "decoder-vjp.onnx")},
             "inputs": [{"name": "input", "shape": [1, 32, r, r], "dtype": "float32"},
                        {"name": "cotangent", "shape": [1, 3, a.res, a.res], "dtype": "float32"}],
             "outputs": [{"name": "grad_input", "shape": [1, 32, r, r], "dtype": "float32"}]},
        ],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    torch_times(out, prior, a, r)
    onnx.checker.check_model(str(out / "decoder-vjp.onnx"))


def torch_times(out: Path, prior, a, r: int) -> None:
    """PyTorch on the same CPU, same thread count: prior, decoder, decoder forward + autograd VJP."""
    params = sum(p.numel() for p in prior.parameters())
    _, dec = load_taef2()
    pdec = PmDecoder(dec).eval()
    z = torch.randn(1, 32, r, r) * 0.8
    t = torch.tensor([500])
    ct = torch.randn(1, 3, a.res, a.res)

    def fwd_vjp():
        zq = z.clone().requires_grad_(True)
        torch.autograd.grad((pdec(zq) * ct).sum(), zq)

    with torch.no_grad():
        times = {"prior_ms": timed(lambda: prior(z, t)), "decoder_ms": timed(lambda: pdec(z))}
    times["decoder_forward_autograd_vjp_ms"] = timed(fwd_vjp)
    times.update(threads=a.threads, torch=torch.__version__, prior_params=params, res=a.res)
    (out / "torch-times.json").write_text(json.dumps(times, indent=1))
    print(json.dumps(times))


if __name__ == "__main__":
    main()
