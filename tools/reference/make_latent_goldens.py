"""The tiny latent model set (tests/fixtures/models/tiny-latent) and the latent goldens (tests/goldens-latent).

Run from the repo root:  /usr/bin/python3 -m tools.reference.make_latent_goldens
Deterministic on one machine (fixed seeds, one thread).

The set: a random 4-channel latent space at 1/4 of 64 px (16x16x4), a small random decoder built from TAEF2's
own layer types (soft clamp, convs, ReLU, residual blocks with the GroupNorm pool, nearest upsampling), its VJP
graph from tools/onnx_vjp (Tanh in place of ReLU: see smooth()), a random guided-diffusion UNet over the latents, and the pixel tiny set's restorer and
identity network (../tiny). The goldens run pgdiff_ref.sample in its latent mode, where the pixel gradient reaches
the latent through torch.autograd of the decoder (not through the VJP graph the engine uses).
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from tools.onnx_vjp import make_vjp
from tools.pgdiff_models import REPO_ROOT
from tools.pgdiff_models.taef2 import Block, Clamp
from tools.pgdiff_models.unet import create_unet

from .make_goldens import INPUTS, MASKS, NOISE_SEED, load_image, load_mask, tiny_models, write_f32
from .pgdiff_ref import GuidanceConfig, LatentModels, NoiseSource, SamplerConfig, sample, window

OPSET = 17
SET = REPO_ROOT / "tests" / "fixtures" / "models" / "tiny-latent"
OUT = REPO_ROOT / "tests" / "goldens-latent"
C, DOWN, SIZE = 4, 4, 64
LAT = SIZE // DOWN
MEAN = [-0.2, 0.05, 0.15, 0.3]
STD = [0.6, 0.8, 0.9, 1.1]
PRIOR_CFG = dict(image_size=LAT, num_channels=32, num_res_blocks=[1, 1], channel_mult=[1, 2], attention_resolutions=[8],
                 num_head_channels=32, num_heads=1, use_scale_shift_norm=True, resblock_updown=False,
                 use_new_attention_order=False, learn_sigma=False, dropout=0.0, in_channels=C, out_channels=2 * C)


def smooth(block: Block) -> Block:
    """TAEF2's block with Tanh in place of ReLU: float32 implementations of a ReLU net disagree wherever an input
    sits within rounding of a kink (measured on the real TAEF2 in tools/convert/taef2.py, whose VJP graph is proven
    exact in float64 there); a kink-free decoder lets these goldens check the engine's plumbing at 1e-4."""
    for seq in (block.conv, block.pool):
        if seq is not None:
            for i, m in enumerate(seq):
                if isinstance(m, nn.ReLU):
                    seq[i] = nn.Tanh()
    block.fuse = nn.Tanh()
    return block


class TinyDecoder(nn.Module):
    """RAW latent (1,4,16,16) -> image in [-1,1]-ish (1,3,64,64), unclamped; TAEF2's layer types (soft clamp,
    convs, residual blocks with the GroupNorm pool, nearest upsampling), smooth activations."""

    def __init__(self):
        super().__init__()
        n = 16
        self.net = nn.Sequential(
            Clamp(), nn.Conv2d(C, n, 3, padding=1), nn.Tanh(), smooth(Block(n, True)),
            nn.Upsample(scale_factor=2), nn.Conv2d(n, n, 3, padding=1, bias=False), smooth(Block(n)),
            nn.Upsample(scale_factor=2), nn.Conv2d(n, n, 3, padding=1, bias=False), smooth(Block(n)),
            nn.Conv2d(n, 3, 3, padding=1),
        )

    def forward(self, z):
        return self.net(z) * 2 - 1


class TamePrior(nn.Module):
    """A random UNet made well-behaved: eps = sqrt(1-abar_t) x + 0.2 sqrt(abar_t) u, so that
    x0_hat = sqrt(abar_t) x - 0.2 sqrt(1-abar_t) u stays bounded at every t (a random eps would blow the
    unclipped latent x0_hat up by 1/sqrt(abar) ~ 150 at t = 999); v = tanh(u_v)."""

    def __init__(self, unet: nn.Module):
        super().__init__()
        self.unet = unet
        from .pgdiff_ref import beta_schedule
        abar = np.cumprod(1 - beta_schedule("linear"))
        self.register_buffer("s1m", torch.tensor(np.sqrt(1 - abar), dtype=torch.float32))
        self.register_buffer("sa", torch.tensor(np.sqrt(abar), dtype=torch.float32))

    def forward(self, x, t):
        u = self.unet(x, t)
        a = self.s1m[t].view(-1, 1, 1, 1)
        b = self.sa[t].view(-1, 1, 1, 1)
        return torch.cat([a * x + 0.2 * b * u[:, :C], torch.tanh(u[:, C:])], 1)


