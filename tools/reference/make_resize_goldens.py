"""torch's antialiased bilinear resize (what the identity property applies to x0_hat) at the sizes the engine uses.

Run from the repo root:  /usr/bin/python3 -m tools.reference.make_resize_goldens
Writes tests/goldens-resize/<in>_to_<out>.bin: F.interpolate(src, (out, out), mode='bilinear', antialias=True,
align_corners=False) of src = float32(sin(0.7 * i)), i = 0 .. 3*in*in - 1, shape (1,3,in,in); float32 little-endian.
"""
from __future__ import annotations

import json

import torch
import torch.nn.functional as F

from tools.pgdiff_models import REPO_ROOT

OUT = REPO_ROOT / "tests" / "goldens-resize"
PAIRS = [(512, 112), (256, 112), (128, 112), (64, 112), (256, 64), (32, 128)]


def main() -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    index = []
    for s, d in PAIRS:
        src = torch.sin(torch.arange(3 * s * s, dtype=torch.float64) * 0.7).float().reshape(1, 3, s, s)
        out = F.interpolate(src, (d, d), mode="bilinear", antialias=True, align_corners=False)
        name = f"{s}_to_{d}.bin"
        (OUT / name).write_bytes(out.numpy().astype("<f4").tobytes())
        index.append({"file": name, "in": s, "out": d})
    (OUT / "index.json").write_text(json.dumps({"src": "float32(sin(0.7 * i)), (1,3,in,in)", "torch": torch.__version__,
                                                "cases": index}, indent=1) + "\n")
    print(f"wrote {len(index)} resize goldens to {OUT}")


if __name__ == "__main__":
    main()
