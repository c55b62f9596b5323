"""Reverse-mode differentiation of ONNX graphs: make_vjp(model) -> VJP graph (see vjp.py)."""
from .vjp import SUPPORTED, VjpError, make_vjp

__all__ = ['SUPPORTED', 'VjpError', 'make_vjp']
