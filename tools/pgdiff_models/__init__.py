"""PGDiff's networks in plain torch (no dependency on the authors' code).

Use from the repo root (`/usr/bin/python3 -m tools.<pkg>.<script>`) or with the repo root on sys.path:

    from tools.pgdiff_models import create_unet, create_restorer, iresnet50
    from tools.pgdiff_models import load_prior_state_dict, load_restorer_state_dict

- create_unet(cfg) / UNetModel: guided-diffusion prior; forward(x, t) with t the ORIGINAL timestep index.
  OFFICIAL_PRIOR_512 is the official FFHQ-512 config.
- create_restorer(cfg) / Restorer: RRDB restorer; forward(x_t, y, t). OFFICIAL_RESTORER = 23/64/32.
- iresnet50() / IResNet: ArcFace embedding net.
- load_prior_state_dict(path): reads a prior .pth, strips the 'module.' prefix.
- load_restorer_state_dict(path): reads a restorer .pth, returns its 'state_dict' entry.
See README.md in this folder for what verify.py proves.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

import torch

from .iresnet import IResNet, iresnet18, iresnet50
from .rrdb import OFFICIAL_RESTORER, Restorer, create_restorer
from .unet import OFFICIAL_PRIOR_512, UNetModel, create_unet, timestep_embedding

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = REPO_ROOT.parent / "shared"
OFFICIAL_DIR = SHARED_DIR / "spec" / "official-checkpoints"
GOLDEN_DIR = OFFICIAL_DIR / "golden"

PathLike = Union[str, Path]


def load_prior_state_dict(path: PathLike) -> dict:
    sd = torch.load(str(path), map_location="cpu")
    if "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}


def load_restorer_state_dict(path: PathLike) -> dict:
    sd = torch.load(str(path), map_location="cpu")
    if "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    return dict(sd)


__all__ = [
    "IResNet", "iresnet18", "iresnet50", "OFFICIAL_RESTORER", "Restorer", "create_restorer",
    "OFFICIAL_PRIOR_512", "UNetModel", "create_unet", "timestep_embedding",
    "load_prior_state_dict", "load_restorer_state_dict", "REPO_ROOT", "SHARED_DIR", "OFFICIAL_DIR", "GOLDEN_DIR",
]
