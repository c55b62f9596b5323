"""Write tests/goldens/ from the Python reference (pgdiff_ref.py) and the tiny models.

Run from the repo root:  /usr/bin/python3 -m tools.reference.make_goldens
Deterministic (fixed seeds, one thread). See tools/reference/README.md for the layout.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tools.pgdiff_models import GOLDEN_DIR, REPO_ROOT, SHARED_DIR, load_prior_state_dict, load_restorer_state_dict
from tools.pgdiff_models.rrdb import create_restorer
from tools.pgdiff_models.tiny_identity import TinyIdentity
from tools.pgdiff_models.unet import create_unet

from .pgdiff_ref import (
    STYLE_0, Diffusion, GuidanceConfig, Models, NoiseSource, SamplerConfig, beta_schedule, sample,
    space_timesteps, style_from_images, window,
)

OUT = REPO_ROOT / "tests" / "goldens"
TESTDATA = SHARED_DIR / "testdata"
SIZE = 64
NOISE_SEED = 2023
IDENTITY_SEED = 1234  # the same weights as tests/fixtures/models/tiny/identity.onnx
X0_GRAD_CALLS = 3  # x0.bin / grad.bin keep the first calls only (size budget, see README)

INPUTS = {
    "blind": "cropped_faces/0040.png",
    "gray": "grayscale_faces/00063.png",
    "masked": "masked_faces/00059.png",
    "inpaint_mask": "append_masks/00059.png",
    "ref_lq": "ref_cropped_faces/00010.png",
    "ref_hq": "ref_faces/00010.png",
    "old": "old_photos/med/" + sorted(p.name for p in (TESTDATA / "old_photos" / "med").iterdir())[0],
    "old_scratch": "old_photos/med_scratch/0_7.jpg",
    "scratch_mask": "old_photos/scratch_masks/0_7.jpg",
}
MASKS = {"inpaint_mask", "scratch_mask"}


def load_image(rel: str) -> torch.Tensor:
    """RGB, PIL bilinear resize to 64x64 on uint8, then /127.5 - 1 -> (1,3,64,64) float32."""
    im = Image.open(TESTDATA / rel).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    a = np.asarray(im, dtype=np.float32) / 127.5 - 1
    return torch.from_numpy(a.transpose(2, 0, 1).copy())[None]


def load_mask(rel: str) -> torch.Tensor:
    """3-channel like cv2.imread, PIL bilinear resize on uint8, /255 -> (1,3,64,64) in [0,1]."""
    im = Image.open(TESTDATA / rel).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    a = np.asarray(im, dtype=np.float32) / 255.0
    return torch.from_numpy(a.transpose(2, 0, 1).copy())[None]


def tiny_models() -> Models:
    cfg = json.loads((GOLDEN_DIR / "prior-small.config.json").read_text())
    prior = create_unet(cfg).eval()
    prior.load_state_dict(load_prior_state_dict(GOLDEN_DIR / "prior-small.pth"), strict=True)
    rcfg = json.loads((GOLDEN_DIR / "restorer-small.config.json").read_text())
    rest = create_restorer(rcfg).eval()
    rest.load_state_dict(load_restorer_state_dict(GOLDEN_DIR / "restorer-small.pth"), strict=True)
    ident = TinyIdentity().randomize(IDENTITY_SEED)
    for m in (prior, rest, ident):
        for p in m.parameters():
            p.requires_grad_(False)
    return Models(prior=prior, restorer=rest, identity=ident)


def write_f32(path: Path, tensors: list[torch.Tensor]) -> None:
    data = b"".join(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes() for t in tensors)
    path.write_bytes(data)


def cases(inputs: dict[str, torch.Tensor]) -> list[dict]:
    ref_style = style_from_images([inputs["ref_hq"]])
    c = []

    def add(name: str, task: str, y: str, scale: float, respacing: str = "ddpm10", **kw) -> None:
        c.append(dict(name=name, task=task, y=y, scale=scale, respacing=respacing, **kw))

    add("blind", "restoration", "blind", 0.1)
    add("colorization", "colorization", "gray", 0.01, respacing="10", style=0)
    add("colorization_ref_style", "colorization", "gray", 0.01, style_mean=ref_style[0], style_std=ref_style[1],
        style_source=INPUTS["ref_hq"])
    add("blind_cosine_fixed_small", "restoration", "blind", 0.1, respacing="ddpm10", schedule="cosine", variance="fixed-small")
    add("inpainting", "inpainting", "masked", 0.01, mask="inpaint_mask")
    add("inpainting_n3", "inpainting", "masked", 0.01, respacing="10", mask="inpaint_mask", N=3, s_start=1.0, s_end=0.5)
    add("blind_n2", "restoration", "blind", 0.1, N=2, s_start=1.0, s_end=0.7)
    add("reference", "ref_restoration", "ref_lq", 0.1, ref="ref_hq", ref_weight=25.0, identity_loss="mse")
    add("reference_cosine", "ref_restoration", "ref_lq", 0.1, respacing="10", ref="ref_hq", ref_weight=1e4,
        identity_loss="cosine")
    add("old_photo", "old_photo_restoration", "old", 0.005)
    add("old_photo_scratch", "old_photo_restoration", "old_scratch", 0.005, respacing="10", mask="scratch_mask")
    add("blind_ddim_eta0", "restoration", "blind", 0.1, sampler="ddim", eta=0.0)
    add("blind_ddim_eta05", "restoration", "blind", 0.1, respacing="10", sampler="ddim", eta=0.5)
    add("unguided", "none", "blind", 0.0)
    add("blind_fixed_large", "restoration", "blind", 0.1, respacing="10", variance="fixed-large")
    return c


def main() -> int:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "inputs").mkdir(parents=True)
    models = tiny_models()

    inputs: dict[str, torch.Tensor] = {}
    input_files: dict[str, dict] = {}
    for key, rel in INPUTS.items():
        t = load_mask(rel) if key in MASKS else load_image(rel)
        inputs[key] = t
        fn = f"inputs/{key}.bin"
        write_f32(OUT / fn, [t])
        input_files[key] = {"file": fn, "source": f"../shared/testdata/{rel}", "shape": list(t.shape),
                            "kind": "mask [0,1], 1=missing" if key in MASKS else "image [-1,1] RGB"}

    all_cases = cases(inputs)
    longest: list[torch.Tensor] = []
    index = []
    for case in all_cases:
        name = case["name"]
        g = GuidanceConfig(task=case["task"], scale=case["scale"])
        for k in ("ref_weight", "identity_loss", "adain_grad"):
            if k in case:
                setattr(g, k, case[k])
        if "style_mean" in case:
            g.style_mean, g.style_std = tuple(case["style_mean"]), tuple(case["style_std"])
        s = SamplerConfig(schedule=case.get("schedule", "linear"), respacing=case["respacing"], variance=case.get("variance", "learned-range"),
                          sampler=case.get("sampler", "ddpm"), eta=case.get("eta", 0.0), N=case.get("N", 1),
                          s_start=case.get("s_start", 1.0), s_end=case.get("s_end", 0.7))
        noise = NoiseSource(NOISE_SEED)
        y = inputs[case["y"]]
        mask = inputs[case["mask"]] if "mask" in case else None
        ref = inputs[case["ref"]] if "ref" in case else None
        final, recs, diff = sample(models, g, s, y, noise, mask=mask, ref=ref)
        if len(noise.draws) > len(longest):
            longest = noise.draws
        d = OUT / name
        d.mkdir()
        write_f32(d / "steps.bin", [r.x_out for r in recs])
        write_f32(d / "x0.bin", [r.x0 for r in recs[:X0_GRAD_CALLS]])
        write_f32(d / "grad.bin", [r.grad for r in recs[:X0_GRAD_CALLS]])
        write_f32(d / "final.bin", [final])
        s_hi, s_lo = window(s)
        needs_restorer = "restoration" in g.task
        cfg = {
            "name": name,
            "task": g.task,
            "guidance": {
                "scale": g.scale, "lightness_weight": g.lightness_weight, "color_weight": g.color_weight,
                "unmasked_weight": g.unmasked_weight, "ss_weight": g.ss_weight, "ref_weight": g.ref_weight,
                "op_lightness_weight": g.op_lightness_weight, "op_color_weight": g.op_color_weight,
                "identity_loss": g.identity_loss, "style_mean": list(g.style_mean), "style_std": list(g.style_std),
                "style": case.get("style", "custom" if "style_mean" in case else 0),
                "style_source": case.get("style_source"),
                "adain_grad": g.adain_grad,
                "update": "ddim-score" if s.sampler == "ddim" else (
                    "mean-shift" if g.task in ("restoration", "ref_restoration", "none") else "dynamic-weight"),
            },
            "sampler": {
                "sampler": s.sampler, "eta": s.eta, "schedule": s.schedule, "steps": s.steps,
                "respacing": s.respacing, "variance": s.variance, "prediction": "epsilon", "clip_denoised": True,
                "N": s.N, "s_start": s.s_start, "s_end": s.s_end, "window_orig_exclusive": [s_lo, s_hi],
            },
            "models": {"prior": "tests/fixtures/models/tiny/prior.onnx", "prior_output_channels": 6,
                       "eps_channels": "0..2" + (" (v ignored)" if s.variance != "learned-range" else ", v = 3..5"),
                       "restorer": "tests/fixtures/models/tiny/restorer.onnx" if needs_restorer else None,
                       "identity": "tests/fixtures/models/tiny/identity.onnx" if g.task == "ref_restoration" else None},
            "inputs": {"y": input_files[case["y"]]["file"],
                       "mask": input_files[case["mask"]]["file"] if "mask" in case else None,
                       "ref": input_files[case["ref"]]["file"] if "ref" in case else None},
            "shape": list(y.shape),
            "kept_timesteps": diff.timestep_map,
            "respaced_betas": [float(b) for b in diff.betas],
            "noise": {"file": "noise.bin", "seed": NOISE_SEED, "generator": "torch.Generator().manual_seed(seed); torch.randn",
                      "count": len(noise.draws), "order": "x_T, then one per call (index k+1 for call k)"},
            "calls": [
                {"k": k, "t_index": r.t_index, "t_orig": r.t_orig, "repeat": r.repeat,
                 "coefficient": r.coefficient,
                 "noise_multiplied_by_zero": r.t_index == 0}
                for k, r in enumerate(recs)
            ],
            "repeated_timesteps_orig": sorted({r.t_orig for r in recs if r.repeat > 0}, reverse=True),
            "files": {"steps": {"file": "steps.bin", "count": len(recs)},
                      "x0": {"file": "x0.bin", "count": min(len(recs), X0_GRAD_CALLS)},
                      "grad": {"file": "grad.bin", "count": min(len(recs), X0_GRAD_CALLS),
                               "what": "dL/dx0 after mask zeroing, before scale and coefficients"},
                      "final": {"file": "final.bin", "count": 1}},
            "final_sha256": hashlib.sha256(final.numpy().astype("<f4").tobytes()).hexdigest(),
            "final_stats": {"min": float(final.min()), "max": float(final.max()), "mean": float(final.mean())},
        }
        (d / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")
        index.append({"name": name, "task": g.task, "calls": len(recs), "noise": len(noise.draws)})
        print(f"{name:24s} task={g.task:22s} calls={len(recs):2d} final range [{float(final.min()):.3f}, "
              f"{float(final.max()):.3f}] repeats at {cfg['repeated_timesteps_orig']}")

    write_f32(OUT / "noise.bin", longest)

    respacings = ["ddpm10", "ddpm25", "ddpm50", "ddpm100", "ddpm250", "10", "25", "50", "100", "250", "10,20", "5,10,15", "1000"]
    resp = {}
    for sched in ("linear", "cosine"):
        resp[sched] = {}
        for r in respacings:
            dd = Diffusion(sched, r)
            resp[sched][r] = {"kept": space_timesteps(1000, r), "betas": [float(b) for b in dd.betas]}
    (OUT / "respacing.json").write_text(json.dumps({"T": 1000, "respacings": resp}) + "\n")
    (OUT / "schedule.json").write_text(json.dumps({
        "T": 1000, "linear": [float(b) for b in beta_schedule("linear")], "cosine": [float(b) for b in beta_schedule("cosine")],
    }) + "\n")
    # torch's antialiased bilinear downsample, as the identity property resizes 512 -> 112
    src = torch.sin(torch.arange(3 * 512 * 512, dtype=torch.float64) * 0.7).float().reshape(1, 3, 512, 512)
    write_f32(OUT / "resize_aa_512_to_112.bin",
              [torch.nn.functional.interpolate(src, (112, 112), mode="bilinear", antialias=True)])

    (OUT / "index.json").write_text(json.dumps({
        "size": SIZE, "noise": {"file": "noise.bin", "count": len(longest), "seed": NOISE_SEED},
        "inputs": input_files, "cases": index, "x0_grad_calls": X0_GRAD_CALLS,
        "style0": {"mean": list(STYLE_0[0]), "std": list(STYLE_0[1])},
        "resize_aa": {"file": "resize_aa_512_to_112.bin", "input": "float32(sin(0.7 * i)), i = 0..3*512*512-1, (1,3,512,512)",
                      "op": "F.interpolate((112,112), mode='bilinear', antialias=True, align_corners=False)"},
    }, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"tests/goldens: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
