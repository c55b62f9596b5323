"""Evaluate an ONNX forward graph with torch ops (float64 by default), so torch.autograd and
float64 finite differences can check a VJP graph made by make_vjp.py independently of it.

Covers the forward ops of the graphs this project differentiates; raises on anything else.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class TorchGraph:
    def __init__(self, model: onnx.ModelProto, dtype: torch.dtype = torch.float64):
        self.model = model
        self.dtype = dtype
        self.opset = next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
        self.consts: dict[str, torch.Tensor] = {}
        for t in model.graph.initializer:
            a = numpy_helper.to_array(t)
            self.consts[t.name] = torch.from_numpy(a.astype(np.float64) if a.dtype == np.float32 else a.copy()).to(
                dtype if a.dtype == np.float32 else torch.from_numpy(a.copy()).dtype)
        inits = set(self.consts)
        self.input = next(i.name for i in model.graph.input if i.name not in inits)
        self.output = model.graph.output[0].name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.run({self.input: x})

    def run(self, feeds: dict[str, torch.Tensor]) -> torch.Tensor:
        """Evaluate with several named inputs (a VJP graph: input, cotangent); returns the first output."""
        env: dict[str, torch.Tensor] = dict(self.consts)
        env.update(feeds)
        for node in self.model.graph.node:
            ins = [env[i] if i else None for i in node.input]
            outs = self._op(node, ins)
            for name, v in zip(node.output, outs):
                if name:
                    env[name] = v
        return env[self.output]

    def _op(self, node: onnx.NodeProto, x: list[Optional[torch.Tensor]]) -> list[torch.Tensor]:
        op, a = node.op_type, _attrs(node)
        if op == 'Constant':
            return [torch.from_numpy(numpy_helper.to_array(a['value']).copy())]
        if op == 'Conv':
            w = x[1]
            nsp = w.dim() - 2
            pads = list(a.get('pads', [0] * 2 * nsp))
            auto = a.get('auto_pad', b'NOTSET')
            auto = auto.decode() if isinstance(auto, bytes) else auto
            strides = list(a.get('strides', [1] * nsp))
            dil = list(a.get('dilations', [1] * nsp))
            if auto == 'VALID':
                pads = [0] * 2 * nsp
            elif auto in ('SAME_UPPER', 'SAME_LOWER'):
                for i in range(nsp):
                    size = x[0].shape[2 + i]
                    out = -(-size // strides[i])
                    total = max((out - 1) * strides[i] + (w.shape[2 + i] - 1) * dil[i] + 1 - size, 0)
                    small, big = total // 2, total - total // 2
                    pads[i], pads[i + nsp] = (small, big) if auto == 'SAME_UPPER' else (big, small)
            inp = x[0]
            if pads[:nsp] != pads[nsp:]:
                # asymmetric padding: pad explicitly (F.pad takes last axis first)
                fp = []
                for i in reversed(range(nsp)):
                    fp += [pads[i], pads[i + nsp]]
                inp = F.pad(inp, fp)
                padding = 0
            else:
                padding = pads[:nsp]
            conv = F.conv2d if nsp == 2 else F.conv1d
            return [conv(inp, w, x[2] if len(x) > 2 else None, stride=a.get('strides', 1), padding=padding,
                         dilation=a.get('dilations', 1), groups=a.get('group', 1))]
        if op == 'BatchNormalization':
            xs, s, b, m, v = x[:5]
            shape = [-1] + [1] * (xs.dim() - 2)
            k = s / torch.sqrt(v + a.get('epsilon', 1e-5))
            return [(xs - m.reshape(shape)) * k.reshape(shape) + b.reshape(shape)]
        if op == 'PRelu':
            return [torch.where(x[0] > 0, x[0], x[0] * x[1])]
        if op == 'Relu':
            return [torch.relu(x[0])]
        if op == 'LeakyRelu':
            return [F.leaky_relu(x[0], a.get('alpha', 0.01))]
        if op in ('Add', 'Sub', 'Mul', 'Div', 'Pow'):
            f = {'Add': torch.add, 'Sub': torch.sub, 'Mul': torch.mul, 'Div': torch.div, 'Pow': torch.pow}[op]
            return [f(x[0], x[1])]
        if op == 'Sum':
            r = x[0]
            for v in x[1:]:
                r = r + v
            return [r]
        if op in ('Max', 'Min'):
            f = torch.maximum if op == 'Max' else torch.minimum
            return [f(x[0], x[1].to(x[0].dtype))]
        if op in ('Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Sigmoid', 'Tanh', 'Identity'):
            f = {'Abs': torch.abs, 'Neg': torch.neg, 'Sqrt': torch.sqrt, 'Reciprocal': torch.reciprocal, 'Exp': torch.exp,
                 'Log': torch.log, 'Sigmoid': torch.sigmoid, 'Tanh': torch.tanh, 'Identity': lambda t: t}[op]
            return [f(x[0])]
        if op == 'Dropout':
            return [x[0]]
        if op == 'Cast':
            return [x[0]]
        if op == 'Clip':
            lo = a.get('min') if self.opset < 11 else (x[1] if len(x) > 1 else None)
            hi = a.get('max') if self.opset < 11 else (x[2] if len(x) > 2 else None)
            return [torch.clamp(x[0], None if lo is None else float(lo), None if hi is None else float(hi))]
        if op in ('ReduceSum', 'ReduceMean', 'ReduceSumSquare', 'ReduceL2'):
            since = 13 if op == 'ReduceSum' else 18
            axes = a.get('axes') if self.opset < since else (x[1].tolist() if len(x) > 1 and x[1] is not None else None)
            axes = list(range(x[0].dim())) if not axes else [int(v) for v in axes]
            keep = bool(a.get('keepdims', 1))
            t = x[0]
            if op == 'ReduceSum':
                return [t.sum(dim=axes, keepdim=keep)]
            if op == 'ReduceMean':
                return [t.mean(dim=axes, keepdim=keep)]
            if op == 'ReduceSumSquare':
                return [(t * t).sum(dim=axes, keepdim=keep)]
            return [torch.sqrt((t * t).sum(dim=axes, keepdim=keep))]
        if op == 'GlobalAveragePool':
            return [x[0].mean(dim=tuple(range(2, x[0].dim())), keepdim=True)]
        if op == 'Reshape':
            shape = [int(v) for v in x[1].tolist()]
            shape = [x[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
            return [x[0].reshape(shape)]
        if op == 'Flatten':
            ax = a.get('axis', 1)
            return [x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)]
        if op in ('Squeeze', 'Unsqueeze'):
            axes = a.get('axes') if self.opset < 13 else (x[1].tolist() if len(x) > 1 else None)
            t = x[0]
            if op == 'Squeeze':
                if axes is None:
                    return [t.squeeze()]
                for ax in sorted((int(v) % t.dim() for v in axes), reverse=True):
                    t = t.squeeze(ax)
                return [t]
            for ax in sorted(int(v) for v in axes):
                t = t.unsqueeze(ax)
            return [t]
        if op == 'Transpose':
            return [x[0].permute(*a.get('perm', list(range(x[0].dim()))[::-1]))]
        if op == 'Gemm':
            A = x[0].t() if a.get('transA', 0) else x[0]
            B = x[1].t() if a.get('transB', 0) else x[1]
            y = a.get('alpha', 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get('beta', 1.0) * x[2]
            return [y]
        if op == 'MatMul':
            return [x[0] @ x[1]]
        if op == 'Pad':
            pads = list(a['pads']) if self.opset < 11 else [int(v) for v in x[1].tolist()]
            r = x[0].dim()
            fp = []
            for i in reversed(range(r)):
                fp += [pads[i], pads[i + r]]
            return [F.pad(x[0], fp)]
        if op == 'Concat':
            return [torch.cat(x, dim=a['axis'])]
        if op == 'Expand':
            return [x[0] * torch.ones([int(v) for v in x[1].tolist()], dtype=x[0].dtype)]
        # ops of VJP graphs (and of TAEF2-style forwards), so a VJP graph itself can be evaluated in float64
        if op == 'ConvTranspose':
            w = x[1]
            nsp = w.dim() - 2
            pads = list(a.get('pads', [0] * 2 * nsp))
            if pads[:nsp] != pads[nsp:]:
                raise NotImplementedError('torch_eval: asymmetric ConvTranspose pads')
            fn = F.conv_transpose2d if nsp == 2 else F.conv_transpose1d
            return [fn(x[0], w, x[2] if len(x) > 2 else None, stride=list(a.get('strides', [1] * nsp)), padding=pads[:nsp],
                       output_padding=list(a.get('output_padding', [0] * nsp)), groups=a.get('group', 1),
                       dilation=list(a.get('dilations', [1] * nsp)))]
        if op in ('Greater', 'Less', 'Equal'):
            f = {'Greater': torch.gt, 'Less': torch.lt, 'Equal': torch.eq}[op]
            return [f(x[0], x[1])]
        if op == 'Not':
            return [torch.logical_not(x[0])]
        if op == 'And':
            return [torch.logical_and(x[0], x[1])]
        if op == 'Where':
            return [torch.where(x[0], x[1], x[2])]
        if op == 'Slice':
            out = x[0]
            starts, ends = x[1].tolist(), x[2].tolist()
            axes = x[3].tolist() if len(x) > 3 and x[3] is not None else list(range(len(starts)))
            for st, en, ax in zip(starts, ends, axes):
                n = out.shape[ax]
                st, en = max(0, st + n if st < 0 else st), min(n, en + n if en < 0 else en)
                out = out.narrow(ax, st, max(0, en - st))
            return [out]
        if op == 'Resize':
            scales = x[2] if len(x) > 2 and x[2] is not None and x[2].numel() else None
            mode = a.get('mode', b'nearest')
            if (mode.decode() if isinstance(mode, bytes) else mode) != 'nearest' or scales is None:
                raise NotImplementedError('torch_eval: Resize other than nearest with scales')
            return [F.interpolate(x[0], scale_factor=[float(v) for v in scales.tolist()[2:]], mode='nearest')]
        if op == 'InstanceNormalization':
            xx = x[0]
            axes = list(range(2, xx.dim()))
            m = xx.mean(dim=axes, keepdim=True)
            v = ((xx - m) ** 2).mean(dim=axes, keepdim=True)
            shp = [1, -1] + [1] * (xx.dim() - 2)
            return [(xx - m) / torch.sqrt(v + a.get('epsilon', 1e-5)) * x[1].reshape(shp) + x[2].reshape(shp)]
        if op == 'Shape':
            return [torch.tensor(list(x[0].shape), dtype=torch.int64)]
        if op == 'Gather':
            return [torch.index_select(x[0], a.get('axis', 0), x[1].reshape(-1)).reshape(
                list(x[0].shape[:a.get('axis', 0)]) + list(x[1].shape) + list(x[0].shape[a.get('axis', 0) + 1:]))]
        raise NotImplementedError(f'torch_eval: {op}')


def vjp64(model: onnx.ModelProto, x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(forward output, J^T c) by torch.autograd in float64."""
    g = TorchGraph(model)
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    y = g(xt)
    (gx,) = torch.autograd.grad(y, xt, torch.from_numpy(c.astype(np.float64)))
    return y.detach().numpy(), gx.numpy()


def directional_fd64(model: onnx.ModelProto, x: np.ndarray, c: np.ndarray, dirs: list[np.ndarray], h: float) -> list[float]:
    """Central finite differences of <c, f(x)> along each direction, in float64."""
    g = TorchGraph(model)
    ct = torch.from_numpy(c.astype(np.float64))
    out = []
    with torch.no_grad():
        for v in dirs:
            vt = torch.from_numpy(v.astype(np.float64))
            xt = torch.from_numpy(x.astype(np.float64))
            fp = float((g(xt + h * vt) * ct).sum())
            fm = float((g(xt - h * vt) * ct).sum())
            out.append((fp - fm) / (2 * h))
    return out
