#!/usr/bin/env python3
"""Build the latent model set from a trained latent prior: the prior's EMA weights, the TAEF2 decoder and its VJP
(fp32 + fp16), its encoder (a start below T from the restorer's estimate), the fitted preview map, face-api's
FaceRecognitionNet (faceapi-resnet) for identity guidance, an optional restorer, and the manifest. MobileFace is NOT in the
set: it stays the independent network that grades identity in tools/quality (a network never grades its own guidance).

  /usr/bin/python3 tools/train/ship_latent.py --run .data/runs/latent256 [--out public/models/pgdiff-utk-latent]
      [--ema tools/train/checkpoints/latent256-ema.pt] [--restorer FILE.onnx] [--defaults tools/train/latent-defaults.json]
  /usr/bin/python3 tools/train/ship_latent.py --run .data/runs/latent256 --save-ema tools/train/checkpoints/latent256-prior.onnx
  /usr/bin/python3 tools/train/ship_latent.py --manifest-only [--out public/models/pgdiff-utk-latent]

--manifest-only rewrites only the manifest (licence, identity network, defaults, preview map) from the files already in
--out: the state comes from the shipped prior.onnx's resume metadata (or --ema), restorer.onnx is listed when present;
no network is exported again, so every file keeps its bytes.

--save-ema writes only the resume point: the EMA prior as ONNX (fp32, < 16 MiB) carrying its config, latent statistics,
step count and wall time in its metadata (a .pt path writes a torch file instead); a later session resumes from it when
.data/ is gone (`latent_prior.py --init-ema FILE`). Every shipped prior.onnx is such a resume point too.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import onnx  # noqa: E402
import torch  # noqa: E402

from latent_prior import build, export_onnx  # noqa: E402
from tools.convert.onnx_graph import store_fp16  # noqa: E402
from tools.convert.taef2 import convert, fit_preview  # noqa: E402

# UTKFace's framing as the app's aligner sees it (BlazeFace + face mesh: workers/faces/templates.ts UTKFACE_TEMPLATE_200),
# at 200 px, scaled to the set's resolution. (Until the third session of 2026-12-01 the set used the BlazeFace-only
# template, which made the app's crops show faces at about 0.8x their size in the training data.)
UTK_TEMPLATE_200 = [[59.75, 59.4], [137.42, 59.71], [98.36, 101.21], [64.5, 137.53], [132.82, 137.58]]
LICENCE = (
    "Prior: trained by the PGDiff web project on the UTKFace dataset (https://susanqq.github.io/UTKFace/), which is "
    "available for non-commercial research purposes only, the copyright of the images belonging to their original owners. "
    "These trained weights inherit that restriction: use them for non-commercial research only. "
    "Autoencoder (decoder, its gradient graph): TAEF2 by Ollin Boer Bohan (github.com/madebyollin/taesd), MIT licence, "
    "Copyright (c) 2023 Ollin Boer Bohan. "
    "Identity network (faceapi-resnet, ../common/identity/): the face recognition network of @vladmandic/face-api 1.7.15, "
    "MIT licence, Copyright (c) Vladimir Mandic, a fork of face-api.js (MIT licence, Copyright (c) 2018 Vincent M\u00fchler), "
    "whose weights are a port of dlib's dlib_face_recognition_resnet_model_v1 by Davis King, released into the public "
    "domain (github.com/davisking/dlib-models)."
)
# identity guidance: face-api's FaceRecognitionNet (dlib's 128-d ResNet), converted with its VJP graph
# (public/models/common/identity/README.md). MobileFace is deliberately not the guide: tools/quality grades identity with it.
IDENTITY = "faceapi-resnet"
IDENTITY_PARAMS = {"inputSize": 112, "embeddingDim": 128,
                   "network": "face-api FaceRecognitionNet (dlib ResNet, @vladmandic/face-api 1.7.15, MIT)"}


def identity_models(ident_dir: str) -> list[dict]:
    """The set's identity and identity-vjp entries, paths relative to the set's folder."""
    return [
        {"role": "identity", "fp32": f"{ident_dir}/{IDENTITY}.onnx", "params": dict(IDENTITY_PARAMS)},
        {"role": "identity-vjp", "fp32": f"{ident_dir}/{IDENTITY}-vjp.onnx",
         "params": {k: IDENTITY_PARAMS[k] for k in ("inputSize", "embeddingDim")}},
    ]


def load_state(a) -> dict:
    if a.ema:
        if a.ema.endswith(".onnx"):
            from latent_prior import load_onnx_state
            return load_onnx_state(a.ema)
        return torch.load(a.ema, map_location="cpu")
    ck = torch.load(os.path.join(a.run, "ckpt.pt"), map_location="cpu")
    return {"ema": ck["ema"], "config": ck["config"], "step": ck["step"], "latent_mean": ck["latent_mean"],
            "latent_std": ck["latent_std"], "wall_s": ck.get("wall_s"), "val_log": ck.get("val_log", []),
            "schedule": ck.get("schedule", "linear"),
            "log": ck.get("log", [])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=str(ROOT / ".data" / "runs" / "latent256"))
    ap.add_argument("--ema", default="", help="resume-point file instead of the run's checkpoint")
    ap.add_argument("--out", default=str(ROOT / "public" / "models" / "pgdiff-utk-latent"))
    ap.add_argument("--res", type=int, default=256)
    ap.add_argument("--restorer", default="", help="an ONNX restorer (y [, t] -> f) to include")
    ap.add_argument("--defaults", default=str(HERE / "latent-defaults.json"))
    ap.add_argument("--restorer-step", type=int, default=0,
                    help="the restorer's training step, appended to the set version (+rN) when the restorer is newer than the prior")
    ap.add_argument("--save-ema", default="")
    ap.add_argument("--manifest-only", action="store_true",
                    help="rewrite only the manifest from the files already in --out (state from its prior.onnx unless --ema)")
    a = ap.parse_args()
    if a.manifest_only and not a.ema:
        a.ema = str(Path(a.out) / "prior.onnx")
    st = load_state(a)
    if a.save_ema:
        Path(a.save_ema).parent.mkdir(parents=True, exist_ok=True)
        if a.save_ema.endswith(".onnx"):
            model = build(st["config"])
            model.load_state_dict(st["ema"])
            export_onnx(model, a.save_ema, st["config"],
                        resume={"step": st["step"], "latent_mean": [float(v) for v in st["latent_mean"]],
                                "latent_std": [float(v) for v in st["latent_std"]], "wall_s": st.get("wall_s"),
                                "schedule": st.get("schedule", "linear")})
        else:
            torch.save({k: st.get(k) for k in ("ema", "config", "step", "latent_mean", "latent_std", "wall_s", "schedule")},
                       a.save_ema)
        print(f"wrote {a.save_ema} (step {st['step']})")
        return
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    model = build(st["config"])
    model.load_state_dict(st["ema"])
    if not a.manifest_only:
        # the shipped prior is also the resume point (latent_prior.py --init-ema prior.onnx)
        export_onnx(model, str(out / "prior.onnx"), st["config"],
                    resume={"step": st["step"], "latent_mean": [float(v) for v in st["latent_mean"]],
                            "latent_std": [float(v) for v in st["latent_std"]], "wall_s": st.get("wall_s"),
                            "schedule": st.get("schedule", "linear")})
        size = (out / "prior.onnx").stat().st_size
        if size >= 16 * 2**20:
            raise SystemExit(f"prior.onnx is {size} bytes: over the 16 MiB file limit")
        work = ROOT / ".data" / "taef2-ship"
        convert(work, a.res, fp16=True, check=False)
        for stem in ("decoder", "decoder-vjp", "encoder"):
            shutil.copy(work / f"{stem}.fp16.onnx", out / f"{stem}.fp16.onnx")
            # TAEF2's weights are float16: the fp32 graphs store them so and compute in fp32 (half the download)
            m, n = store_fp16(onnx.load(str(work / f"{stem}.fp32.onnx")))
            if n == 0:
                raise SystemExit(f"{stem}.fp32.onnx: no weight is float16-exact; is this TAEF2?")
            onnx.save(m, str(out / f"{stem}.fp32.onnx"))
    preview = fit_preview(a.res)
    params = sum(p.numel() for p in model.parameters())
    k = a.res / 200
    ident = os.path.relpath(ROOT / "public" / "models" / "common" / "identity", out)
    spec = {
        "name": "pgdiff-utk-latent",
        "version": f"0.{st['step'] // 1000}.{st['step'] % 1000}" + (f"+r{a.restorer_step}" if a.restorer_step else ""),
        "description": (
            f"PGDiff web's latent face model set, trained by the project on CPU: a {params / 1e6:.2f}M-parameter guided-diffusion "
            f"UNet over the 32x{a.res // 8}x{a.res // 8} latents of the TAEF2 autoencoder ({st['step']} steps "
            f"over {(st.get('wall_s') or 0) / 3600:.1f} h of wall-clock time), decoded to {a.res}x{a.res} faces; guidance is computed on the decoded "
            "image and reaches the latent through the decoder's gradient graph. See docs/training.md and docs/quality.md."),
        "licence": LICENCE,
        "resolution": a.res,
        "diffusion": {"steps": 1000, "schedule": st.get("schedule", "linear"), "variance": "fixed-large"},
        "alignment": {"template": [[round(x * k, 4), round(y * k, 4)] for x, y in UTK_TEMPLATE_200]},
        "latent": {"channels": 32, "downscale": 8, "mean": [round(float(v), 6) for v in st["latent_mean"]],
                   "std": [round(float(v), 6) for v in st["latent_std"]],
                   "preview": {"matrix": preview["matrix"], "bias": preview["bias"], "fitPsnrDb": preview["fitPsnrDb"]}},
        "models": [
            {"role": "prior", "fp32": "prior.onnx",
             "params": {"architecture": "guided-diffusion UNetModel over TAEF2 latents", "parameters": params,
                        "trainingSteps": st["step"], "learnSigma": False}},
            {"role": "decoder", "fp32": "decoder.fp32.onnx", "fp16": "decoder.fp16.onnx",
             "params": {"network": "TAEF2 decoder (MIT)"}},
            {"role": "decoder-vjp", "fp32": "decoder-vjp.fp32.onnx", "fp16": "decoder-vjp.fp16.onnx",
             "params": {"network": "TAEF2 decoder VJP (tools/onnx_vjp)"}},
            # the encoder lets a run start below T from the restorer's estimate (defaults' "start")
            {"role": "encoder", "fp32": "encoder.fp32.onnx", "fp16": "encoder.fp16.onnx",
             "params": {"network": "TAEF2 encoder (MIT)"}},
            *identity_models(ident),
        ],
    }
    if a.restorer and not a.manifest_only:
        shutil.copy(a.restorer, out / "restorer.onnx")
    if a.restorer or (a.manifest_only and (out / "restorer.onnx").exists()):
        spec["models"].insert(1, {"role": "restorer", "fp32": "restorer.onnx", "params": {"usesXt": False}})
    if a.defaults and Path(a.defaults).exists():
        spec["defaults"] = json.loads(Path(a.defaults).read_text())
    spec_path = out / "manifest.spec.json"
    spec_path.write_text(json.dumps(spec, indent=1))
    subprocess.run(["npx", "tsx", str(ROOT / "tools" / "make-manifest.ts"), str(spec_path), str(out / "manifest.json")],
                   cwd=str(ROOT), check=True)
    spec_path.unlink()
    print(f"shipped {out} from step {st['step']}: " + ", ".join(f"{p.name} {p.stat().st_size}" for p in sorted(out.glob("*.onnx"))))


if __name__ == "__main__":
    main()
