"""Reverse-mode differentiation of an ONNX graph: emit its vector-Jacobian product as a new graph.

Given a forward graph with one float input x and one float output y = f(x), the VJP graph has
inputs 'input' (x) and 'cotangent' (c, shaped like y) and one output 'grad_input' = J_f(x)^T c.
The forward pass is recomputed inside the VJP graph; weights are shared, not copied (the backward
of a Conv is a ConvTranspose on the same initializer).

Only gradients with respect to the input are produced; every other operand of a differentiated
node must be a constant (initializer, Constant, or foldable from static shapes). Shapes must be
static: dynamic dimensions of the input are pinned (default 1, or --input-shape).

CLI: /usr/bin/python3 -m tools.onnx_vjp.make_vjp in.onnx out.onnx [--input-shape 1,3,112,112]  (make_vjp.py)
API: make_vjp(model: onnx.ModelProto, input_shape=None) -> onnx.ModelProto
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SUPPORTED = sorted([
    'Abs', 'Add', 'BatchNormalization', 'Cast', 'Clip', 'Concat', 'Conv', 'Div', 'Dropout', 'Exp', 'Expand',
    'Flatten', 'Gemm', 'GlobalAveragePool', 'Identity', 'InstanceNormalization', 'LeakyRelu', 'Log', 'MatMul', 'Max', 'Min', 'Mul', 'Neg',
    'PRelu', 'Pad', 'Pow', 'Reciprocal', 'ReduceL2', 'ReduceMean', 'ReduceSum', 'ReduceSumSquare', 'Relu',
    'Reshape', 'Resize', 'Sigmoid', 'Sqrt', 'Squeeze', 'Sub', 'Sum', 'Tanh', 'Transpose', 'Unsqueeze',
])


class VjpError(NotImplementedError):
    pass


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


# --- constant folding (numpy) -------------------------------------------------------------------

def _fold(node: onnx.NodeProto, vals: list[Optional[np.ndarray]], shapes: dict[str, list[int]], opset: int) -> Optional[list[np.ndarray]]:
    """Evaluate `node` when its inputs are known; None when it cannot be folded."""
    op, a = node.op_type, _attrs(node)
    if op == 'Shape':
        s = shapes.get(node.input[0])
        if s is None or any(d < 0 for d in s):
            return None
        arr = np.array(s, np.int64)
        return [arr[a.get('start', 0):a.get('end', len(s))] if ('start' in a or 'end' in a) else arr]
    if op == 'Size':
        s = shapes.get(node.input[0])
        return None if s is None or any(d < 0 for d in s) else [np.array(int(np.prod(s)), np.int64)]
    if op == 'Constant':
        if 'value' in a:
            return [numpy_helper.to_array(a['value'])]
        for k, dt in (('value_float', np.float32), ('value_int', np.int64), ('value_floats', np.float32), ('value_ints', np.int64)):
            if k in a:
                return [np.array(a[k], dt)]
        return None
    if any(v is None for v, n in zip(vals, node.input) if n):
        return None
    x = vals
    try:
        if op == 'Identity':
            return [x[0]]
        if op == 'Cast':
            return [x[0].astype(helper.tensor_dtype_to_np_dtype(a['to']))]
        if op == 'Gather':
            return [np.take(x[0], x[1], axis=a.get('axis', 0))]
        if op == 'Unsqueeze':
            axes = a['axes'] if opset < 13 else list(x[1])
            r = x[0]
            for ax in sorted(int(v) % (r.ndim + len(axes)) for v in axes):
                r = np.expand_dims(r, ax)
            return [r]
        if op == 'Squeeze':
            axes = a.get('axes') if opset < 13 else (list(x[1]) if len(x) > 1 else None)
            return [np.squeeze(x[0], axis=tuple(int(v) for v in axes) if axes is not None else None)]
        if op == 'Concat':
            return [np.concatenate(x, axis=a['axis'])]
        if op == 'Slice':
            starts, ends = x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
            sl = [slice(None)] * x[0].ndim
            for s_, e_, ax, st in zip(starts, ends, axes, steps):
                sl[int(ax)] = slice(int(s_), int(e_), int(st))
            return [x[0][tuple(sl)]]
        if op == 'ConstantOfShape':
            v = numpy_helper.to_array(a['value']) if 'value' in a else np.zeros(1, np.float32)
            return [np.full(tuple(int(d) for d in x[0]), v.reshape(-1)[0], v.dtype)]
        if op == 'Reshape':
            shape = [int(d) for d in x[1]]
            shape = [x[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
            return [x[0].reshape(shape)]
        if op == 'Transpose':
            return [np.transpose(x[0], a.get('perm'))]
        if op in ('Add', 'Sub', 'Mul', 'Div', 'Equal', 'Pow', 'Max', 'Min'):
            if op == 'Div' and np.issubdtype(x[0].dtype, np.integer):
                return [np.floor_divide(x[0], x[1])]
            f = {'Add': np.add, 'Sub': np.subtract, 'Mul': np.multiply, 'Div': np.divide, 'Equal': np.equal,
                 'Pow': np.power, 'Max': np.maximum, 'Min': np.minimum}[op]
            r = x[0]
            for v in x[1:]:
                r = f(r, v)
            return [np.asarray(r).astype(x[0].dtype) if op != 'Equal' else np.asarray(r)]
        if op in ('Neg', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Abs'):
            f = {'Neg': np.negative, 'Sqrt': np.sqrt, 'Reciprocal': np.reciprocal, 'Floor': np.floor,
                 'Ceil': np.ceil, 'Abs': np.abs}[op]
            return [f(x[0])]
        if op == 'Where':
            return [np.where(x[0], x[1], x[2])]
        if op == 'Expand':
            return [x[0] * np.ones(tuple(int(d) for d in x[1]), x[0].dtype)]
        if op == 'Range':
            return [np.arange(x[0], x[1], x[2]).astype(x[0].dtype)]
    except Exception:  # unfoldable in numpy: leave it to the runtime
        return None
    return None


def _prepare(model: onnx.ModelProto, input_shape: Optional[Sequence[int]]) -> tuple[onnx.ModelProto, dict[str, np.ndarray], dict[str, list[int]]]:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    init_names = {i.name for i in g.initializer}
    real_inputs = [i for i in g.input if i.name not in init_names]
    if len(real_inputs) != 1 or len(g.output) != 1:
        raise VjpError(f'need one input and one output, got {[i.name for i in real_inputs]} -> {[o.name for o in g.output]}')
    # initializers listed as graph inputs (old exporters) would be overridable: make them plain
    del g.input[:]
    g.input.append(real_inputs[0])
    dims = real_inputs[0].type.tensor_type.shape.dim
    if input_shape is not None and len(input_shape) != len(dims):
        raise VjpError('input shape rank mismatch')
    for k, d in enumerate(dims):
        v = input_shape[k] if input_shape is not None else (d.dim_value if d.HasField('dim_value') and d.dim_value > 0 else 1)
        d.Clear()
        d.dim_value = int(v)
    for o in g.output:
        o.type.tensor_type.ClearField('shape')
    opset = _opset(model)
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    for _ in range(8):
        del g.value_info[:]
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
        shapes = _shapes(inferred)
        changed = False
        keep = []
        for node in g.node:
            res = _fold(node, [consts.get(i) if i else None for i in node.input], shapes, opset)
            if res is not None and len(res) == len(node.output):
                for name, v in zip(node.output, res):
                    consts[name] = np.asarray(v)
                    g.initializer.append(numpy_helper.from_array(np.asarray(v), name))
                changed = True
            else:
                keep.append(node)
        del g.node[:]
        g.node.extend(keep)
        if not changed:
            break
    del g.value_info[:]
    model = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    return model, consts, _shapes(model)


def _shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    g = model.graph
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        t = vi.type.tensor_type
        if t.HasField('shape'):
            out[vi.name] = [d.dim_value if d.HasField('dim_value') else -1 for d in t.shape.dim]
    for i in g.initializer:
        out[i.name] = list(i.dims)
    return out


def _opset(model: onnx.ModelProto) -> int:
    return next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))


# --- the differentiator -------------------------------------------------------------------------

class _Builder:
    def __init__(self, consts: dict[str, np.ndarray], shapes: dict[str, list[int]], opset: int):
        self.consts = consts
        self.shapes = shapes
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, hint: str) -> str:
        self.n += 1
        return f'vjp/{hint}_{self.n}'

    def op(self, op_type: str, inputs: list[str], shape: Optional[list[int]] = None, **attrs) -> str:
        out = self.name(op_type)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        if shape is not None:
            self.shapes[out] = list(shape)
        return out

    def const(self, arr: np.ndarray, hint: str = 'c') -> str:
        name = self.name(hint)
        arr = np.asarray(arr)
        self.inits.append(numpy_helper.from_array(arr, name))
        self.consts[name] = arr
        self.shapes[name] = list(arr.shape)
        return name

    def shape(self, name: str) -> list[int]:
        s = self.shapes.get(name)
        if s is None or any(d < 0 for d in s):
            raise VjpError(f'shape of {name} is not static ({s})')
        return s

    def f32(self, v: float) -> str:
        return self.const(np.array(v, np.float32))

    def reshape(self, x: str, shape: list[int]) -> str:
        if self.shapes.get(x) == list(shape):
            return x
        return self.op('Reshape', [x, self.const(np.array(shape, np.int64), 'shape')], shape)

    def reduce_sum(self, x: str, axes: list[int], keepdims: int, out_shape: list[int]) -> str:
        if self.opset >= 13:
            return self.op('ReduceSum', [x, self.const(np.array(axes, np.int64), 'axes')], out_shape, keepdims=keepdims)
        return self.op('ReduceSum', [x], out_shape, axes=axes, keepdims=keepdims)

    def unbroadcast(self, g: str, target: list[int]) -> str:
        """Sum a broadcast gradient back to an operand's shape."""
        gs = self.shape(g)
        if gs == list(target):
            return g
        d = len(gs) - len(target)
        axes = list(range(d)) + [i + d for i, s in enumerate(target) if s == 1 and gs[i + d] != 1]
        if not axes:
            return self.reshape(g, target)
        kept = [1 if i in axes else s for i, s in enumerate(gs)]
        r = self.reduce_sum(g, axes, 1, kept)
        return self.reshape(r, list(target))

    def expand(self, g: str, shape: list[int]) -> str:
        if self.shapes.get(g) == list(shape):
            return g
        return self.op('Expand', [g, self.const(np.array(shape, np.int64), 'shape')], shape)

    def zeros_where(self, cond: str, g: str) -> str:
        return self.op('Where', [cond, g, self.f32(0.0)], self.shape(g))