def build_models() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(31)
    dec = TinyDecoder().eval()
    prior = create_unet(PRIOR_CFG).eval()
    # guided-diffusion zero-initialises output layers: give every weight a small random value instead
    g = torch.Generator().manual_seed(32)
    with torch.no_grad():
        for name, p in prior.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / np.sqrt(fan_in))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05 + (1.0 if name.endswith("norm.weight") or ".0.weight" in name and p.dim() == 1 else 0.0))
    prior = TamePrior(prior).eval()
    for m in (dec, prior):
        for p in m.parameters():
            p.requires_grad_(False)
    return prior, dec


def export(model: nn.Module, args: tuple, inputs: list[str], outputs: list[str], dynamic: dict | None = None) -> onnx.ModelProto:
    buf = io.BytesIO()
    torch.onnx.export(model, args, buf, opset_version=OPSET, input_names=inputs, output_names=outputs,
                      dynamic_axes=dynamic, do_constant_folding=True)
    m = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(m)
    m.producer_name = "pgdiff-web tools/reference/make_latent_goldens"
    return m


def file_entry(path: Path, rel: str) -> dict:
    data = path.read_bytes()
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "dtype": "float32"}


def preview_fit(dec: nn.Module) -> dict:
    """Least-squares linear map raw latent cell -> RGB of the decoded image average-pooled to the latent grid."""
    g = torch.Generator().manual_seed(33)
    mean = torch.tensor(MEAN).view(1, C, 1, 1)
    std = torch.tensor(STD).view(1, C, 1, 1)
    z = torch.randn(16, C, LAT, LAT, generator=g) * std + mean
    with torch.no_grad():
        img = torch.nn.functional.avg_pool2d(dec(z).clamp(-1, 1), DOWN)
    A = torch.cat([z.permute(0, 2, 3, 1).reshape(-1, C), torch.ones(16 * LAT * LAT, 1)], 1).double()
    B = img.permute(0, 2, 3, 1).reshape(-1, 3).double()
    sol = torch.linalg.lstsq(A, B).solution  # (C+1, 3)
    pred = A @ sol
    mse = float(torch.mean((pred - B) ** 2))
    return {"matrix": [round(float(v), 6) for v in sol[:C].T.reshape(-1)], "bias": [round(float(v), 6) for v in sol[C]],
            "fitPsnrDb": round(10 * np.log10(4.0 / mse), 2)}


