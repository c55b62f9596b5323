"""The UTKFace tarball and its one train / held-out split, shared by every script that reads it.

Held out: every 50th JPEG by sorted member name (467 of 23,317 faces). pack.py, encode_latents.py,
tools/quality/make_synthetic.py and tools/scratches/cnn_experiment.py all split with this module, so the faces
the quality numbers are measured on are never trained on.
"""
import os
import tarfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
TAR = os.path.join(ROOT, '..', 'shared', 'datasets', 'utkface', 'utkface-aligned-200.tar')
VAL_EVERY = 50


def jpeg_members(tf: tarfile.TarFile, limit: int = 0) -> list:
    """The tarball's JPEG members sorted by name (the order the split counts in); the first `limit` if set."""
    ms = sorted((m for m in tf.getmembers() if m.isfile() and m.name.lower().endswith('.jpg')), key=lambda m: m.name)
    return ms[:limit] if limit else ms


def is_val(idx):
    """Whether the face at sorted position idx (int or array) is held out."""
    return np.asarray(idx) % VAL_EVERY == 0


def laplacian_var(grey: np.ndarray) -> float:
    """Sharpness score for the training filter: variance of the 3x3 Laplacian of the grey image."""
    g = grey.astype(np.float32)
    lap = (g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1])
    return float(lap.var())
