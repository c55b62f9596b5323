"""TAEF2 (../shared/models/taef2, MIT) -> the ONNX graphs of a latent model set.

    /usr/bin/python3 -m tools.convert.taef2 --out DIR [--res 256] [--check] [--fp16]
    /usr/bin/python3 -m tools.convert.taef2 --raw-encoder .data/taef2/encoder-raw.onnx   # training input

Writes (DIR):
  encoder.fp32.onnx     image (1,3,R,R) in [-1,1]          -> latent (1,32,R/8,R/8), raw TAEF2 latents
  decoder.fp32.onnx     latent (1,32,r,r) raw              -> image (1,3,8r,8r) in [-1,1], NOT clamped
  decoder-vjp.fp32.onnx (input latent, cotangent image)    -> grad_input, the decoder's VJP (tools/onnx_vjp)
  *.fp16.onnx           fp16 copies (tools/convert/fp16.py; I/O stays float32)
  taef2-report.json     the checks below

The graphs work on RAW latents; the per-channel normalisation the prior was trained with lives in the
manifest's `latent` block and is applied by the engine, so one autoencoder serves any prior trained on it.
The engine clamps the decoded image to [-1,1] for x0_hat and passes the gradient straight through that clamp
(a clamped pixel still pulls its latent), so the VJP is of the unclamped decoder.

--check (needs `npm ci`: graphs run in onnxruntime-node): on the four real faces of
../shared/testdata/ref_faces (resized to R), every fp32 graph against PyTorch (max abs diff), the VJP against
torch.autograd (relative L2 and max abs), and the fp16 copies (measured, not bounded: CPU computes them in fp32).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from tools.pgdiff_models.taef2 import DOWNSCALE, LATENT_CHANNELS, load_taef2
from tools.onnx_vjp import make_vjp

from .convert import diff_stats, ort_run
from .fp16 import convert_to_fp16
from .onnx_graph import simplify

REPO_ROOT = Path(__file__).resolve().parents[2]
OPSET = 17
REF_FACES = REPO_ROOT.parent / "shared" / "testdata" / "ref_faces"


class PmEncoder(nn.Module):
    """[-1,1] image -> raw latent."""

    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, x):
        return self.enc((x + 1) * 0.5)


class PmDecoder(nn.Module):
    """raw latent -> [-1,1] image, unclamped."""

    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, z):
        return self.dec(z) * 2 - 1


def export(model: nn.Module, x: torch.Tensor, path: Path, in_name: str, out_name: str) -> onnx.ModelProto:
    torch.onnx.export(model, (x,), str(path), opset_version=OPSET, input_names=[in_name], output_names=[out_name],
                      do_constant_folding=True)
    m = simplify(onnx.load(str(path)))
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(path))
    return m


def real_faces(res: int) -> np.ndarray:
    from PIL import Image
    files = sorted(REF_FACES.glob("*.png"))[:4]
    if not files:
        raise SystemExit(f"no faces in {REF_FACES}")
    arr = [np.asarray(Image.open(f).convert("RGB").resize((res, res), Image.BICUBIC)) for f in files]
    return np.stack(arr).transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0


def convert(out: Path, res: int, fp16: bool, check: bool, log=print) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    enc, dec = load_taef2()
    r = res // DOWNSCALE
    penc, pdec = PmEncoder(enc).eval(), PmDecoder(dec).eval()
    report: dict = {"resolution": res, "latent": [LATENT_CHANNELS, r, r], "files": {}}
    m_enc = export(penc, torch.zeros(1, 3, res, res), out / "encoder.fp32.onnx", "image", "latent")
    m_dec = export(pdec, torch.zeros(1, LATENT_CHANNELS, r, r), out / "decoder.fp32.onnx", "latent", "image")
    vjp = make_vjp(m_dec, [1, LATENT_CHANNELS, r, r], cotangent_name="cotangent")
    onnx.save(vjp, str(out / "decoder-vjp.fp32.onnx"))
    graphs = {"encoder": m_enc, "decoder": m_dec, "decoder-vjp": vjp}
    if fp16:
        for stem, m in graphs.items():
            m16, rep = convert_to_fp16(m)
            onnx.save(m16, str(out / f"{stem}.fp16.onnx"))
            report["files"][f"{stem}.fp16"] = {"fp16": rep.as_dict()}
    for stem in graphs:
        for dt in ("fp32", "fp16") if fp16 else ("fp32",):
            p = out / f"{stem}.{dt}.onnx"
            report["files"].setdefault(f"{stem}.{dt}", {})["bytes"] = p.stat().st_size
    if check:
        report["check"] = check_graphs(out, penc, pdec, res, fp16, log)
    (out / "taef2-report.json").write_text(json.dumps(report, indent=1))
    return report


def check_graphs(out: Path, penc, pdec, res: int, fp16: bool, log=print) -> dict:
    import copy
    x = real_faces(res)
    res_: dict = {"faces": len(x)}
    pdec64 = copy.deepcopy(pdec).double()
    dts = ("fp32", "fp16") if fp16 else ("fp32",)
    worst: dict = {}
    for i in range(len(x)):
        xi = torch.from_numpy(x[i:i + 1])
        with torch.no_grad():
            z = penc(xi)
            y = pdec(z)
        zq = z.detach().clone().requires_grad_(True)
        ct = torch.from_numpy(np.random.RandomState(i).randn(*y.shape).astype(np.float32))
        (gz,) = torch.autograd.grad((pdec(zq) * ct).sum(), zq)
        z64 = z.detach().double().requires_grad_(True)
        (g64,) = torch.autograd.grad((pdec64(z64) * ct.double()).sum(), z64)
        g64 = g64.numpy()
        rel64 = lambda a: float(np.linalg.norm(a.astype(np.float64) - g64) / np.linalg.norm(g64))  # noqa: E731
        w = worst.setdefault("vjp_vs_float64_autograd", {"torch_float32": 0.0, "onnx_fp32": 0.0})
        w["torch_float32"] = max(w["torch_float32"], rel64(gz.numpy()))
        psnr = float(10 * np.log10(4.0 / float(torch.mean((y.clamp(-1, 1) - xi) ** 2))))
        worst.setdefault("round_trip_psnr_db", []).append(round(psnr, 2))
        for dt in dts:
            ge, _ = ort_run(out / f"encoder.{dt}.onnx", {"image": xi.numpy()}, ["latent"])
            gd, _ = ort_run(out / f"decoder.{dt}.onnx", {"latent": z.numpy()}, ["image"])
            gv, _ = ort_run(out / f"decoder-vjp.{dt}.onnx", {"input": z.numpy(), "cotangent": ct.numpy()}, ["grad_input"])
            if dt == "fp32":
                w["onnx_fp32"] = max(w["onnx_fp32"], rel64(gv["grad_input"]))
            for key, got, want in (("encoder", ge["latent"], z.numpy()), ("decoder", gd["image"], y.numpy()),
                                   ("decoder-vjp", gv["grad_input"], gz.numpy())):
                st = diff_stats(got, want)
                st["rel_l2"] = float(np.linalg.norm(got - want) / np.linalg.norm(want))
                wk = worst.setdefault(f"{key}.{dt}", {"max_abs": 0.0, "rel_l2": 0.0, "max_abs_ref": 0.0})
                for k in wk:
                    wk[k] = max(wk[k], st[k])
    # the VJP graph itself, evaluated in float64 with torch ops (tools/onnx_vjp/torch_eval), against float64
    # autograd: separates the graph's exactness from float32 rounding at the decoder's ReLU kinks
    from tools.onnx_vjp.torch_eval import TorchGraph
    tg = TorchGraph(onnx.load(str(out / "decoder-vjp.fp32.onnx")))
    with torch.no_grad():
        z = penc(torch.from_numpy(x[:1]))
    ct = torch.from_numpy(np.random.RandomState(0).randn(1, 3, res, res))
    z64 = z.double().requires_grad_(True)
    (g64,) = torch.autograd.grad((pdec64(z64) * ct).sum(), z64)
    with torch.no_grad():
        got = tg.run({"input": z.double(), "cotangent": ct})
    worst["vjp_graph_float64_vs_autograd_rel_l2"] = float(torch.linalg.norm(got - g64) / torch.linalg.norm(g64))
    for k, v in worst.items():
        log(f"[taef2] {k}: {v}")
    res_.update(worst)
    return res_


def fit_preview(res: int = 256, n: int = 0) -> dict:
    """Least-squares RGB = M z + b per latent cell, against the decoder's output average-pooled to the latent grid,
    on real faces (../shared/testdata/ref_faces and cropped_faces); returns matrix (3 x C, row-major), bias, fit PSNR."""
    from PIL import Image
    enc, dec = load_taef2()
    files = sorted(REF_FACES.glob("*.png")) + sorted((REF_FACES.parent / "cropped_faces").glob("*.png"))
    if n:
        files = files[:n]
    zs, ys = [], []
    with torch.no_grad():
        for f in files:
            im = np.asarray(Image.open(f).convert("RGB").resize((res, res), Image.BICUBIC), dtype=np.float32) / 255.0
            z = enc(torch.from_numpy(im.transpose(2, 0, 1).copy())[None])
            y = torch.nn.functional.avg_pool2d(dec(z).clamp(0, 1) * 2 - 1, DOWNSCALE)
            zs.append(z[0].reshape(LATENT_CHANNELS, -1).T)
            ys.append(y[0].reshape(3, -1).T)
    Z = torch.cat(zs).double()
    Y = torch.cat(ys).double()
    A = torch.cat([Z, torch.ones(len(Z), 1, dtype=torch.float64)], 1)
    sol = torch.linalg.lstsq(A, Y).solution
    mse = float(torch.mean((A @ sol - Y) ** 2))
    return {"matrix": [round(float(v), 6) for v in sol[:LATENT_CHANNELS].T.reshape(-1)],
            "bias": [round(float(v), 6) for v in sol[LATENT_CHANNELS]],
            "fitPsnrDb": round(10 * float(np.log10(4.0 / mse)), 2), "faces": len(files),
            "what": "RGB in [-1,1] of the decoded face average-pooled to the latent grid, from the raw latent cell"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--res", type=int, default=256)
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--raw-encoder", type=Path, help="write the [0,1]-input encoder the training scripts use")
    a = ap.parse_args(argv)
    if a.raw_encoder:
        enc, _ = load_taef2()
        a.raw_encoder.parent.mkdir(parents=True, exist_ok=True)
        export(enc, torch.zeros(1, 3, a.res, a.res), a.raw_encoder, "x", "z")
        print(f"wrote {a.raw_encoder}")
    if a.out:
        rep = convert(a.out, a.res, a.fp16, a.check)
        rep["preview"] = fit_preview(a.res)
        (a.out / "taef2-report.json").write_text(json.dumps(rep, indent=1))
        print(json.dumps({"check": rep.get("check", {}), "preview_fit_psnr_db": rep["preview"]["fitPsnrDb"]}, indent=1))
    if not a.out and not a.raw_encoder:
        ap.error("nothing to do: give --out and/or --raw-encoder")


if __name__ == "__main__":
    sys.exit(main())