def write_set(prior: nn.Module, dec: nn.Module) -> None:
    if SET.exists():
        shutil.rmtree(SET)
    SET.mkdir(parents=True)
    onnx.save(export(prior, (torch.zeros(1, C, LAT, LAT), torch.tensor([500])), ["x", "t"], ["out"],
                     {"x": {2: "H", 3: "W"}, "out": {2: "H", 3: "W"}}), str(SET / "prior.onnx"))
    m_dec = export(dec, (torch.zeros(1, C, LAT, LAT),), ["latent"], ["image"])
    onnx.save(m_dec, str(SET / "decoder.onnx"))
    from tools.convert.onnx_graph import simplify
    onnx.save(make_vjp(simplify(m_dec), [1, C, LAT, LAT]), str(SET / "decoder-vjp.onnx"))
    tiny = json.loads((REPO_ROOT / "tests" / "fixtures" / "models" / "tiny" / "manifest.json").read_text())
    models = [
        {"role": "prior", "files": {"fp32": file_entry(SET / "prior.onnx", "prior.onnx")},
         "inputs": [{"name": "x", "shape": [1, C, "H", "W"], "dtype": "float32"}, {"name": "t", "shape": [1], "dtype": "int64"}],
         "outputs": [{"name": "out", "shape": [1, 2 * C, "H", "W"], "dtype": "float32"}]},
        {"role": "decoder", "files": {"fp32": file_entry(SET / "decoder.onnx", "decoder.onnx")},
         "inputs": [{"name": "latent", "shape": [1, C, LAT, LAT], "dtype": "float32"}],
         "outputs": [{"name": "image", "shape": [1, 3, SIZE, SIZE], "dtype": "float32"}]},
        {"role": "decoder-vjp", "files": {"fp32": file_entry(SET / "decoder-vjp.onnx", "decoder-vjp.onnx")},
         "inputs": [{"name": "input", "shape": [1, C, LAT, LAT], "dtype": "float32"},
                    {"name": "cotangent", "shape": [1, 3, SIZE, SIZE], "dtype": "float32"}],
         "outputs": [{"name": "grad_input", "shape": [1, C, LAT, LAT], "dtype": "float32"}]},
    ]
    for e in tiny["models"]:
        if e["role"] in ("restorer", "identity", "identity-vjp"):
            e = json.loads(json.dumps(e))
            e["files"]["fp32"]["path"] = "../tiny/" + e["files"]["fp32"]["path"]
            models.append(e)
    manifest = {
        "format": "pgdiff-model-set", "version": 1, "name": "tiny-latent-test", "setVersion": "1.0.0",
        "description": "Tiny latent test set: random 16x16x4 latents of 64 px images, a small random decoder with "
                       "TAEF2's layer types and its VJP, a random latent UNet; restorer and identity from the tiny set. "
                       "For tests only.",
        "licence": tiny["licence"], "resolution": SIZE,
        "diffusion": {**tiny["diffusion"], "variance": "learned-range"},
        "alignment": tiny["alignment"], "preprocessing": tiny["preprocessing"], "testOnly": True,
        "latent": {"channels": C, "downscale": DOWN, "mean": MEAN, "std": STD, "preview": preview_fit(dec)},
        "models": models,
    }
    (SET / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def cases() -> list[dict]:
    c = []

    def add(name: str, task: str, y: str, scale: float, respacing: str = "ddpm10", **kw) -> None:
        c.append(dict(name=name, task=task, y=y, scale=scale, respacing=respacing, **kw))

    add("blind", "restoration", "blind", 0.1)
    add("colorization", "colorization", "gray", 0.01, respacing="10")
    add("inpainting", "inpainting", "masked", 0.01, mask="inpaint_mask")
    add("inpainting_n2", "inpainting", "masked", 0.01, respacing="10", mask="inpaint_mask", N=2, s_start=1.0, s_end=0.5)
    add("reference_cosine", "ref_restoration", "ref_lq", 0.1, ref="ref_hq", ref_weight=1e4, identity_loss="cosine")
    add("old_photo_scratch", "old_photo_restoration", "old_scratch", 0.005, respacing="10", mask="scratch_mask")
    add("blind_ddim_eta0", "restoration", "blind", 0.1, sampler="ddim", eta=0.0)
    add("unguided_fixed_large", "none", "blind", 0.0, variance="fixed-large")
    return c


def main() -> int:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    prior, dec = build_models()
    write_set(prior, dec)
    pixel = tiny_models()
    from .pgdiff_ref import Models
    models = Models(prior=prior, restorer=pixel.restorer, identity=pixel.identity)
    lm = LatentModels(decoder=dec, mean=torch.tensor(MEAN).view(1, C, 1, 1), std=torch.tensor(STD).view(1, C, 1, 1))
    inputs = {k: (load_mask(v) if k in MASKS else load_image(v)) for k, v in INPUTS.items()}
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    index, longest = [], []
    for case in cases():
        name = case["name"]
        # the spec's stop-gradient AdaIN target (what the engine computes); the authors' 'through' differs where the
        # AdaIN clamp binds, which the random decoder's images make common (pixel goldens check both readings)
        g = GuidanceConfig(task=case["task"], scale=case["scale"], adain_grad="stop")
        for k in ("ref_weight", "identity_loss"):
            if k in case:
                setattr(g, k, case[k])
        s = SamplerConfig(respacing=case["respacing"], variance=case.get("variance", "learned-range"),
                          sampler=case.get("sampler", "ddpm"), eta=case.get("eta", 0.0), N=case.get("N", 1),
                          s_start=case.get("s_start", 1.0), s_end=case.get("s_end", 0.7), latent_downscale=DOWN)
        noise = NoiseSource(NOISE_SEED)
        y = inputs[case["y"]]
        mask = inputs[case["mask"]] if "mask" in case else None
        ref = inputs[case["ref"]] if "ref" in case else None
        final, recs, diff = sample(models, g, s, y, noise, mask=mask, ref=ref, latent=lm)
        if len(noise.draws) > len(longest):
            longest = noise.draws
        d = OUT / name
        d.mkdir()
        write_f32(d / "steps.bin", [r.x_out for r in recs])
        write_f32(d / "x0.bin", [r.x0 for r in recs[:3]])
        write_f32(d / "grad.bin", [r.grad for r in recs[:3]])
        write_f32(d / "final.bin", [final])
        with torch.no_grad():
            decoded = dec(final * lm.std + lm.mean).clamp(-1, 1)
        write_f32(d / "decoded.bin", [decoded])
        s_hi, s_lo = window(s)
        cfg = {
            "name": name, "task": g.task,
            "guidance": {
                "scale": g.scale, "lightness_weight": g.lightness_weight, "color_weight": g.color_weight,
                "unmasked_weight": g.unmasked_weight, "ss_weight": g.ss_weight, "ref_weight": g.ref_weight,
                "op_lightness_weight": g.op_lightness_weight, "op_color_weight": g.op_color_weight,
                "identity_loss": g.identity_loss, "style_mean": list(g.style_mean), "style_std": list(g.style_std),
                "style": 0, "style_source": None, "adain_grad": g.adain_grad,
                "update": "ddim-score" if s.sampler == "ddim" else (
                    "mean-shift" if g.task in ("restoration", "ref_restoration", "none") else "dynamic-weight"),
            },
            "sampler": {
                "sampler": s.sampler, "eta": s.eta, "schedule": s.schedule, "steps": s.steps, "respacing": s.respacing,
                "variance": s.variance, "prediction": "epsilon", "clip_denoised": False, "N": s.N,
                "s_start": s.s_start, "s_end": s.s_end, "window_orig_exclusive": [s_lo, s_hi],
            },
            "latent": {"set": "tests/fixtures/models/tiny-latent", "channels": C, "downscale": DOWN, "mean": MEAN, "std": STD,
                       "gradient": "torch.autograd through the decoder; straight through the [-1,1] clamp"},
            "models": {"prior": "tests/fixtures/models/tiny-latent/prior.onnx", "restorer": "tests/fixtures/models/tiny/restorer.onnx",
                       "identity": "tests/fixtures/models/tiny/identity.onnx"},
            "inputs": {"y": f"../goldens/inputs/{case['y']}.bin",
                       "mask": f"../goldens/inputs/{case['mask']}.bin" if "mask" in case else None,
                       "ref": f"../goldens/inputs/{case['ref']}.bin" if "ref" in case else None},
            "shape": list(y.shape),
            "latent_shape": list(final.shape),
            "kept_timesteps": diff.timestep_map,
            "respaced_betas": [float(b) for b in diff.betas],
            "noise": {"file": "noise.bin", "seed": NOISE_SEED, "count": len(noise.draws)},
            "calls": [{"k": k, "t_index": r.t_index, "t_orig": r.t_orig, "repeat": r.repeat, "coefficient": r.coefficient,
                       "noise_multiplied_by_zero": r.t_index == 0} for k, r in enumerate(recs)],
            "repeated_timesteps_orig": sorted({r.t_orig for r in recs if r.repeat > 0}, reverse=True),
            "files": {"steps": {"file": "steps.bin", "count": len(recs)}, "x0": {"file": "x0.bin", "count": min(3, len(recs))},
                      "grad": {"file": "grad.bin", "count": min(3, len(recs)),
                               "what": "dL/dz0 of the normalised latent (pixel mask zeroing applied), before scale"},
                      "final": {"file": "final.bin", "count": 1},
                      "decoded": {"file": "decoded.bin", "count": 1, "what": "clamp(decoder(final * std + mean)), pixels"}},
        }
        (d / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")
        index.append({"name": name, "task": g.task, "calls": len(recs)})
        print(f"{name:22s} calls={len(recs):2d} final latent range [{float(final.min()):.3f}, {float(final.max()):.3f}]"
              f" |grad0| {float(recs[0].grad.abs().max()):.3e}")
    write_f32(OUT / "noise.bin", longest)
    (OUT / "index.json").write_text(json.dumps({"cases": index, "set": "tests/fixtures/models/tiny-latent"}, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file()) + sum(p.stat().st_size for p in SET.rglob("*"))
    print(f"tests/goldens-latent + tiny-latent set: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
