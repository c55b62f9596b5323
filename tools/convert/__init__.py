"""Convert the official PGDiff checkpoints (prior, restorer, ArcFace) to ONNX + a model-set manifest.

Entry point: `/usr/bin/python3 -m tools.convert.convert --help` (see README.md in this folder).
"""
