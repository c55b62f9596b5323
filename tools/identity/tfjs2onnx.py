"""Convert a TF.js graph model (model.json + .bin shards) to an NCHW ONNX graph.

Generic for graph models built from (fused) convolutions, depthwise convolutions, element-wise
arithmetic, pooling, padding and reshapes (MobileFaceNet, BlazeFace-style detectors). Shapes are
static: the input size is fixed at conversion time, so TF 'SAME' padding becomes explicit ONNX pads.

Layout: every 4-D activation is kept as NCHW in ONNX while its TF (NHWC) shape is tracked, so axis
attributes, per-channel constants and reshapes are remapped; other ranks are passed through as is.

Usage:
  /usr/bin/python3 tools/identity/tfjs2onnx.py model.json out.onnx --input-name input \
      --output-name embedding --input-range=-1,1 [--fuse-prelu]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from dataclasses import dataclass
from typing import Optional

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
TF_DTYPES = {'DT_FLOAT': np.float32, 'DT_INT32': np.int32, 'DT_BOOL': np.bool_, 'DT_INT64': np.int64}
JSON_DTYPES = {'float32': np.float32, 'int32': np.int32, 'bool': np.bool_}
# NHWC axis -> NCHW axis
NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


@dataclass
class T:
    """A TF tensor as it lives in the ONNX graph."""
    name: str                      # ONNX tensor name
    shape: list[int]               # TF shape (NHWC for 4-D)
    value: Optional[np.ndarray] = None  # set for constants (TF layout)

    @property
    def nchw(self) -> bool:
        return len(self.shape) == 4 and self.value is None


def load_weights(model_dir: str, manifest: list[dict]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        buf = b''.join(open(os.path.join(model_dir, p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            shape = [int(s) for s in w['shape']]
            n = int(np.prod(shape)) if shape else 1
            q = w.get('quantization')
            if q:
                qdt = {'uint8': np.uint8, 'uint16': np.uint16, 'float16': np.float16}[q['dtype']]
                raw = np.frombuffer(buf, qdt, n, off)
                off += n * raw.itemsize
                arr = raw.astype(np.float32) if q['dtype'] == 'float16' else raw.astype(np.float32) * q['scale'] + q['min']
                arr = arr.astype(JSON_DTYPES[w['dtype']])
            else:
                dt = JSON_DTYPES[w['dtype']]
                arr = np.frombuffer(buf, dt, n, off)
                off += n * arr.itemsize
            out[w['name']] = arr.reshape(shape).copy()
    return out


def inline_const(attr: dict) -> np.ndarray:
    t = attr['value']['tensor']
    dt = TF_DTYPES[t['dtype']]
    shape = [int(d['size']) for d in t.get('tensorShape', {}).get('dim', [])]
    if 'tensorContent' in t:
        arr = np.frombuffer(base64.b64decode(t['tensorContent']), dt)
    else:
        vals = t.get('floatVal') or t.get('intVal') or t.get('int64Val') or t.get('boolVal') or [0]
        arr = np.array(vals, dtype=dt)
    n = int(np.prod(shape)) if shape else 1
    if arr.size == 1 and n != 1:
        arr = np.full(n, arr.reshape(-1)[0], dt)
    return arr.reshape(shape)


def attr_list(node: dict, key: str) -> list[int]:
    return [int(v) for v in node.get('attr', {}).get(key, {}).get('list', {}).get('i', [])]


def attr_str(node: dict, key: str, default: str = '') -> str:
    v = node.get('attr', {}).get(key, {}).get('s')
    return base64.b64decode(v).decode() if v else default


def attr_strs(node: dict, key: str) -> list[str]:
    return [base64.b64decode(s).decode() for s in node.get('attr', {}).get(key, {}).get('list', {}).get('s', [])]


def same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int, int]:
    """TF 'SAME': output ceil(size/s), extra padding goes at the end (asymmetric)."""
    out = -(-size // s)
    eff = (k - 1) * d + 1
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2, out


class Converter:
    def __init__(self, model_json: str, input_name: str, output_name: str, input_range: tuple[float, float]):
        self.dir = os.path.dirname(os.path.abspath(model_json))
        self.m = json.load(open(model_json))
        self.weights = load_weights(self.dir, self.m.get('weightsManifest', []))
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.t: dict[str, T] = {}
        self.input_name = input_name
        self.output_name = output_name
        self.input_range = input_range
        self.uid = 0

    # --- helpers -----------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        self.uid += 1
        return f'{hint}__{self.uid}'

    def init(self, arr: np.ndarray, hint: str) -> str:
        name = self.fresh(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attrs) -> str:
        out = self.fresh(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def operand(self, a: T, other: T) -> str:
        """ONNX name of `a` as an element-wise operand against `other` (layout-aware broadcast)."""
        if a.value is None:
            if a.nchw != other.nchw and other.value is None and len(a.shape) != len(other.shape):
                raise NotImplementedError(f'broadcast between ranks {a.shape} and {other.shape}')
            return a.name
        v = a.value
        if other.nchw and v.ndim >= 1:
            v = v.reshape([1] * (4 - v.ndim) + list(v.shape)).transpose(0, 3, 1, 2)
        return self.init(v.astype(np.float32) if v.dtype == np.float64 else v, 'c')

    def const_of(self, name: str) -> np.ndarray:
        t = self.t[name]
        if t.value is None:
            raise NotImplementedError(f'{name} must be a constant')
        return t.value

    # --- conversion ----------------------------------------------------------------------------
    def run(self) -> onnx.ModelProto:
        nodes = self.m['modelTopology']['node']
        consumers: dict[str, int] = {}
        for n in nodes:
            for i in n.get('input', []):
                consumers[i.split(':')[0].lstrip('^')] = consumers.get(i.split(':')[0].lstrip('^'), 0) + 1
        graph_in: Optional[onnx.ValueInfoProto] = None
        pending = list(nodes)
        # model.json is not guaranteed topologically sorted
        while pending:
            progressed = False
            rest = []
            for n in pending:
                ins = [i.split(':')[0] for i in n.get('input', []) if not i.startswith('^')]
                if all(i in self.t for i in ins):
                    r = self.convert(n, ins)
                    if r is not None:
                        graph_in = r
                    progressed = True
                else:
                    rest.append(n)
            if not progressed:
                raise RuntimeError(f'unresolvable nodes: {[n["name"] for n in rest][:5]}')
            pending = rest
        sig = self.m.get('userDefinedMetadata', {}).get('signature', {}).get('outputs')
        outs = [v['name'].split(':')[0] for v in sig.values()] if sig else [n['name'] for n in nodes if consumers.get(n['name'], 0) == 0 and n['op'] != 'Const']
        if len(outs) != 1:
            raise NotImplementedError(f'expected one output, got {outs}')
        o = self.t[outs[0]]
        oname = o.name
        if o.nchw:
            oname = self.node('Identity', [o.name], 'out')  # keep NCHW; document it
        self.nodes.append(helper.make_node('Identity', [oname], [self.output_name], name='output'))
        oshape = [o.shape[i] for i in (0, 3, 1, 2)] if o.nchw else o.shape
        assert graph_in is not None
        g = helper.make_graph(self.nodes, 'tfjs', [graph_in],
                              [helper.make_tensor_value_info(self.output_name, TensorProto.FLOAT, oshape)], self.inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='pgdiff-web tfjs2onnx')
        model.ir_version = 7
        return model

    def convert(self, n: dict, ins: list[str]) -> Optional[onnx.ValueInfoProto]:
        op, name = n['op'], n['name']
        a = n.get('attr', {})
        if op == 'Const':
            v = self.weights[name] if name in self.weights else inline_const(a)
            self.t[name] = T(name, list(v.shape), v)
            return None
        if op == 'Placeholder':
            dims = [int(d['size']) for d in a['shape']['shape']['dim']]
            dims = [1 if d < 0 else d for d in dims]  # batch 1: the engine feeds one face
            if len(dims) != 4:
                raise NotImplementedError('only NHWC image inputs')
            nchw = [dims[0], dims[3], dims[1], dims[2]]
            vi = helper.make_tensor_value_info(self.input_name, TensorProto.FLOAT, nchw)
            lo, hi = self.input_range
            # the engine always feeds RGB in [-1,1]; map it to the range the model was trained on
            scale, bias = (hi - lo) / 2.0, (hi + lo) / 2.0
            x = self.input_name
            if scale != 1.0:
                x = self.node('Mul', [x, self.init(np.array(scale, np.float32), 'in_scale')], 'in_scaled')
            if bias != 0.0:
                x = self.node('Add', [x, self.init(np.array(bias, np.float32), 'in_bias')], 'in_biased')
            self.t[name] = T(x, dims)
            return vi
        xs = [self.t[i] for i in ins]
        const_inputs = all(x.value is not None for x in xs)
        if const_inputs and op in ('Add', 'AddV2', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum'):
            f = {'Add': np.add, 'AddV2': np.add, 'Sub': np.subtract, 'Mul': np.multiply, 'RealDiv': np.divide,
                 'Maximum': np.maximum, 'Minimum': np.minimum}[op]
            v = f(xs[0].value, xs[1].value)
            self.t[name] = T(name, list(v.shape), v)
            return None
        if op in ('_FusedConv2D', 'FusedDepthwiseConv2dNative', 'Conv2D', 'DepthwiseConv2dNative'):
            self.t[name] = self.conv(n, xs)
        elif op in ('Relu', 'Abs', 'Sigmoid', 'Tanh', 'Sqrt', 'Rsqrt', 'Square', 'Neg', 'Identity', 'Relu6', 'Exp', 'Log'):
            x = xs[0]
            if op == 'Rsqrt':
                y = self.node('Reciprocal', [self.node('Sqrt', [x.name], 'sqrt')], name)
            elif op == 'Square':
                y = self.node('Mul', [x.name, x.name], name)
            elif op == 'Relu6':
                y = self.node('Clip', [x.name, self.init(np.array(0, np.float32), 'lo'), self.init(np.array(6, np.float32), 'hi')], name)
            else:
                y = self.node(op, [x.name], name)
            self.t[name] = T(y, list(x.shape))
        elif op in ('Add', 'AddV2', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum'):
            p, q = xs
            onnx_op = {'Add': 'Add', 'AddV2': 'Add', 'Sub': 'Sub', 'Mul': 'Mul', 'RealDiv': 'Div', 'Maximum': 'Max', 'Minimum': 'Min'}[op]
            ref = p if p.value is None else q
            y = self.node(onnx_op, [self.operand(p, ref), self.operand(q, ref)], name)
            shape = list(np.broadcast_shapes(tuple(p.shape), tuple(q.shape)))
            self.t[name] = T(y, shape)
        elif op in ('Sum', 'Mean', 'Max'):
            x = xs[0]
            axes = [int(v) % len(x.shape) for v in np.atleast_1d(self.const_of(ins[1]))]
            keep = bool(a.get('keep_dims', {}).get('b', False))
            onnx_axes = [NHWC_TO_NCHW_AXIS[ax] for ax in axes] if x.nchw else axes
            if not keep and x.nchw:
                # dropping axes leaves a plain tensor: fine only if the kept axes stay in TF order,
                # e.g. a global mean over H,W leaves (N,C) in both layouts
                kept = [NHWC_TO_NCHW_AXIS[i] for i in range(4) if i not in axes]
                if kept != sorted(kept):
                    raise NotImplementedError(f'reduction over {axes} of a 4-D tensor without keep_dims')
            onnx_op = {'Sum': 'ReduceSum', 'Mean': 'ReduceMean', 'Max': 'ReduceMax'}[op]
            if onnx_op == 'ReduceSum':
                y = self.node(onnx_op, [x.name, self.init(np.array(onnx_axes, np.int64), 'axes')], name, keepdims=int(keep))
            else:
                y = self.node(onnx_op, [x.name], name, axes=onnx_axes, keepdims=int(keep))
            shape = [1 if i in axes else s for i, s in enumerate(x.shape)] if keep else [s for i, s in enumerate(x.shape) if i not in axes]
            self.t[name] = T(y, shape)
        elif op in ('Squeeze', 'Reshape'):
            x = xs[0]
            if op == 'Squeeze':
                dims = [int(d) % len(x.shape) for d in attr_list(n, 'squeeze_dims')] or [i for i, s in enumerate(x.shape) if s == 1]
                shape = [s for i, s in enumerate(x.shape) if i not in dims]
            else:
                shape = [int(s) for s in self.const_of(ins[1]).reshape(-1)]
                if -1 in shape:
                    known = int(np.prod([s for s in shape if s != -1]))
                    shape[shape.index(-1)] = int(np.prod(x.shape)) // known
            src = self.node('Transpose', [x.name], 'to_nhwc', perm=[0, 2, 3, 1]) if x.nchw else x.name
            y = self.node('Reshape', [src, self.init(np.array(shape, np.int64), 'shape')], name)
            if len(shape) == 4:
                y = self.node('Transpose', [y], 'to_nchw', perm=[0, 3, 1, 2])
            self.t[name] = T(y, shape)
        elif op == 'Pad':
            x = xs[0]
            p = self.const_of(ins[1]).astype(np.int64)  # (rank, 2)
            if x.nchw:
                p = p[[0, 3, 1, 2]]
            pads = np.concatenate([p[:, 0], p[:, 1]])
            y = self.node('Pad', [x.name, self.init(pads, 'pads')], name, mode='constant')
            shape = [s + int(lo) + int(hi) for s, (lo, hi) in zip(x.shape, self.const_of(ins[1]))]
            self.t[name] = T(y, shape)
        elif op in ('MaxPool', 'AvgPool'):
            x = xs[0]
            k, s = attr_list(n, 'ksize'), attr_list(n, 'strides')
            pad = attr_str(n, 'padding')
            hw, pads = [], [0, 0, 0, 0]
            for i, ax in enumerate((1, 2)):
                if pad == 'SAME':
                    b, e, o = same_pads(x.shape[ax], k[ax], s[ax], 1)
                else:
                    b, e, o = 0, 0, (x.shape[ax] - k[ax]) // s[ax] + 1
                pads[i], pads[i + 2] = b, e
                hw.append(o)
            y = self.node('MaxPool' if op == 'MaxPool' else 'AveragePool', [x.name], name,
                          kernel_shape=k[1:3], strides=s[1:3], pads=pads)
            self.t[name] = T(y, [x.shape[0], hw[0], hw[1], x.shape[3]])
        elif op == 'ConcatV2':
            axis = int(self.const_of(ins[-1])) % len(xs[0].shape)
            parts = [self.operand(x, xs[0]) for x in xs[:-1]]
            onnx_axis = NHWC_TO_NCHW_AXIS[axis] if xs[0].nchw else axis
            y = self.node('Concat', parts, name, axis=onnx_axis)
            shape = list(xs[0].shape)
            shape[axis] = sum(x.shape[axis] for x in xs[:-1])
            self.t[name] = T(y, shape)
        elif op == 'MatMul':
            p, q = xs
            ta, tb = a.get('transpose_a', {}).get('b', False), a.get('transpose_b', {}).get('b', False)
            pa = self.init(p.value.T if ta else p.value, 'w') if p.value is not None else (self.node('Transpose', [p.name], 'tA') if ta else p.name)
            qb = self.init(q.value.T if tb else q.value, 'w') if q.value is not None else (self.node('Transpose', [q.name], 'tB') if tb else q.name)
            y = self.node('MatMul', [pa, qb], name)
            self.t[name] = T(y, [p.shape[1] if ta else p.shape[0], q.shape[0] if tb else q.shape[1]])
        else:
            raise NotImplementedError(f'TF.js op {op} ({name})')
        return None

    def conv(self, n: dict, xs: list[T]) -> T:
        op = n['op']
        x, w = xs[0], xs[1].value
        assert w is not None and x.nchw, n['name']
        if attr_str(n, 'data_format', 'NHWC') != 'NHWC':
            raise NotImplementedError('NCHW TF.js graphs')
        s = attr_list(n, 'strides') or [1, 1, 1, 1]
        d = attr_list(n, 'dilations') or [1, 1, 1, 1]
        kh, kw = w.shape[0], w.shape[1]
        depthwise = 'Depthwise' in op
        if depthwise:
            c, mult = w.shape[2], w.shape[3]
            wo = w.transpose(2, 3, 0, 1).reshape(c * mult, 1, kh, kw)  # TF channel order c*mult + m
            group, cout = c, c * mult
        else:
            wo = w.transpose(3, 2, 0, 1)
            group, cout = 1, w.shape[3]
        padding = attr_str(n, 'padding')
        pads = [0, 0, 0, 0]
        out_hw = []
        for i, (ax, k) in enumerate(((1, kh), (2, kw))):
            if padding == 'SAME':
                b, e, o = same_pads(x.shape[ax], k, s[ax], d[ax])
            elif padding == 'VALID':
                b, e = 0, 0
                o = (x.shape[ax] - ((k - 1) * d[ax] + 1)) // s[ax] + 1
            else:  # EXPLICIT: 8 values in NHWC order
                ep = attr_list(n, 'explicit_paddings')
                b, e = ep[2 * ax], ep[2 * ax + 1]
                o = (x.shape[ax] + b + e - ((k - 1) * d[ax] + 1)) // s[ax] + 1
            pads[i], pads[i + 2] = b, e
            out_hw.append(o)
        fused = attr_strs(n, 'fused_ops')
        inputs = [x.name, self.init(wo.astype(np.float32), 'W')]
        extra = xs[2:]
        if fused and fused[0] == 'BiasAdd':
            inputs.append(self.init(extra[0].value.astype(np.float32), 'B'))
            extra = extra[1:]
            fused = fused[1:]
        elif fused:
            raise NotImplementedError(f'fused ops {fused}')
        y = self.node('Conv', inputs, n['name'] + '/conv', kernel_shape=[kh, kw], strides=s[1:3], dilations=d[1:3],
                      pads=pads, group=group)
        for f in fused:
            if f == 'Relu':
                y = self.node('Relu', [y], n['name'] + '/relu')
            elif f == 'Relu6':
                y = self.node('Clip', [y, self.init(np.array(0, np.float32), 'lo'), self.init(np.array(6, np.float32), 'hi')], 'relu6')
            elif f == 'Prelu':
                alpha = extra[0].value.reshape(-1, 1, 1).astype(np.float32)
                y = self.node('PRelu', [y, self.init(alpha, 'alpha')], n['name'] + '/prelu')
            elif f == 'LeakyRelu':
                y = self.node('LeakyRelu', [y], 'leaky', alpha=float(n['attr']['leakyrelu_alpha']['f']))
            else:
                raise NotImplementedError(f'fused activation {f}')
        return T(y, [x.shape[0], out_hw[0], out_hw[1], cout])


def fuse_prelu(model: onnx.ModelProto) -> int:
    """Rewrite TF's PReLU idiom relu(x) + c*(x - |x|) into PRelu(x, 2c).

    When the first addend is x itself and x is already a Relu output (TF.js fused the Relu into
    the convolution), x - |x| is identically 0 and the whole idiom is just x.
    Returns how many idioms were rewritten.
    """
    g = model.graph
    nodes = [onnx.NodeProto.FromString(nd.SerializeToString()) for nd in g.node]
    prod = {o: k for k, nd in enumerate(nodes) for o in nd.output}
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    uses: dict[str, int] = {}
    for nd in nodes:
        for i in nd.input:
            uses[i] = uses.get(i, 0) + 1
    for o in g.output:
        uses[o.name] = uses.get(o.name, 0) + 1

    def producer(name: Optional[str], op: str) -> Optional[int]:
        k = prod.get(name) if name else None
        return k if k is not None and nodes[k].op_type == op else None

    remove: set[int] = set()
    replace: dict[int, onnx.NodeProto] = {}
    rename: dict[str, str] = {}
    new_inits: list[onnx.TensorProto] = []
    count = 0
    for ai, add in enumerate(nodes):
        if add.op_type != 'Add':
            continue
        for p, q in ((add.input[0], add.input[1]), (add.input[1], add.input[0])):
            mi = producer(q, 'Mul')
            if mi is None or uses.get(q) != 1:
                continue
            mul = nodes[mi]
            c_name = next((i for i in mul.input if i in inits), None)
            s_name = next((i for i in mul.input if i not in inits), None)
            si = producer(s_name, 'Sub')
            if c_name is None or si is None or uses.get(s_name) != 1:
                continue
            x = nodes[si].input[0]
            bi = producer(nodes[si].input[1], 'Abs')
            if bi is None or nodes[bi].input[0] != x or uses.get(nodes[bi].output[0]) != 1:
                continue
            ri = producer(p, 'Relu')
            if ri is not None and nodes[ri].input[0] == x and uses.get(p) == 1:
                sname = c_name + '_prelu_slope'
                new_inits.append(numpy_helper.from_array((2.0 * inits[c_name]).astype(np.float32), sname))
                replace[ai] = helper.make_node('PRelu', [x, sname], [add.output[0]], name=add.name + '_prelu')
                remove.update((ri, bi, si, mi))
            elif p == x and producer(x, 'Relu') is not None:
                rename[add.output[0]] = x
                remove.update((bi, si, mi, ai))
            else:
                continue
            count += 1
            break
        else:
            # second idiom (MXNet exports): Max(0, x) + g * Min(0, x) == PRelu(x, g)
            for p, q in ((add.input[0], add.input[1]), (add.input[1], add.input[0])):
                xi, mi = producer(p, 'Max'), producer(q, 'Mul')
                if xi is None or mi is None or uses.get(p) != 1 or uses.get(q) != 1:
                    continue
                mul = nodes[mi]
                g_name = next((i for i in mul.input if i in inits), None)
                ni = producer(next((i for i in mul.input if i not in inits), None), 'Min')
                if g_name is None or ni is None or uses.get(nodes[ni].output[0]) != 1:
                    continue
                mx, mn = nodes[xi], nodes[ni]
                zx = [i for i in mx.input if i in inits and not inits[i].any()]
                zn = [i for i in mn.input if i in inits and not inits[i].any()]
                x = next((i for i in mx.input if i not in inits), None)
                if not zx or not zn or x is None or x not in mn.input:
                    continue
                sname = g_name + '_prelu_slope'
                new_inits.append(numpy_helper.from_array(inits[g_name].astype(np.float32), sname))
                replace[ai] = helper.make_node('PRelu', [x, sname], [add.output[0]], name=add.name + '_prelu')
                remove.update((xi, ni, mi))
                count += 1
                break
    out = []
    for k, nd in enumerate(nodes):
        if k in remove:
            continue
        nd = replace.get(k, nd)
        for j, inp in enumerate(nd.input):
            while inp in rename:
                inp = rename[inp]
            nd.input[j] = inp
        out.append(nd)
    for o in g.output:
        if o.name in rename:
            raise RuntimeError('graph output removed by PReLU fusion')
    del g.node[:]
    g.node.extend(out)
    g.initializer.extend(new_inits)
    used = {i for nd in g.node for i in nd.input}
    live = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(live)
    return count


def fold_pad_into_conv(model: onnx.ModelProto) -> int:
    """Merge a zero constant Pad of the spatial axes into the Conv that alone consumes it."""
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    uses: dict[str, int] = {}
    for nd in g.node:
        for i in nd.input:
            uses[i] = uses.get(i, 0) + 1
    prod = {o: nd for nd in g.node for o in nd.output}
    count = 0
    drop = set()
    for nd in g.node:
        if nd.op_type != 'Conv':
            continue
        pad = prod.get(nd.input[0])
        if pad is None or pad.op_type != 'Pad' or uses.get(nd.input[0]) != 1 or pad.input[1] not in inits:
            continue
        mode = next((a.s.decode() for a in pad.attribute if a.name == 'mode'), 'constant')
        if mode != 'constant' or (len(pad.input) > 2 and pad.input[2] and inits.get(pad.input[2], np.zeros(1)).any()):
            continue
        p = inits[pad.input[1]].reshape(2, 4)
        if p[:, :2].any() or (p < 0).any():
            continue
        attr = next(a for a in nd.attribute if a.name == 'pads')
        old = list(attr.ints)
        attr.ints[:] = [old[0] + int(p[0, 2]), old[1] + int(p[0, 3]), old[2] + int(p[1, 2]), old[3] + int(p[1, 3])]
        nd.input[0] = pad.input[0]
        drop.add(pad.output[0])
        count += 1
    keep = [nd for nd in g.node if not (nd.op_type == 'Pad' and nd.output[0] in drop)]
    del g.node[:]
    g.node.extend(keep)
    used = {i for nd in g.node for i in nd.input}
    live = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(live)
    return count


def repair_fused_relu_prelu(model_json: dict) -> int:
    """Undo a TF.js converter mis-fusion found in some graph models (e.g. human-models' MobileFaceNet).

    The source network computes PReLU(z) = Relu(z) + c*(z - |z|). The converter folded that Relu
    into the preceding (depthwise) convolution but left Abs/Sub reading the now-rectified output,
    so the idiom degenerates to Relu(z) and the network loses its negative slopes. This restores
    the source graph: the convolution outputs z again and an explicit Relu feeds the Add.
    Returns the number of convolutions repaired.
    """
    nodes = model_json['modelTopology']['node']
    consumers: dict[str, list[dict]] = {}
    for n in nodes:
        for i in n.get('input', []):
            consumers.setdefault(i.split(':')[0], []).append(n)
    count = 0
    added = []
    for n in nodes:
        if n['op'] not in ('_FusedConv2D', 'FusedDepthwiseConv2dNative') or attr_strs(n, 'fused_ops') != ['BiasAdd', 'Relu']:
            continue
        cons = consumers.get(n['name'], [])
        ops = sorted(c['op'] for c in cons)
        if ops != ['Abs', 'Add', 'Sub']:
            continue
        n['attr']['fused_ops']['list']['s'] = [base64.b64encode(b'BiasAdd').decode()]
        relu = {'name': n['name'] + '/repaired_relu', 'op': 'Relu', 'input': [n['name']], 'attr': {'T': {'type': 'DT_FLOAT'}}}
        added.append(relu)
        add = next(c for c in cons if c['op'] == 'Add')
        add['input'] = [relu['name'] if i.split(':')[0] == n['name'] else i for i in add['input']]
        count += 1
    nodes.extend(added)
    return count


def main(argv: Optional[list[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model_json')
    ap.add_argument('out_onnx')
    ap.add_argument('--input-name', default='input')
    ap.add_argument('--output-name', default='output')
    ap.add_argument('--input-range', default='-1,1',
                    help='value range the TF.js model expects; the ONNX input is always [-1,1] (mapped linearly)')
    ap.add_argument('--fuse-prelu', action='store_true', help='rewrite the Abs/Sub/Mul/Add PReLU idiom as PRelu')
    ap.add_argument('--repair-prelu', action='store_true', help='undo the converter Relu mis-fusion (see repair_fused_relu_prelu)')
    ap.add_argument('--write-json', help='also write the (repaired) model.json here, next to a copy of its weights')
    args = ap.parse_args(argv)
    lo, hi = (float(v) for v in args.input_range.split(','))
    conv = Converter(args.model_json, args.input_name, args.output_name, (lo, hi))
    if args.repair_prelu:
        print(f'repaired {repair_fused_relu_prelu(conv.m)} mis-fused PReLU convolutions', file=sys.stderr)
    if args.write_json:
        out_dir = os.path.dirname(os.path.abspath(args.write_json))
        os.makedirs(out_dir, exist_ok=True)
        for group in conv.m.get('weightsManifest', []):
            for p in group['paths']:
                with open(os.path.join(conv.dir, p), 'rb') as f, open(os.path.join(out_dir, p), 'wb') as g:
                    g.write(f.read())
        with open(args.write_json, 'w') as f:
            json.dump(conv.m, f)
    model = conv.run()
    if args.fuse_prelu:
        print(f'fused {fuse_prelu(model)} PReLU idioms', file=sys.stderr)
    print(f'folded {fold_pad_into_conv(model)} Pad nodes into Conv', file=sys.stderr)
    onnx.checker.check_model(model)
    model = onnx.shape_inference.infer_shapes(model)
    onnx.save(model, args.out_onnx)
    print(f'wrote {args.out_onnx}: {len(model.graph.node)} nodes', file=sys.stderr)


if __name__ == '__main__':
    main()
