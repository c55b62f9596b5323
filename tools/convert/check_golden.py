"""Prove the converter on the authors' golden small checkpoints (../shared/spec/official-checkpoints/golden).

    /usr/bin/python3 -m tools.convert.check_golden [--write-fixtures]

1. runs the converter (same code path as the official conversion: strict loading, export, simplify/fold,
   fp16 pass) on prior-small.pth and restorer-small.pth with their golden configs, at 64x64;
2. runs the fp32 and fp16 ONNX files with onnxruntime-node on the golden inputs and compares them with
   the golden outputs (recorded by the authors' code) and with our PyTorch modules;
3. fails if fp32 differs from the golden outputs by more than 1e-4 (max abs);
4. with --write-fixtures, copies the fp16 graphs to tools/convert/fixtures/golden-small/ and records the
   measured fp16 errors and the tolerance the vitest test (golden-fp16.test.ts) applies.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

from tools.pgdiff_models import create_restorer, create_unet

from .convert import REPO_ROOT, diff_stats, load_prior_checkpoint, load_restorer_checkpoint, load_strict, ort_run, run

GOLDEN = REPO_ROOT.parent / "shared" / "spec" / "official-checkpoints" / "golden"
SCRATCH = REPO_ROOT / ".data" / "convert" / "golden-check"  # /.data/ is git-ignored
FIXTURES = REPO_ROOT / "tools" / "convert" / "fixtures" / "golden-small"
FP32_TOL = 1e-4
# the committed test allows this multiple of the measured fp16 error (the measured value is recorded too)
FP16_MARGIN = 2.0


def fp16_structure(path: Path) -> bool:
    """The fp16 graph keeps its promises: float32 I/O, fragile ops in fp32, Conv/MatMul in fp16."""
    import onnx

    from .onnx_graph import FLOAT, FLOAT16, elem_types

    m = onnx.load(str(path))
    ty = elem_types(m)
    problems = []
    for vi in list(m.graph.input) + list(m.graph.output):
        if vi.type.tensor_type.elem_type == FLOAT16:
            problems.append(f"graph I/O {vi.name} is float16")
    counts = {"fp32": 0, "fp16": 0}
    for n in m.graph.node:
        ins = [ty.get(i) for i in n.input[:1] if i]
        if n.op_type in ("InstanceNormalization", "Softmax", "Sin", "Cos"):
            if ins != [FLOAT]:
                problems.append(f"{n.op_type} {n.name} reads {ins}")
            counts["fp32"] += 1
        elif n.op_type in ("Conv", "MatMul") and not n.name.startswith("/out/"):
            if ty.get(n.input[0]) != FLOAT16 or ty.get(n.input[1]) != FLOAT16:
                problems.append(f"{n.op_type} {n.name} not fp16")
            counts["fp16"] += 1
        elif n.op_type == "Gemm" and "time_embed" in n.name and ty.get(n.input[1]) != FLOAT:
            problems.append(f"time-embedding {n.name} not fp32")
    good = not problems
    print(f"[{'OK ' if good else 'FAIL'}] {path.name}: float32 I/O, {counts['fp32']} norm/softmax/sin/cos nodes fp32, "
          f"{counts['fp16']} Conv/MatMul nodes fp16" + ("" if good else f"; {problems[:5]}"))
    return good


def negative_checks(out: Path) -> bool:
    """A checkpoint that does not fit must stop the converter with the offending names (exit code 2)."""
    import subprocess

    ok = True
    sd = torch.load(str(GOLDEN / "restorer-small.pth"), map_location="cpu")
    inner = dict(sd["state_dict"])
    dropped = "generator.conv_last.bias"
    del inner[dropped]
    inner["generator.extra.weight"] = torch.zeros(3)
    bad = out / "restorer-bad.pth"
    torch.save({"state_dict": inner}, str(bad))
    cases = [
        ("restorer with a missing and an unexpected key", ["--restorer", str(bad), "--restorer-config",
                                                           str(GOLDEN / "restorer-small.config.json")],
         [dropped, "generator.extra.weight", "1 missing", "1 unexpected"]),
        ("restorer file without 'state_dict'", ["--restorer", str(GOLDEN / "prior-small.pth")], ["'state_dict'"]),
        ("the restorer file given as --prior", ["--prior", str(GOLDEN / "restorer-small.pth"),
                                                           "--prior-config", str(GOLDEN / "prior-small.config.json")],
         ["'state_dict' entry", "--restorer"]),
        ("golden prior with the official 512 config (shape mismatch)", ["--prior", str(GOLDEN / "prior-small.pth")],
         ["shape mismatches", "missing"]),
    ]
    # the opt-in escape hatch: extra tensors become a warning, a missing one stays an error
    extra = dict(sd["state_dict"])
    extra["generator.extra.weight"] = torch.zeros(3)
    extra_p = out / "restorer-extra.pth"
    torch.save({"state_dict": extra}, str(extra_p))
    cases.append(("a missing key even with --ignore-unexpected-keys", ["--restorer", str(bad), "--restorer-config",
                  str(GOLDEN / "restorer-small.config.json"), "--ignore-unexpected-keys"], [dropped, "1 missing"]))
    for label, args, needles in cases:
        r = subprocess.run([sys.executable, "-m", "tools.convert.convert", *args, "--out", str(out / "neg")],
                           cwd=str(REPO_ROOT), capture_output=True, text=True)
        good = r.returncode == 2 and all(n in r.stderr for n in needles)
        ok &= good
        first = next((line for line in r.stderr.splitlines() if line.startswith("error")), r.stderr[-200:])
        print(f"[{'OK ' if good else 'FAIL'}] refuses {label}: exit {r.returncode}; {first[:160]}")
    r = subprocess.run([sys.executable, "-m", "tools.convert.convert", "--restorer", str(extra_p), "--restorer-config",
                        str(GOLDEN / "restorer-small.config.json"), "--ignore-unexpected-keys", "--no-fp16",
                        "--out", str(out / "neg-extra")], cwd=str(REPO_ROOT), capture_output=True, text=True)
    good = r.returncode == 0 and "ignoring 1 tensors" in r.stderr and "generator.extra.weight" in r.stderr
    ok &= good
    print(f"[{'OK ' if good else 'FAIL'}] --ignore-unexpected-keys accepts an extra tensor with a warning: exit {r.returncode}")
    return ok


def ceil2(v: float) -> float:
    """Round up to 2 significant digits."""
    if v <= 0:
        return 1e-6
    e = math.floor(math.log10(v)) - 1
    return float(f"{math.ceil(v / 10**e) * 10**e:.3g}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-fixtures", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = SCRATCH
    if out.exists():
        shutil.rmtree(out)
    run(["--prior", str(GOLDEN / "prior-small.pth"), "--prior-config", str(GOLDEN / "prior-small.config.json"),
         "--restorer", str(GOLDEN / "restorer-small.pth"), "--restorer-config", str(GOLDEN / "restorer-small.config.json"),
         "--out", str(out), "--test-only", "--name", "golden-small", "--licence",
         "TEST WEIGHTS ONLY: the authors' golden small checkpoints with random weights.", "--no-vjp"])

    results: dict = {}
    ok = True
    # prior: golden batch of 2, our graphs take batch 1 (manifest convention): run each sample
    x = np.load(GOLDEN / "prior-small.input-x.npy")
    t = np.load(GOLDEN / "prior-small.input-t.npy")
    want = np.load(GOLDEN / "prior-small.output.npy")
    pcfg = json.loads((GOLDEN / "prior-small.config.json").read_text())
    prior = create_unet(pcfg).eval()
    load_strict(prior, load_prior_checkpoint(GOLDEN / "prior-small.pth"), GOLDEN / "prior-small.pth", "prior")
    with torch.no_grad():
        torch_out = prior(torch.from_numpy(x), torch.from_numpy(t)).numpy()
    results["prior"] = {"torch_vs_golden": diff_stats(torch_out, want)}
    for prec in ("fp32", "fp16"):
        got = np.concatenate([
            ort_run(out / f"prior.{prec}.onnx", {"x": x[i:i + 1], "t": t[i:i + 1]}, ["out"])[0]["out"]
            for i in range(x.shape[0])
        ])
        results["prior"][f"{prec}_vs_golden"] = diff_stats(got, want)
        results["prior"][f"{prec}_vs_torch"] = diff_stats(got, torch_out)

    # restorer
    xt = np.load(GOLDEN / "restorer-small.input-xt.npy")
    y = np.load(GOLDEN / "restorer-small.input-y.npy")
    rt = np.load(GOLDEN / "restorer-small.input-t.npy")
    want_r = np.load(GOLDEN / "restorer-small.output.npy")
    rcfg = json.loads((GOLDEN / "restorer-small.config.json").read_text())
    rest = create_restorer(rcfg).eval()
    load_strict(rest, load_restorer_checkpoint(GOLDEN / "restorer-small.pth"), GOLDEN / "restorer-small.pth", "restorer")
    with torch.no_grad():
        torch_r = rest(torch.from_numpy(xt), torch.from_numpy(y), torch.from_numpy(rt)).numpy()
    results["restorer"] = {"torch_vs_golden": diff_stats(torch_r, want_r)}
    for prec in ("fp32", "fp16"):
        got = ort_run(out / f"restorer.{prec}.onnx", {"x_t": xt, "y": y, "t": rt}, ["out"])[0]["out"]
        results["restorer"][f"{prec}_vs_golden"] = diff_stats(got, want_r)
        results["restorer"][f"{prec}_vs_torch"] = diff_stats(got, torch_r)

    for role, r in results.items():
        for k, v in r.items():
            flag = ""
            if k.startswith("fp32") or k.startswith("torch"):
                good = v["max_abs"] <= FP32_TOL
                ok &= good
                flag = "OK " if good else "FAIL"
            print(f"[{flag or 'info'}] {role:8s} {k:16s} max|diff| {v['max_abs']:.3e}  mean {v['mean_abs']:.3e}  "
                  f"(max|ref| {v['max_abs_ref']:.3f})")

    ok &= negative_checks(out)
    for role in ("prior", "restorer"):
        ok &= fp16_structure(out / f"{role}.fp16.onnx")

    if a.write_fixtures:
        FIXTURES.mkdir(parents=True, exist_ok=True)
        for role in ("prior", "restorer"):
            shutil.copyfile(out / f"{role}.fp16.onnx", FIXTURES / f"{role}-small.fp16.onnx")
        report = json.loads((out / "convert-report.json").read_text())
        tol = {
            "about": "fp16 exports of the golden small checkpoints by tools/convert (check_golden.py --write-fixtures); "
                     "measured = onnxruntime-node CPU vs the golden outputs; the test allows tolerance = "
                     f"{FP16_MARGIN} x measured max abs, rounded up to 2 significant digits.",
            "models": {},
        }
        for role in ("prior", "restorer"):
            m = results[role]["fp16_vs_golden"]
            rep = next(r for r in report["models"] if r["role"] == role)
            tol["models"][role] = {
                "file": f"{role}-small.fp16.onnx",
                "measuredMaxAbs": m["max_abs"],
                "measuredMeanAbs": m["mean_abs"],
                "tolerance": ceil2(FP16_MARGIN * m["max_abs"]),
                "fp32MaxAbs": results[role]["fp32_vs_golden"]["max_abs"],
                "fp16Conversion": rep["fp16_conversion"],
                "bytes": {k: v["bytes"] for k, v in rep["files"].items()},
            }
        (FIXTURES / "tolerance.json").write_text(json.dumps(tol, indent=1) + "\n")
        print(f"fixtures written to {FIXTURES}")
    print("ALL OK" if ok else "FAILURES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
