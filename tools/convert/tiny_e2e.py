"""The suite's end-to-end run of tools/onnx_vjp/vjp.py and tools/convert/fp16.py on a tiny network (a TAEF2-style
decoder block stack), so both tools are exercised by CI and not only through their committed outputs.

    /usr/bin/python3 -m tools.convert.tiny_e2e OUT_DIR

Writes OUT_DIR/{forward,forward.fp16,vjp,vjp.fp16}.onnx, x.npy, c.npy (inputs), y.npy and g.npy (torch float64
forward and autograd VJP), and report.json (fp16 conversion counts).
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch

from tools.onnx_vjp import make_vjp
from tools.onnx_vjp.make_test_nets import MiniDecoder

from .fp16 import convert_to_fp16
from .onnx_graph import simplify


def main(out: Path) -> None:
    torch.manual_seed(5)
    out.mkdir(parents=True, exist_ok=True)
    net = MiniDecoder().eval()
    x = torch.rand(1, 3, 12, 12) * 2 - 1
    buf = io.BytesIO()
    torch.onnx.export(net, (x,), buf, opset_version=17, input_names=["x"], output_names=["y"])
    fwd = simplify(onnx.load_from_string(buf.getvalue()))
    vjp = make_vjp(fwd)
    f16, rep_f = convert_to_fp16(fwd)
    v16, rep_v = convert_to_fp16(vjp)
    for name, m in (("forward", fwd), ("forward.fp16", f16), ("vjp", vjp), ("vjp.fp16", v16)):
        onnx.save(m, str(out / f"{name}.onnx"))
    net64 = net.double()
    x64 = x.double().requires_grad_(True)
    y = net64(x64)
    c = torch.randn(y.shape, dtype=torch.float64)
    (g,) = torch.autograd.grad(y, x64, c)
    np.save(out / "x.npy", x.numpy().astype(np.float32))
    np.save(out / "c.npy", c.numpy().astype(np.float32))
    np.save(out / "y.npy", y.detach().numpy().astype(np.float32))
    np.save(out / "g.npy", g.numpy().astype(np.float32))
    (out / "report.json").write_text(json.dumps({"forward.fp16": rep_f.as_dict(), "vjp.fp16": rep_v.as_dict(),
                                                 "vjp_nodes": len(vjp.graph.node)}, indent=1))
    print(json.dumps({"ok": True, "out": str(out)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