Rule = Callable[[_Builder, onnx.NodeProto, str, list[bool]], list[Optional[str]]]


def _axes_of(b: _Builder, node: onnx.NodeProto, rank: int, attr_until: int) -> Optional[list[int]]:
    """Reduction axes: attribute before opset `attr_until`, second input from it on; None = all."""
    a = _attrs(node)
    if b.opset < attr_until:
        axes = a.get('axes')
    else:
        axes = list(b.consts[node.input[1]]) if len(node.input) > 1 and node.input[1] else None
    if axes is None or len(axes) == 0:
        if axes is not None and a.get('noop_with_empty_axes', 0):
            return []
        return list(range(rank))
    return sorted(int(v) % rank for v in axes)


def _grad(b: _Builder, node: onnx.NodeProto, g: str, active: list[bool]) -> list[Optional[str]]:
    op, a, ins = node.op_type, _attrs(node), list(node.input)
    y = node.output[0]
    res: list[Optional[str]] = [None] * len(ins)

    def need(i: int) -> bool:
        return i < len(active) and active[i]

    def const_only(*idx: int) -> None:
        for i in idx:
            if need(i):
                raise VjpError(f'{op} ({node.name}): gradient w.r.t. input {i} ({ins[i]}) is not supported; it must be constant')

    if op in ('Identity', 'Dropout'):
        res[0] = g
    elif op == 'Cast':
        res[0] = g
    elif op in ('Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'):
        res[0] = b.reshape(g, b.shape(ins[0]))
        const_only(*range(1, len(ins)))
    elif op == 'Transpose':
        rank = len(b.shape(ins[0]))
        perm = a.get('perm', list(range(rank))[::-1])
        inv = list(np.argsort(perm))
        res[0] = b.op('Transpose', [g], b.shape(ins[0]), perm=[int(p) for p in inv])
    elif op == 'Conv':
        const_only(1, 2)
        xs, ws, ys = b.shape(ins[0]), b.shape(ins[1]), b.shape(y)
        nsp = len(xs) - 2
        k = a.get('kernel_shape', ws[2:])
        s = a.get('strides', [1] * nsp)
        d = a.get('dilations', [1] * nsp)
        auto = a.get('auto_pad', b'NOTSET')
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ('NOTSET', ''):
            pads = list(a.get('pads', [0] * 2 * nsp))
        elif auto == 'VALID':
            pads = [0] * 2 * nsp
        else:
            pads = [0] * 2 * nsp
            for i in range(nsp):
                eff = (k[i] - 1) * d[i] + 1
                total = max((ys[2 + i] - 1) * s[i] + eff - xs[2 + i], 0)
                small, big = total // 2, total - total // 2
                pads[i], pads[i + nsp] = (small, big) if auto == 'SAME_UPPER' else (big, small)
        outpad = []
        for i in range(nsp):
            eff = (k[i] - 1) * d[i] + 1
            covered = s[i] * (ys[2 + i] - 1) + eff - pads[i] - pads[i + nsp]
            # input rows past the last window get no gradient: output_padding restores them as zeros
            outpad.append(xs[2 + i] - covered)
        attrs = dict(kernel_shape=list(k), strides=list(s), dilations=list(d), pads=pads, group=a.get('group', 1))
        if any(outpad):
            attrs['output_padding'] = outpad
        group = a.get('group', 1)
        w = b.consts.get(ins[1])
        if (w is not None and group == 1 and all(v == 1 for v in s) and all(v == 1 for v in d) and not any(outpad)
                and all(k[i] - 1 - pads[i] >= 0 and k[i] - 1 - pads[i + nsp] >= 0 for i in range(nsp))):
            # stride 1: the transposed convolution is a plain convolution with the kernel flipped and its channel
            # axes swapped (onnxruntime's Conv kernels are much faster than its ConvTranspose ones)
            wt = np.ascontiguousarray(np.flip(w, axis=tuple(range(2, 2 + nsp))).swapaxes(0, 1)).astype(w.dtype)
            cpads = [k[i] - 1 - pads[i] for i in range(nsp)] + [k[i] - 1 - pads[i + nsp] for i in range(nsp)]
            res[0] = b.op('Conv', [g, b.const(wt, 'wT')], xs, kernel_shape=list(k), strides=list(s), dilations=list(d), pads=cpads)
        else:
            res[0] = b.op('ConvTranspose', [g, ins[1]], xs, **attrs)
    elif op == 'BatchNormalization':
        const_only(1, 2, 3, 4)
        if a.get('training_mode', 0):
            raise VjpError('BatchNormalization in training mode')
        scale, var = b.consts[ins[1]], b.consts[ins[4]]
        k = (scale / np.sqrt(var + a.get('epsilon', 1e-5))).astype(np.float32)
        rank = len(b.shape(ins[0]))
        res[0] = b.op('Mul', [g, b.const(k.reshape([-1] + [1] * (rank - 2)), 'bn_k')], b.shape(g))
    elif op == 'Relu':
        res[0] = b.zeros_where(b.op('Greater', [ins[0], b.f32(0.0)]), g)
    elif op == 'LeakyRelu':
        res[0] = b.op('Where', [b.op('Greater', [ins[0], b.f32(0.0)]), g, b.op('Mul', [g, b.f32(a.get('alpha', 0.01))])], b.shape(g))
    elif op == 'PRelu':
        const_only(1)
        res[0] = b.op('Where', [b.op('Greater', [ins[0], b.f32(0.0)]), g, b.op('Mul', [g, ins[1]])], b.shape(ins[0]))
    elif op in ('Add', 'Sub', 'Sum'):
        for i in range(len(ins)):
            if need(i):
                gi = b.op('Neg', [g], b.shape(g)) if (op == 'Sub' and i == 1) else g
                res[i] = b.unbroadcast(gi, b.shape(ins[i]))
    elif op == 'Mul':
        for i, j in ((0, 1), (1, 0)):
            if need(i):
                res[i] = b.unbroadcast(b.op('Mul', [g, ins[j]], b.shape(g)), b.shape(ins[i]))
    elif op == 'Div':
        if need(0):
            res[0] = b.unbroadcast(b.op('Div', [g, ins[1]], b.shape(g)), b.shape(ins[0]))
        if need(1):  # d(a/b)/db = -y/b
            t = b.op('Neg', [b.op('Div', [b.op('Mul', [g, y], b.shape(g)), ins[1]], b.shape(g))], b.shape(g))
            res[1] = b.unbroadcast(t, b.shape(ins[1]))
    elif op == 'Abs':
        res[0] = b.op('Mul', [g, b.op('Sign', [ins[0]])], b.shape(g))
    elif op == 'Neg':
        res[0] = b.op('Neg', [g], b.shape(g))
    elif op == 'Sqrt':
        res[0] = b.op('Div', [b.op('Mul', [g, b.f32(0.5)]), y], b.shape(g))
    elif op == 'Reciprocal':
        res[0] = b.op('Neg', [b.op('Mul', [g, b.op('Mul', [y, y])])], b.shape(g))
    elif op == 'Exp':
        res[0] = b.op('Mul', [g, y], b.shape(g))
    elif op == 'Log':
        res[0] = b.op('Div', [g, ins[0]], b.shape(g))
    elif op == 'Sigmoid':
        res[0] = b.op('Mul', [g, b.op('Mul', [y, b.op('Sub', [b.f32(1.0), y])])], b.shape(g))
    elif op == 'Tanh':
        res[0] = b.op('Mul', [g, b.op('Sub', [b.f32(1.0), b.op('Mul', [y, y])])], b.shape(g))
    elif op == 'Pow':
        const_only(1)
        p = np.asarray(b.consts[ins[1]], np.float64)
        if p.size == 1 and float(p.reshape(-1)[0]) == 2.0:
            d = b.op('Mul', [ins[0], b.f32(2.0)])
        elif p.size == 1 and float(p.reshape(-1)[0]) == 1.0:
            d = None
        else:
            d = b.op('Mul', [b.const(p.astype(np.float32)), b.op('Pow', [ins[0], b.const((p - 1).astype(np.float32))])])
        t = g if d is None else b.op('Mul', [g, d], b.shape(y))
        res[0] = b.unbroadcast(t, b.shape(ins[0]))
    elif op in ('ReduceSum', 'ReduceMean', 'ReduceSumSquare', 'ReduceL2'):
        xs = b.shape(ins[0])
        axes = _axes_of(b, node, len(xs), 13 if op == 'ReduceSum' else 18)
        const_only(1)
        kshape = [1 if i in axes else s for i, s in enumerate(xs)]
        gk = b.reshape(g, kshape)
        if op == 'ReduceSum':
            res[0] = b.expand(gk, xs)
        elif op == 'ReduceMean':
            n = int(np.prod([xs[i] for i in axes])) if axes else 1
            res[0] = b.expand(b.op('Mul', [gk, b.f32(1.0 / n)], kshape), xs)
        elif op == 'ReduceSumSquare':
            res[0] = b.op('Mul', [b.op('Mul', [ins[0], b.f32(2.0)]), gk], xs)
        else:
            res[0] = b.op('Mul', [b.op('Div', [ins[0], b.reshape(y, kshape)]), gk], xs)
    elif op == 'GlobalAveragePool':
        xs = b.shape(ins[0])
        res[0] = b.expand(b.op('Mul', [g, b.f32(1.0 / float(np.prod(xs[2:])))], b.shape(g)), xs)
    elif op == 'Gemm':
        alpha, beta = a.get('alpha', 1.0), a.get('beta', 1.0)
        ta, tb = a.get('transA', 0), a.get('transB', 0)
        if need(0):  # dA' = alpha g B'^T
            t = b.op('Gemm', [g, ins[1]], None, alpha=alpha, transB=1 - tb)
            res[0] = b.op('Transpose', [t], b.shape(ins[0]), perm=[1, 0]) if ta else t
            b.shapes[t] = b.shape(ins[0])[::-1] if ta else b.shape(ins[0])
        if need(1):  # dB' = alpha A'^T g
            t = b.op('Gemm', [ins[0], g], None, alpha=alpha, transA=1 - ta)
            res[1] = b.op('Transpose', [t], b.shape(ins[1]), perm=[1, 0]) if tb else t
            b.shapes[t] = b.shape(ins[1])[::-1] if tb else b.shape(ins[1])
        if len(ins) > 2 and need(2):
            t = g if beta == 1.0 else b.op('Mul', [g, b.f32(beta)], b.shape(g))
            res[2] = b.unbroadcast(t, b.shape(ins[2]))
    elif op == 'MatMul':
        sa, sb = b.shape(ins[0]), b.shape(ins[1])
        if len(sa) < 2 or len(sb) < 2:
            raise VjpError('MatMul with a 1-D operand')

        def t_last(name: str, s: list[int]) -> str:
            perm = list(range(len(s) - 2)) + [len(s) - 1, len(s) - 2]
            if name in b.consts:
                return b.const(np.transpose(b.consts[name], perm).copy(), 'wT')
            return b.op('Transpose', [name], [s[p] for p in perm], perm=perm)
        if need(0):
            t = b.op('MatMul', [g, t_last(ins[1], sb)])
            b.shapes[t] = list(np.broadcast_shapes(tuple(b.shape(g)[:-2]), tuple(sb[:-2]))) + [b.shape(g)[-2], sb[-2]]
            res[0] = b.unbroadcast(t, sa)
        if need(1):
            t = b.op('MatMul', [t_last(ins[0], sa), g])
            b.shapes[t] = list(np.broadcast_shapes(tuple(sa[:-2]), tuple(b.shape(g)[:-2]))) + [sa[-1], b.shape(g)[-1]]
            res[1] = b.unbroadcast(t, sb)
    elif op == 'Resize':
        # nearest upsampling by whole factors (torch's nn.Upsample export): each input pixel is copied to an
        # s_h x s_w block, so its gradient is the sum of that block
        mode = a.get('mode', b'nearest')
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != 'nearest':
            raise VjpError(f'Resize mode {mode} (only nearest with whole scale factors)')
        for i in range(1, len(ins)):
            const_only(i)
        xs, ys = b.shape(ins[0]), b.shape(y)
        if len(xs) != 4 or xs[:2] != ys[:2] or ys[2] % xs[2] or ys[3] % xs[3]:
            raise VjpError(f'Resize {xs} -> {ys}: only NCHW nearest upsampling by whole factors')
        sh, sw = ys[2] // xs[2], ys[3] // xs[3]
        ctm = a.get('coordinate_transformation_mode', b'half_pixel')
        ctm = ctm.decode() if isinstance(ctm, bytes) else ctm
        nm = a.get('nearest_mode', b'round_prefer_floor')
        nm = nm.decode() if isinstance(nm, bytes) else nm
        if (sh > 1 or sw > 1) and not (ctm == 'asymmetric' and nm == 'floor'):
            raise VjpError(f'Resize nearest with {ctm}/{nm} (only asymmetric/floor, the block copy)')
        blocks = b.reshape(g, [xs[0], xs[1], xs[2], sh, xs[3], sw])
        res[0] = b.reshape(b.reduce_sum(blocks, [3, 5], 0, xs), xs)
    elif op == 'InstanceNormalization':
        # y = scale * xh + bias, xh = (x - mean) / sqrt(var + eps) over the spatial axes of each (n, c):
        # dx = (gs - mean(gs) - xh * mean(gs * xh)) / sqrt(var + eps), gs = g * scale
        const_only(1, 2)
        xs = b.shape(ins[0])
        rank = len(xs)
        axes = list(range(2, rank))
        kshape = xs[:2] + [1] * (rank - 2)
        eps = float(a.get('epsilon', 1e-5))
        scale = b.consts[ins[1]].astype(np.float32).reshape([-1] + [1] * (rank - 2))

        def mean(t: str) -> str:
            if b.opset >= 18:
                return b.op('ReduceMean', [t, b.const(np.array(axes, np.int64), 'axes')], kshape, keepdims=1)
            return b.op('ReduceMean', [t], kshape, axes=axes, keepdims=1)
        xc = b.op('Sub', [ins[0], mean(ins[0])], xs)
        inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [mean(b.op('Mul', [xc, xc], xs)), b.f32(eps)], kshape)], kshape)], kshape)
        xh = b.op('Mul', [xc, inv], xs)
        gs = b.op('Mul', [g, b.const(scale, 'in_scale')], xs)
        t = b.op('Sub', [b.op('Sub', [gs, mean(gs)], xs), b.op('Mul', [xh, mean(b.op('Mul', [gs, xh], xs))], xs)], xs)
        res[0] = b.op('Mul', [t, inv], xs)
    elif op == 'Clip':
        const_only(1, 2)
        lo = a.get('min') if b.opset < 11 else (b.consts[ins[1]] if len(ins) > 1 and ins[1] else None)
        hi = a.get('max') if b.opset < 11 else (b.consts[ins[2]] if len(ins) > 2 and ins[2] else None)
        mask = None
        for bound, cmp in ((lo, 'Less'), (hi, 'Greater')):
            if bound is None:
                continue
            m = b.op('Not', [b.op(cmp, [ins[0], b.const(np.asarray(bound, np.float32))])])
            mask = m if mask is None else b.op('And', [mask, m])
        res[0] = g if mask is None else b.zeros_where(mask, g)
    elif op in ('Max', 'Min'):
        if len(ins) != 2:
            raise VjpError(f'{op} with {len(ins)} operands')
        # ties go to the first operand (TF convention); Less/Greater keep it opset-9 compatible
        first = b.op('Not', [b.op('Less' if op == 'Max' else 'Greater', ins)])
        if need(0):
            res[0] = b.unbroadcast(b.op('Where', [first, g, b.f32(0.0)], b.shape(g)), b.shape(ins[0]))
        if need(1):
            res[1] = b.unbroadcast(b.op('Where', [first, b.f32(0.0), g], b.shape(g)), b.shape(ins[1]))
    elif op == 'Expand':
        const_only(1)
        res[0] = b.unbroadcast(g, b.shape(ins[0]))
    elif op == 'Pad':
        mode = a.get('mode', b'constant')
        if (mode.decode() if isinstance(mode, bytes) else mode) != 'constant':
            raise VjpError('Pad modes other than constant')
        pads = list(a['pads']) if b.opset < 11 else [int(v) for v in b.consts[ins[1]]]
        if b.opset >= 18 and len(ins) > 3 and ins[3]:
            raise VjpError('Pad with axes')
        const_only(1, 2)
        xs = b.shape(ins[0])
        r = len(xs)
        if any(p < 0 for p in pads):
            raise VjpError('negative pads')
        starts = pads[:r]
        ends = [starts[i] + xs[i] for i in range(r)]
        res[0] = b.op('Slice', [g, b.const(np.array(starts, np.int64)), b.const(np.array(ends, np.int64))], xs)
    elif op == 'Concat':
        axis = a['axis'] % len(b.shape(y))
        off = 0
        for i, name in enumerate(ins):
            n = b.shape(name)[axis]
            if need(i):
                res[i] = b.op('Slice', [g, b.const(np.array([off], np.int64)), b.const(np.array([off + n], np.int64)),
                                        b.const(np.array([axis], np.int64))], b.shape(name))
            off += n
    else:
        raise VjpError(f'no gradient rule for {op} ({node.name}); supported: {", ".join(SUPPORTED)}')
    return res


