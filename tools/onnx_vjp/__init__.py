"""Reverse-mode differentiation of ONNX graphs (see make_vjp.py)."""
from typing import Any

__all__ = ['SUPPORTED', 'VjpError', 'make_vjp']


def __getattr__(name: str) -> Any:
    # lazy, so `python -m tools.onnx_vjp.make_vjp` does not import the module twice
    if name in __all__:
        from . import make_vjp as m
        return getattr(m, name)
    raise AttributeError(name)
