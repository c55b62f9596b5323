"""CLI: /usr/bin/python3 -m tools.onnx_vjp.make_vjp in.onnx out.onnx [--input-shape 1,3,112,112]

A thin entry point; the differentiator lives in vjp.py (so `-m` does not import this module twice).
"""
from tools.onnx_vjp.vjp import SUPPORTED, VjpError, main, make_vjp

__all__ = ['SUPPORTED', 'VjpError', 'main', 'make_vjp']

if __name__ == '__main__':
    main()