def make_vjp(model: onnx.ModelProto, input_shape: Optional[Sequence[int]] = None,
             input_name: str = 'input', cotangent_name: str = 'cotangent', output_name: str = 'grad_input') -> onnx.ModelProto:
    model, consts, shapes = _prepare(model, input_shape)
    g = model.graph
    opset = _opset(model)
    if opset < 9:
        raise VjpError(f'opset {opset} < 9')
    x_name, y_name = g.input[0].name, g.output[0].name
    b = _Builder(consts, shapes, opset)

    # active = depends on the input; only those nodes are differentiated
    active = {x_name}
    for node in g.node:
        if any(i in active for i in node.input):
            if node.op_type not in SUPPORTED and not (node.op_type == 'Dropout'):
                raise VjpError(f'no gradient rule for {node.op_type} ({node.name}); supported: {", ".join(SUPPORTED)}')
            active.update(o for o in node.output if o)
    if y_name not in active:
        raise VjpError('the output does not depend on the input')

    grads: dict[str, list[str]] = {y_name: [cotangent_name]}
    b.shapes[cotangent_name] = b.shape(y_name)

    def total(name: str) -> Optional[str]:
        parts = grads.get(name)
        if not parts:
            return None
        # a chain of Adds rather than one Sum: Add is implemented by every execution provider
        acc = parts[0]
        for p in parts[1:]:
            acc = b.op('Add', [acc, p], b.shape(parts[0]))
        return acc

    for node in reversed(list(g.node)):
        if not any(o in active for o in node.output):
            continue
        gy = total(node.output[0])
        if any(total(o) is not None for o in node.output[1:] if o):
            raise VjpError(f'{node.op_type} ({node.name}): gradient through a secondary output')
        if gy is None:
            continue
        flags = [bool(i) and i in active for i in node.input]
        for name, gi in zip(node.input, _grad(b, node, gy, flags)):
            if gi is not None:
                grads.setdefault(name, []).append(gi)

    gx = total(x_name)
    if gx is None:
        raise VjpError('no gradient reaches the input')
    nodes = list(g.node) + b.nodes
    nodes.append(helper.make_node('Identity', [gx], [output_name], name='vjp/output'))
    # the engine's contract names the input 'input'
    if x_name != input_name:
        for nd in nodes:
            for k, i in enumerate(nd.input):
                if i == x_name:
                    nd.input[k] = input_name
    # dead-code elimination from grad_input (the forward tail past the last needed tensor goes away)
    needed = {output_name}
    kept = []
    for nd in reversed(nodes):
        if any(o in needed for o in nd.output):
            kept.append(nd)
            needed.update(i for i in nd.input if i)
    kept.reverse()
    inits = [i for i in list(g.initializer) + b.inits if i.name in needed]
    xshape = b.shape(x_name)
    graph = helper.make_graph(
        kept, (g.name or 'forward') + '_vjp',
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, xshape),
         helper.make_tensor_value_info(cotangent_name, TensorProto.FLOAT, b.shape(y_name))],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, xshape)], inits)
    out = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name='pgdiff-web onnx_vjp')
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    return out


def main(argv: Optional[list[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('forward')
    ap.add_argument('out')
    ap.add_argument('--input-shape', help='pin the input shape, e.g. 1,3,112,112 (default: dynamic dims -> 1)')
    args = ap.parse_args(argv)
    shape = [int(v) for v in args.input_shape.split(',')] if args.input_shape else None
    model = onnx.load(args.forward)
    try:
        vjp = make_vjp(model, shape)
    except VjpError as e:
        print(f'make_vjp: {e}', file=sys.stderr)
        sys.exit(2)
    onnx.save(vjp, args.out)
    print(f'wrote {args.out}: {len(vjp.graph.node)} nodes', file=sys.stderr)


if __name__ == '__main__':
    main()
