"""Convert the official PGDiff checkpoints to ONNX (fp32 + fp16) and write a model-set manifest.

    /usr/bin/python3 -m tools.convert.convert \
        --prior iddpm_ffhq512_ema500000.pth \
        --restorer rrdb_iter_100000.pth \
        --arcface ms1mv3_arcface_r50_fp16.pth \
        --out DIR

Each input is optional: what is given is converted. Every checkpoint is loaded the way the authors'
inference script loads it, but strictly: a missing or unexpected tensor, or a shape mismatch, is an error
(the authors load the restorer with strict=False; a partial load there would silently run random layers).
- prior: a plain state dict whose keys carry DataParallel's `module.` prefix (stripped);
- restorer: the tensors under the file's `state_dict` entry;
- ArcFace: a plain state dict (fp16 tensors; converted to fp32).

Outputs in DIR: prior.fp32.onnx, prior.fp16.onnx, restorer.*.onnx, identity.*.onnx, identity-vjp.*.onnx,
manifest.json (workers/models/manifest-types.ts) and convert-report.json (what was measured).
Run from the repository root; `--check` compares every exported graph with PyTorch on one random input
using onnxruntime-node (needs `npm ci` in the repo).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import torch

from tools.pgdiff_models import create_restorer, create_unet, iresnet50
from tools.pgdiff_models.rrdb import OFFICIAL_RESTORER
from tools.pgdiff_models.unet import OFFICIAL_PRIOR_512

from .fp16 import convert_to_fp16
from .onnx_graph import count_macs, io_specs, simplify

REPO_ROOT = Path(__file__).resolve().parents[2]
OPSET = 17

# FFHQ 512 alignment (five landmarks in the 512x512 crop), as in the authors' face helper
FFHQ512_TEMPLATE = [
    [192.98138, 239.94708],
    [318.90277, 240.1936],
    [256.63416, 314.01935],
    [201.26117, 371.41043],
    [313.08905, 371.15118],
]

LICENCE = (
    "Non-commercial use only. "
    "PGDiff (restorer checkpoint rrdb_iter_100000.pth, method and code by Peiqing Yang, Shangchen Zhou, "
    "Qingyi Tao, Chen Change Loy): NTU S-Lab License 1.0, redistribution and use must follow it; "
    "https://github.com/pq-yang/PGDiff. "
    "Diffusion prior iddpm_ffhq512_ema500000.pth by DifFace (Zongsheng Yue, Chen Change Loy): "
    "NTU S-Lab License 1.0 (see https://github.com/zsyOAOA/DifFace). "
    "ArcFace ms1mv3_arcface_r50_fp16 from insightface (arcface_torch): the insightface models are "
    "available for non-commercial research purposes only (see https://github.com/deepinsight/insightface). "
    "The S-Lab licence does not allow commercial use; converting the weights to ONNX does not change "
    "their licences."
)

DEFAULT_IDENTITY_CONFIG = {"arch": "iresnet50", "num_features": 512, "input_size": 112}


class CheckpointError(RuntimeError):
    """A checkpoint does not match the architecture it should hold."""


# ----------------------------------------------------------------------------------------------
# checkpoint loading (strict)
# ----------------------------------------------------------------------------------------------
def _torch_load(path: Path) -> object:
    try:
        return torch.load(str(path), map_location="cpu")
    except Exception as e:  # noqa: BLE001 - a user-facing message is the point
        raise CheckpointError(f"{path}: cannot be read by torch.load ({type(e).__name__}: {e})") from e


def _as_state_dict(obj: object, path: Path, what: str) -> "OrderedDict[str, torch.Tensor]":
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a state dict ({what}), got {type(obj).__name__}")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{path}: {what} has non-tensor entries: {bad[:5]}")
    return OrderedDict(obj.items())


def load_prior_checkpoint(path: Path) -> "OrderedDict[str, torch.Tensor]":
    """The reference strips 7 characters (`module.`) from every key."""
    obj = _torch_load(path)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        raise CheckpointError(f"{path}: holds its tensors under a 'state_dict' entry, as the restorer does; "
                              "the prior is a plain state dict (did you mean --restorer?)")
    sd = _as_state_dict(obj, path, "the prior's state dict")
    prefixed = [k.startswith("module.") for k in sd]
    if all(prefixed):
        return OrderedDict((k[len("module."):], v) for k, v in sd.items())
    if any(prefixed):
        raise CheckpointError(f"{path}: some keys carry the 'module.' prefix and some do not")
    # a prior saved without DataParallel: the reference would mangle it; we accept it as is
    print(f"note: {path.name} has no 'module.' prefix; keys used as they are", file=sys.stderr)
    return sd


def load_restorer_checkpoint(path: Path) -> "OrderedDict[str, torch.Tensor]":
    obj = _torch_load(path)
    if not isinstance(obj, dict) or "state_dict" not in obj:
        keys = list(obj.keys())[:8] if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(f"{path}: expected the restorer's tensors under a 'state_dict' entry, found {keys}")
    return _as_state_dict(obj["state_dict"], path, "the restorer's 'state_dict'")


def load_arcface_checkpoint(path: Path) -> "OrderedDict[str, torch.Tensor]":
    return _as_state_dict(_torch_load(path), path, "the ArcFace state dict")


def load_strict(model: torch.nn.Module, sd: "OrderedDict[str, torch.Tensor]", path: Path, label: str,
                ignore_unexpected: bool = False) -> dict:
    """Load every tensor, fp16 -> fp32; any missing/unexpected key or shape mismatch is an error.
    ignore_unexpected (the --ignore-unexpected-keys flag) turns extra tensors into a printed warning;
    missing tensors and shape mismatches stay errors."""
    want = model.state_dict()
    missing = [k for k in want if k not in sd]
    unexpected = [k for k in sd if k not in want]
    ignored: List[str] = []
    if ignore_unexpected and unexpected:
        ignored, unexpected = unexpected, []
        print(f"warning: {path.name}: ignoring {len(ignored)} tensors the {label} does not use: "
              + ", ".join(ignored[:12]) + (" ..." if len(ignored) > 12 else ""), file=sys.stderr)
        sd = OrderedDict((k, v) for k, v in sd.items() if k in want)
    shape_bad = [f"{k}: checkpoint {tuple(sd[k].shape)} vs model {tuple(want[k].shape)}"
                 for k in want if k in sd and tuple(sd[k].shape) != tuple(want[k].shape)]
    if missing or unexpected or shape_bad:
        lines = [f"{path}: does not match the {label} architecture"]
        if missing:
            lines.append(f"  {len(missing)} missing: " + ", ".join(missing[:12]) + (" ..." if len(missing) > 12 else ""))
        if unexpected:
            lines.append(f"  {len(unexpected)} unexpected: " + ", ".join(unexpected[:12]) + (" ..." if len(unexpected) > 12 else ""))
        if shape_bad:
            lines.append(f"  {len(shape_bad)} shape mismatches: " + "; ".join(shape_bad[:6]))
        raise CheckpointError("\n".join(lines))
    dtypes = sorted({str(v.dtype).replace("torch.", "") for v in sd.values()})
    converted = OrderedDict()
    for k, v in sd.items():
        converted[k] = v.float() if v.is_floating_point() else v
    model.load_state_dict(converted, strict=True)
    nonfinite = [k for k, v in converted.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if nonfinite:
        raise CheckpointError(f"{path}: non-finite values in {nonfinite[:5]}")
    return {"tensors": len(sd), "checkpoint_dtypes": dtypes,
            "elements": int(sum(v.numel() for v in sd.values())), "ignored_unexpected": ignored}


# ----------------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------------
def export_onnx(model: torch.nn.Module, args: Tuple[torch.Tensor, ...], input_names: Sequence[str],
                output_names: Sequence[str], path: Path, doc: str) -> onnx.ModelProto:
    model.eval()
    with tempfile.TemporaryDirectory() as td:
        raw = Path(td) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(model, args, str(raw), opset_version=OPSET, input_names=list(input_names),
                              output_names=list(output_names), do_constant_folding=True)
        m = onnx.load(str(raw))
    m = simplify(m)
    m.producer_name = "pgdiff-web tools/convert"
    m.doc_string = doc
    onnx.checker.check_model(m, full_check=True)
    save_onnx(m, path)
    return m


def save_onnx(m: onnx.ModelProto, path: Path) -> None:
    size = m.ByteSize()
    if size > 2_000_000_000:  # does not happen for PGDiff's networks; kept for other checkpoints
        onnx.save_model(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=path.name + ".data")
    else:
        onnx.save_model(m, str(path))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def largest_initializer(m: onnx.ModelProto) -> Tuple[str, int]:
    best = ("", 0)
    for i in m.graph.initializer:
        n = int(np.prod(i.dims)) if len(i.dims) else 1
        b = n * {1: 4, 10: 2, 7: 8, 6: 4, 11: 8}.get(i.data_type, 4)
        if b > best[1]:
            best = (i.name, b)
    return best


# ----------------------------------------------------------------------------------------------
# onnxruntime-node bridge (no onnxruntime for Python here)
# ----------------------------------------------------------------------------------------------
def ort_run(model_path: Path, inputs: Dict[str, np.ndarray], output_names: Sequence[str],
            threads: int = 1) -> Tuple[Dict[str, np.ndarray], float]:
    tsx = REPO_ROOT / "node_modules" / ".bin" / "tsx"
    if not tsx.exists():
        raise RuntimeError("onnxruntime-node check needs `npm ci` in the repository (node_modules/.bin/tsx)")
    with tempfile.TemporaryDirectory() as td:
        job = {"model": str(model_path), "inputs": {}, "outputs": {}, "threads": threads}
        for k, v in inputs.items():
            p = Path(td) / f"in_{k}.npy"
            np.save(p, v)
            job["inputs"][k] = str(p)
        for k in output_names:
            job["outputs"][k] = str(Path(td) / f"out_{k}.npy")
        jp = Path(td) / "job.json"
        jp.write_text(json.dumps(job))
        r = subprocess.run([str(tsx), str(REPO_ROOT / "tools" / "convert" / "ort-run.ts"), str(jp)],
                           cwd=str(REPO_ROOT), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed on {model_path.name}:\n{r.stderr[-3000:]}")
        info = json.loads(r.stdout.strip().splitlines()[-1])
        return {k: np.load(job["outputs"][k]) for k in output_names}, float(info["ms"])


def diff_stats(got: np.ndarray, want: np.ndarray) -> dict:
    d = np.abs(got.astype(np.float64) - want.astype(np.float64))
    scale = float(np.abs(want).max())
    return {"max_abs": float(d.max()), "mean_abs": float(d.mean()), "max_abs_ref": scale,
            "rel_max": float(d.max() / scale) if scale > 0 else float("inf")}


# ----------------------------------------------------------------------------------------------
# the three networks
# ----------------------------------------------------------------------------------------------
class Spec:
    """What one role needs: how to build, load, export and feed the network."""

    def __init__(self, role: str, stem: str, label: str, build: Callable[[], torch.nn.Module],
                 load: Callable[[Path], "OrderedDict[str, torch.Tensor]"], inputs: Callable[[int], Dict[str, torch.Tensor]],
                 output_name: str, params: dict):
        self.role, self.stem, self.label = role, stem, label
        self.build, self.load, self.inputs = build, load, inputs
        self.output_name, self.params = output_name, params
        # export scopes kept in fp32 by the fp16 pass
        self.fp32_scopes: Tuple[str, ...] = ()


def prior_spec(cfg: dict, resolution: int) -> Spec:
    def inputs(seed: int) -> Dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        return {"x": torch.randn(1, 3, resolution, resolution, generator=g), "t": torch.tensor([seed % 1000], dtype=torch.int64)}

    out_ch = 6 if cfg.get("learn_sigma", True) else 3
    spec = Spec("prior", "prior", "prior (guided-diffusion UNet)", lambda: create_unet(cfg), load_prior_checkpoint,
                inputs, "out", {"config": cfg, "outputChannels": out_ch})
    # guided-diffusion's own fp16 mode (DifFace runs this prior with --use_fp16) keeps the time embedding and
    # the output head (GroupNorm, SiLU, conv -> eps, v) in fp32; the time embedding is fp32 here anyway.
    spec.fp32_scopes = ("/out/",)
    return spec


def restorer_spec(cfg: dict, resolution: int) -> Spec:
    def inputs(seed: int) -> Dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(seed + 1)
        return {"x_t": torch.randn(1, 3, resolution, resolution, generator=g),
                "y": torch.rand(1, 3, resolution, resolution, generator=g) * 2 - 1,
                "t": torch.tensor([(seed * 7) % 1000], dtype=torch.int64)}

    return Spec("restorer", "restorer", "restorer (RRDB x1)", lambda: create_restorer(cfg), load_restorer_checkpoint,
                inputs, "out", {"config": cfg, "usesXt": True})


def identity_spec(cfg: dict) -> Spec:
    size = int(cfg.get("input_size", 112))

    def inputs(seed: int) -> Dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(seed + 2)
        return {"input": torch.rand(1, 3, size, size, generator=g) * 2 - 1}

    def build() -> torch.nn.Module:
        if cfg.get("arch", "iresnet50") != "iresnet50":
            raise ValueError("only iresnet50 is supported for the identity role")
        return iresnet50(int(cfg.get("num_features", 512)))

    return Spec("identity", "identity", "ArcFace iresnet50", build, load_arcface_checkpoint, inputs, "embedding",
                {"inputSize": size, "embeddingDim": int(cfg.get("num_features", 512)),
                 "resize": "bilinear-antialias", "l2normalised": False})


# ----------------------------------------------------------------------------------------------
# main conversion
# ----------------------------------------------------------------------------------------------
def convert_one(spec: Spec, ckpt: Optional[Path], out: Path, *, fp16: bool, check: bool, seed: int,
                model: Optional[torch.nn.Module] = None, ignore_unexpected: bool = False, log=print) -> dict:
    """Load (or take) the model, export fp32 (+fp16), count MACs, optionally check against PyTorch."""
    rep: dict = {"role": spec.role}
    t0 = time.time()
    if model is None:
        assert ckpt is not None
        model = spec.build()
        sd = spec.load(ckpt)
        rep["checkpoint"] = {"file": ckpt.name, **load_strict(model, sd, ckpt, spec.label, ignore_unexpected)}
        log(f"[{spec.role}] {ckpt.name}: {rep['checkpoint']['tensors']} tensors loaded key for key "
            f"({', '.join(rep['checkpoint']['checkpoint_dtypes'])})")
        del sd
    model.eval()
    rep["parameters"] = int(sum(p.numel() for p in model.parameters()))
    feeds = spec.inputs(seed)
    names = list(feeds.keys())
    p32 = out / f"{spec.stem}.fp32.onnx"
    m32 = export_onnx(model, tuple(feeds.values()), names, [spec.output_name], p32,
                      f"PGDiff web {spec.role}: {spec.label}, exported from {ckpt.name if ckpt else 'an in-memory model'}")
    macs = count_macs(m32)
    rep["macs"] = macs
    rep["gflops_per_call"] = 2 * sum(macs.values()) / 1e9
    rep["files"] = {"fp32": {"path": p32.name, "bytes": p32.stat().st_size}}
    rep["io"] = io_specs(m32)
    rep["largest_tensor"] = {"fp32": largest_initializer(m32)}
    log(f"[{spec.role}] fp32 {p32.name}: {p32.stat().st_size / 1e6:.1f} MB, {rep['parameters'] / 1e6:.3f}M parameters, "
        f"{rep['gflops_per_call']:.2f} GFLOPs per call ({time.time() - t0:.0f} s)")
    if fp16:
        t1 = time.time()
        m16, frep = convert_to_fp16(m32, keep_fp32_prefixes=spec.fp32_scopes)
        p16 = out / f"{spec.stem}.fp16.onnx"
        save_onnx(m16, p16)
        rep["files"]["fp16"] = {"path": p16.name, "bytes": p16.stat().st_size}
        rep["fp16_conversion"] = frep.as_dict()
        rep["largest_tensor"]["fp16"] = largest_initializer(m16)
        if io_specs(m16) != rep["io"]:
            raise RuntimeError(f"fp16 graph changed the inputs/outputs: {io_specs(m16)} vs {rep['io']}")
        log(f"[{spec.role}] fp16 {p16.name}: {p16.stat().st_size / 1e6:.1f} MB; {frep.nodes_fp16} nodes fp16, "
            f"{frep.nodes_fp32} fp32, {frep.casts_added} casts ({time.time() - t1:.0f} s)")
        del m16
    del m32
    if check:
        rep["check"] = check_against_torch(model, feeds, out, spec, fp16, log)
    return rep


def check_against_torch(model: torch.nn.Module, feeds: Dict[str, torch.Tensor], out: Path, spec: Spec,
                        fp16: bool, log=print) -> dict:
    t0 = time.time()
    with torch.no_grad():
        want = model(*feeds.values()).numpy()
    t_torch = time.time() - t0
    np_feeds = {k: v.numpy() for k, v in feeds.items()}
    res: dict = {"torch_s": t_torch}
    got, ms = ort_run(out / f"{spec.stem}.fp32.onnx", np_feeds, [spec.output_name], threads=torch.get_num_threads())
    res["fp32"] = {**diff_stats(got[spec.output_name], want), "ort_ms": ms}
    log(f"[{spec.role}] check fp32 vs torch: max|diff| {res['fp32']['max_abs']:.3e} (max|ref| {res['fp32']['max_abs_ref']:.3f}); "
        f"torch {t_torch:.1f} s, onnxruntime-node {ms / 1000:.1f} s")
    if fp16:
        got, ms = ort_run(out / f"{spec.stem}.fp16.onnx", np_feeds, [spec.output_name], threads=torch.get_num_threads())
        res["fp16"] = {**diff_stats(got[spec.output_name], want), "ort_ms": ms}
        log(f"[{spec.role}] check fp16 vs torch: max|diff| {res['fp16']['max_abs']:.3e}, mean {res['fp16']['mean_abs']:.3e}")
    return res


def make_vjp(identity_onnx: Path, out_path: Path) -> None:
    """identity-vjp through tools/onnx_vjp (inputs 'input','cotangent' -> 'grad_input')."""
    r = subprocess.run([sys.executable, "-m", "tools.onnx_vjp.make_vjp", str(identity_onnx), str(out_path)],
                       cwd=str(REPO_ROOT), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"tools.onnx_vjp.make_vjp failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")


def check_vjp(model: torch.nn.Module, vjp_path: Path, size: int, dim: int, seed: int, log=print) -> dict:
    g = torch.Generator().manual_seed(seed + 3)
    x = (torch.rand(1, 3, size, size, generator=g) * 2 - 1).requires_grad_(True)
    ct = torch.randn(1, dim, generator=g)
    y = model(x)
    (grad,) = torch.autograd.grad((y * ct).sum(), x)
    got, ms = ort_run(vjp_path, {"input": x.detach().numpy(), "cotangent": ct.numpy()}, ["grad_input"],
                      threads=torch.get_num_threads())
    st = {**diff_stats(got["grad_input"], grad.numpy()), "ort_ms": ms}
    log(f"[identity-vjp] {vjp_path.name} vs torch autograd: max|diff| {st['max_abs']:.3e} (max|ref| {st['max_abs_ref']:.3e})")
    return st


def file_entry(out: Path, name: str, dtype: str) -> dict:
    p = out / name
    return {"path": name, "sha256": sha256_file(p), "bytes": p.stat().st_size, "dtype": dtype}


def manifest_spec(reports: List[dict], *, resolution: int, name: str, set_version: str, description: str,
                  licence: str, test_only: bool, diffusion_steps: int = 1000) -> dict:
    """The spec that tools/make-manifest.ts reads (workers/models/README.md), paths relative to the out folder."""
    scale = resolution / 512.0
    models = []
    for r in reports:
        params = dict(r.get("params", {}))
        if "parameters" in r:
            params["parameters"] = r["parameters"]
        if "gflops_per_call" in r:
            params["gflopsPerCall"] = round(r["gflops_per_call"], 3)
        if "checkpoint" in r:
            params["source"] = r["checkpoint"]["file"]
        m = {"role": r["role"], "fp32": r["files"]["fp32"]["path"], "params": params}
        if "fp16" in r["files"]:
            m["fp16"] = r["files"]["fp16"]["path"]
        models.append(m)
    spec = {
        "name": name,
        "setVersion": set_version,
        "description": description,
        "licence": licence,
        "resolution": resolution,
        "diffusion": {"steps": diffusion_steps, "schedule": "linear", "variance": "learned-range",
                      "prediction": "epsilon", "timestep": "original-index"},
        "alignment": {"template": [[round(x * scale, 5), round(y * scale, 5)] for x, y in FFHQ512_TEMPLATE],
                      "size": resolution},
        "preprocessing": {"range": "[-1,1]", "channels": "RGB", "layout": "NCHW"},
        "models": models,
    }
    if test_only:
        spec["testOnly"] = True
    return spec


def write_manifest_python(out: Path, spec: dict, reports: List[dict]) -> dict:
    """Same manifest as tools/make-manifest.ts writes, for machines without Node (no app-side validation)."""
    by_role = {r["role"]: r for r in reports}
    models = []
    for m in spec["models"]:
        r = by_role[m["role"]]
        files = {"fp32": file_entry(out, m["fp32"], "float32")}
        if "fp16" in m:
            files["fp16"] = file_entry(out, m["fp16"], "float16")
        inputs, outputs = r["io"]
        params = dict(m["params"])
        lt = r.get("largest_tensor", {})
        params["largestTensorBytes"] = {k: int(v[1]) for k, v in lt.items()}
        params["largestTensorName"] = {k: v[0] for k, v in lt.items()}
        models.append({"role": m["role"], "files": files, "inputs": inputs, "outputs": outputs, "params": params})
    manifest = {"format": "pgdiff-model-set", "version": 1,
                **{k: v for k, v in spec.items() if k not in ("models", "testOnly")}, "models": models}
    if spec.get("testOnly"):
        manifest["testOnly"] = True
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def write_manifest(out: Path, reports: List[dict], **kw) -> str:
    """manifest.json through tools/make-manifest.ts (validated by the app's parser) when Node is there."""
    spec = manifest_spec(reports, **kw)
    spec_path = out / "manifest.spec.json"
    spec_path.write_text(json.dumps(spec, indent=1) + "\n")
    tsx = REPO_ROOT / "node_modules" / ".bin" / "tsx"
    tool = REPO_ROOT / "tools" / "make-manifest.ts"
    if tsx.exists() and tool.exists():
        r = subprocess.run([str(tsx), str(tool), str(spec_path), str(out / "manifest.json")], cwd=str(REPO_ROOT),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"tools/make-manifest.ts refused the manifest:\n{r.stdout[-2000:]}{r.stderr[-3000:]}")
        return "tools/make-manifest.ts (validated with the app's parser)"
    write_manifest_python(out, spec, reports)
    return "python writer (Node not found: not validated with the app's parser)"


def run(argv: Optional[Sequence[str]] = None) -> dict:
    ap = argparse.ArgumentParser(prog="python3 -m tools.convert.convert", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prior", type=Path, help="iddpm_ffhq512_ema500000.pth (DifFace)")
    ap.add_argument("--restorer", type=Path, help="rrdb_iter_100000.pth (PGDiff restorer)")
    ap.add_argument("--arcface", type=Path, help="ms1mv3_arcface_r50_fp16.pth (insightface)")
    ap.add_argument("--out", type=Path, required=True, help="output folder (created)")
    ap.add_argument("--prior-config", type=Path, help="JSON architecture config for the prior (default: official 512)")
    ap.add_argument("--restorer-config", type=Path, help="JSON architecture config for the restorer (default: official)")
    ap.add_argument("--resolution", type=int, help="image size (default: the prior config's image_size, 512)")
    ap.add_argument("--no-fp16", action="store_true", help="skip the fp16 variants")
    ap.add_argument("--no-vjp", action="store_true", help="skip identity-vjp (then no identity role either)")
    ap.add_argument("--check", action="store_true",
                    help="compare every exported graph with PyTorch on one random input (onnxruntime-node)")
    ap.add_argument("--ignore-unexpected-keys", action="store_true",
                    help="warn about (instead of refusing) checkpoint tensors the architecture does not use; "
                         "missing tensors and shape mismatches are always errors")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--name", default="pgdiff-official")
    ap.add_argument("--set-version", default="1.0.0")
    ap.add_argument("--test-only", action="store_true", help="mark the set testOnly (random-weight test sets)")
    ap.add_argument("--licence", default=None, help="licence text for the manifest (default: the official one)")
    ap.add_argument("--description", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)

    if not (a.prior or a.restorer or a.arcface):
        ap.error("give at least one of --prior, --restorer, --arcface")
    for p in (a.prior, a.restorer, a.arcface):
        if p is not None and not p.is_file():
            ap.error(f"{p}: no such file")
    if a.arcface and a.no_vjp:
        print("note: --no-vjp: the identity model is exported but left out of the manifest "
              "(the app needs identity and identity-vjp together)", file=sys.stderr)

    prior_cfg = json.loads(a.prior_config.read_text()) if a.prior_config else dict(OFFICIAL_PRIOR_512)
    rest_cfg = json.loads(a.restorer_config.read_text()) if a.restorer_config else dict(OFFICIAL_RESTORER)
    resolution = a.resolution or int(prior_cfg.get("image_size", 512))
    a.out.mkdir(parents=True, exist_ok=True)
    fp16 = not a.no_fp16
    reports: List[dict] = []
    t_all = time.time()

    if a.prior:
        spec = prior_spec(prior_cfg, resolution)
        r = convert_one(spec, a.prior, a.out, fp16=fp16, check=a.check, seed=a.seed,
                        ignore_unexpected=a.ignore_unexpected_keys)
        r["params"] = {"outputChannels": spec.params["outputChannels"], "learnSigma": spec.params["outputChannels"] == 6}
        reports.append(r)
    if a.restorer:
        spec = restorer_spec(rest_cfg, resolution)
        r = convert_one(spec, a.restorer, a.out, fp16=fp16, check=a.check, seed=a.seed,
                        ignore_unexpected=a.ignore_unexpected_keys)
        r["params"] = {"usesXt": True}
        reports.append(r)
    if a.arcface:
        spec = identity_spec(DEFAULT_IDENTITY_CONFIG)
        model = spec.build()
        sd = spec.load(a.arcface)
        ck = {"file": a.arcface.name, **load_strict(model, sd, a.arcface, spec.label, a.ignore_unexpected_keys)}
        del sd
        print(f"[identity] {a.arcface.name}: {ck['tensors']} tensors loaded key for key ({', '.join(ck['checkpoint_dtypes'])})")
        r = convert_one(spec, None, a.out, fp16=fp16, check=a.check, seed=a.seed, model=model)
        r["checkpoint"] = ck
        r["params"] = {k: spec.params[k] for k in ("inputSize", "embeddingDim", "resize", "l2normalised")}
        if not a.no_vjp:
            reports.append(r)
            vjp = {"role": "identity-vjp", "files": {}, "params": {"inputSize": spec.params["inputSize"],
                                                                  "embeddingDim": spec.params["embeddingDim"]}}
            make_vjp(a.out / "identity.fp32.onnx", a.out / "identity-vjp.fp32.onnx")
            mv = onnx.load(str(a.out / "identity-vjp.fp32.onnx"))
            vjp["io"] = io_specs(mv)
            vjp["files"]["fp32"] = {"path": "identity-vjp.fp32.onnx"}
            vjp["largest_tensor"] = {"fp32": largest_initializer(mv)}
            vjp["macs"] = count_macs(mv)
            vjp["gflops_per_call"] = 2 * sum(vjp["macs"].values()) / 1e9
            if fp16:
                mv16, frep = convert_to_fp16(mv)
                save_onnx(mv16, a.out / "identity-vjp.fp16.onnx")
                vjp["files"]["fp16"] = {"path": "identity-vjp.fp16.onnx"}
                vjp["fp16_conversion"] = frep.as_dict()
                vjp["largest_tensor"]["fp16"] = largest_initializer(mv16)
                del mv16
            del mv
            print(f"[identity-vjp] {vjp['gflops_per_call']:.2f} GFLOPs per call")
            if a.check:
                vjp["check"] = {"fp32": check_vjp(model, a.out / "identity-vjp.fp32.onnx", spec.params["inputSize"],
                                                  spec.params["embeddingDim"], a.seed)}
                if fp16:
                    vjp["check"]["fp16"] = check_vjp(model, a.out / "identity-vjp.fp16.onnx", spec.params["inputSize"],
                                                     spec.params["embeddingDim"], a.seed)
            reports.append(vjp)
        else:
            reports.append(dict(r, role="identity (not in manifest: --no-vjp)"))

    manifest_reports = [r for r in reports if r["role"] in ("prior", "restorer", "identity", "identity-vjp")]
    if any(r["role"] == "prior" for r in manifest_reports):
        desc = a.description or ("PGDiff's official networks converted from the authors' checkpoints: "
                                 + ", ".join(f"{r['role']} ({r['checkpoint']['file']})" for r in manifest_reports
                                             if "checkpoint" in r))
        how = write_manifest(a.out, manifest_reports, resolution=resolution, name=a.name,
                             set_version=a.set_version, description=desc, licence=a.licence or LICENCE,
                             test_only=a.test_only)
        print(f"manifest: {a.out / 'manifest.json'} by {how}")
    else:
        print("note: no prior given, so no manifest.json (a model set needs exactly one prior); "
              "the ONNX files and convert-report.json are written", file=sys.stderr)
    report = {"resolution": resolution, "seconds": time.time() - t_all, "models": reports}
    (a.out / "convert-report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    return report


def main() -> int:
    try:
        run()
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
