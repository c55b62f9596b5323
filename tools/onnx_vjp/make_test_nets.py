"""Build small random nets covering every op make_vjp supports, export them, differentiate them, and
write fixtures for tests/identity/onnx-vjp.test.ts (run there with onnxruntime-node).

Ground truth per case, all float64: the torch module itself (torch.autograd) for exported nets, or
the torch_eval interpreter for hand-built ONNX graphs (asymmetric pads, ReduceSumSquare, ...), plus
central finite differences along random directions.

Run: /usr/bin/python3 -m tools.onnx_vjp.make_test_nets [out_dir]   (default tests/fixtures/identity/vjp)
"""
from __future__ import annotations

import io
import json
import os
import sys
from typing import Callable, Optional

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from .vjp import make_vjp
from .torch_eval import TorchGraph, directional_fd64

torch.set_num_threads(1)
torch.manual_seed(0)
IN = (1, 3, 12, 12)


def _perturb_bn(m: nn.Module) -> None:
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = mod.num_features
            mod.running_mean.data = torch.randn(c) * 0.2
            mod.running_var.data = torch.rand(c) + 0.5
            mod.weight.data = torch.rand(c) + 0.5
            mod.bias.data = torch.randn(c) * 0.1
        if isinstance(mod, nn.PReLU):
            mod.weight.data = torch.rand_like(mod.weight) * 0.5 - 0.1


class ConvNet(nn.Module):
    """Conv variants: stride 1/2/3, symmetric pads, groups, depthwise, dilation 1, bias or not."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, 1, 1)
        self.c2 = nn.Conv2d(8, 8, 3, 2, 1, groups=8, bias=False)  # depthwise, 12 -> 6 (output_padding 1)
        self.c3 = nn.Conv2d(8, 6, 1, 1, 0, groups=2)
        self.c4 = nn.Conv2d(6, 4, 2, 3, 0)  # stride 3 over 6 -> 2, rows left over
        self.c5 = nn.Conv2d(3, 4, 3, 2, 0, bias=False)  # 12 -> 5, last row unused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.c4(self.c3(torch.tanh(self.c2(torch.tanh(self.c1(x))))))
        return torch.cat([y.flatten(1), self.c5(x).flatten(1)], 1)


class ActNet(nn.Module):
    """BatchNorm (inference, not after a conv so the exporter keeps it), PReLU, ReLU, LeakyReLU, Clip."""

    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(3)
        self.conv = nn.Conv2d(3, 6, 3, 1, 1)
        self.prelu = nn.PReLU(6)
        self.prelu1 = nn.PReLU()
        self.bn1d = nn.BatchNorm1d(6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.prelu(self.conv(self.bn(x)))
        y = F.relu(y - 0.1) + F.leaky_relu(y, 0.2) + torch.clamp(y, -0.3, 0.4) + self.prelu1(y)
        y = y.mean(dim=(2, 3))
        return self.bn1d(y)


class ArithNet(nn.Module):
    """Element-wise ops with broadcasting between activations and constants of other shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.randn(3, 1, 1))
        self.b = nn.Parameter(torch.randn(1, 12))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean(dim=(2, 3), keepdim=True)  # (1,3,1,1): active-active broadcast
        y = (x - m) * self.a + self.b
        y = y / (x * x + 1.0)  # Div with an active denominator
        y = y + torch.abs(x) - (-x) * 0.5
        y = y + torch.sqrt(x * x + 0.5) + torch.pow(x, 2) * 0.1 + torch.exp(-x * x) + torch.log(x * x + 2.0)
        y = torch.sigmoid(y) + torch.tanh(y) + torch.reciprocal(x * x + 1.5)
        y = torch.maximum(y, torch.tensor(0.9)) + torch.minimum(y, torch.tensor(1.3))
        # (1,1,12,12) - (1,3,1,1): both operands broadcast
        return (y.sum(dim=1, keepdim=True) - m).reshape(1, -1)


class HeadNet(nn.Module):
    """Reductions, pooling, reshapes (shape-derived constants), Gemm, MatMul, transpose, normalize."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 2, 1)
        self.fc = nn.Linear(8 * 6 * 6, 16)
        self.w = nn.Parameter(torch.randn(6, 5))
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.tanh(self.conv(x))  # (1,8,6,6)
        g = F.adaptive_avg_pool2d(y, 1)  # GlobalAveragePool
        z = y.view(y.size(0), -1)  # Shape/Gather/Unsqueeze/Concat -> Reshape
        z = self.drop(self.fc(z))
        t = y.transpose(2, 3) @ self.w  # (1,8,6,5) MatMul with a constant
        u = torch.norm(t, dim=3) + t.sum(dim=(2, 3)).unsqueeze(2) + t.mean(dim=3)  # ReduceL2, ReduceSum, ReduceMean
        v = u.transpose(1, 2) @ torch.flatten(g, 1).t()  # (1,6,8) @ (8,1): active @ active, batched
        out = torch.cat([self.fc2(z), v.flatten(1), z], 1)
        return F.normalize(out, dim=1)


class IBasicBlock(nn.Module):
    """insightface iresnet block: BN-conv-BN-PReLU-conv-BN (+ downsample)."""

    def __init__(self, cin: int, c: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c, eps=1e-5)
        self.prelu = nn.PReLU(c)
        self.conv2 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c, eps=1e-5)
        self.downsample = nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False), nn.BatchNorm2d(c)) if stride != 1 or cin != c else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idt = x if self.downsample is None else self.downsample(x)
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + idt


class MiniIResNet(nn.Module):
    """iresnet50's layer types in small: stem conv-BN-PReLU, blocks, BN2d, dropout, flatten, fc, BN1d."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.prelu = nn.PReLU(8)
        self.layer1 = nn.Sequential(IBasicBlock(8, 8, 2), IBasicBlock(8, 8, 1))
        self.layer2 = nn.Sequential(IBasicBlock(8, 16, 2))
        self.bn2 = nn.BatchNorm2d(16)
        self.dropout = nn.Dropout(0.0)
        self.fc = nn.Linear(16 * 3 * 3, 12)
        self.features = nn.BatchNorm1d(12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = self.dropout(torch.flatten(self.bn2(x), 1))
        return self.features(self.fc(x))


class MiniDecoder(nn.Module):
    """TAEF2's decoder layer types in small: soft clamp (Tanh), GroupNorm pool block (InstanceNormalization in
    the export), nearest upsampling (Resize), residual ReLU blocks."""

    def __init__(self) -> None:
        super().__init__()
        from tools.pgdiff_models.taef2 import Block, Clamp
        self.net = nn.Sequential(Clamp(), nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), Block(8, True),
                                 nn.Upsample(scale_factor=2), nn.Conv2d(8, 8, 3, padding=1, bias=False), Block(8),
                                 nn.Conv2d(8, 3, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 3)


def export(m: nn.Module, opset: int) -> onnx.ModelProto:
    m.eval()
    buf = io.BytesIO()
    torch.onnx.export(m, torch.randn(*IN), buf, opset_version=opset, input_names=['x'], output_names=['y'],
                      do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def handmade() -> onnx.ModelProto:
    """Ops torch never exports in this form: auto_pad SAME_UPPER and asymmetric Conv pads, ReduceSumSquare,
    Max/Min with a constant, Pad, Sub with a constant first, Concat of two branches."""
    rng = np.random.default_rng(1)
    w1 = rng.normal(0, 0.3, (6, 3, 3, 3)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (6, 1, 3, 3)).astype(np.float32)
    w3 = rng.normal(0, 0.3, (4, 6, 1, 1)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in [
        (w1, 'w1'), (w2, 'w2'), (w3, 'w3'), (rng.normal(0, 0.1, 6).astype(np.float32), 'b1'),
        (np.array(0.05, np.float32), 'lo'), (np.array(0.6, np.float32), 'hi'),
        (np.array([0, 0, 1, 0, 0, 0, 0, 1], np.int64), 'pads'),
        (np.array(1e-6, np.float32), 'eps'), (np.array(0.3, np.float32), 'k'),
        (rng.normal(0, 0.5, (6, 1, 1)).astype(np.float32), 'slope'),
    ]]
    N = helper.make_node
    nodes = [
        N('Conv', ['x', 'w1', 'b1'], ['c1'], kernel_shape=[3, 3], strides=[2, 2], auto_pad='SAME_UPPER'),  # pads 0,0,1,1; 12->6
        N('PRelu', ['c1', 'slope'], ['p1']),
        N('Conv', ['p1', 'w2'], ['c2'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 2], group=6),  # 6 -> 3x4
        N('Max', ['c2', 'lo'], ['m1']),
        N('Min', ['hi', 'c2'], ['m2']),
        N('Sub', ['k', 'm2'], ['s1']),
        N('Add', ['m1', 's1'], ['a1']),
        N('Pad', ['a1', 'pads'], ['pd']),  # (1,6,3,4) -> (1,6,4,5)
        N('Conv', ['pd', 'w3'], ['c3'], kernel_shape=[1, 1]),
        N('Concat', ['c3', 'pd'], ['cat'], axis=1),  # (1,10,4,5)
        N('ReduceSumSquare', ['cat'], ['ss'], axes=[2, 3], keepdims=1),
        N('Max', ['ss', 'eps'], ['mx']),
        N('Sqrt', ['mx'], ['nrm']),
        N('Div', ['cat', 'nrm'], ['dv']),
        N('Flatten', ['dv'], ['y'], axis=1),
    ]
    g = helper.make_graph(nodes, 'handmade', [helper.make_tensor_value_info('x', TensorProto.FLOAT, list(IN))],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 160])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def handmade2() -> onnx.ModelProto:
    """Pass-through and small-head ops: Squeeze, Identity, Dropout (inference), Cast, Transpose,
    Gemm with transA/transB and a bias, n-ary Sum, LeakyRelu, Unsqueeze, opset-11 Clip attributes
    are covered by iresnet_op11; here Clip takes inputs (opset 13)."""
    rng = np.random.default_rng(2)
    inits = [numpy_helper.from_array(a, n) for a, n in [
        (rng.normal(0, 0.5, (4, 3)).astype(np.float32), 'B'), (rng.normal(0, 0.5, 4).astype(np.float32), 'C'),
        (np.array([2, 3], np.int64), 'sq_axes'), (np.array([0], np.int64), 'unsq_axes'),
        (rng.normal(0, 0.5, (1, 4)).astype(np.float32), 'D'), (np.array(-0.2, np.float32), 'cmin'),
    ]]
    N = helper.make_node
    nodes = [
        N('GlobalAveragePool', ['x'], ['gap']),
        N('Squeeze', ['gap', 'sq_axes'], ['sq']),  # (1,3)
        N('Identity', ['sq'], ['idt']),
        N('Dropout', ['idt'], ['dr']),
        N('Cast', ['dr'], ['cs'], to=TensorProto.FLOAT),
        N('Transpose', ['cs'], ['tr'], perm=[1, 0]),  # (3,1)
        N('Gemm', ['tr', 'B', 'C'], ['gm'], transA=1, transB=1, alpha=0.7, beta=1.3),  # (1,4)
        N('LeakyRelu', ['gm'], ['lr'], alpha=0.1),
        N('Sum', ['lr', 'gm', 'D'], ['sm']),
        N('Clip', ['sm', 'cmin'], ['cl']),
        N('Unsqueeze', ['cl', 'unsq_axes'], ['us']),  # (1,1,4)
        N('Mul', ['us', 'us'], ['sqr']),
        N('Flatten', ['sqr'], ['y'], axis=1),
    ]
    g = helper.make_graph(nodes, 'handmade2', [helper.make_tensor_value_info('x', TensorProto.FLOAT, list(IN))],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 4])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def write_case(out_dir: str, name: str, fwd: onnx.ModelProto, ref: Callable[[torch.Tensor], torch.Tensor],
               note: str, x: Optional[np.ndarray] = None, seed: int = 0, h: float = 1e-4) -> dict:
    rng = np.random.default_rng(100 + seed)
    vjp = make_vjp(fwd)
    in_shape = [d.dim_value for d in vjp.graph.input[0].type.tensor_type.shape.dim]
    x = rng.uniform(-1, 1, in_shape).astype(np.float32) if x is None else x
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    y = ref(xt)
    c = rng.normal(0, 1, tuple(y.shape)).astype(np.float32)
    (gx,) = torch.autograd.grad(y, xt, torch.from_numpy(c.astype(np.float64)))
    # the interpreter must agree with the reference (it is the ground truth for other cases)
    interp = TorchGraph(fwd)(torch.from_numpy(x.astype(np.float64)))
    idiff = float((interp - y.detach()).abs().max())
    assert idiff < 1e-7, f'{name}: torch_eval differs from the reference by {idiff}'
    dirs = [rng.normal(0, 1, x.shape).astype(np.float32) for _ in range(4)]
    dirs = [d / np.linalg.norm(d) for d in dirs]
    with torch.no_grad():
        ct = torch.from_numpy(c.astype(np.float64))
        fd = [float(((ref(xt.detach() + h * torch.from_numpy(v.astype(np.float64))) -
                      ref(xt.detach() - h * torch.from_numpy(v.astype(np.float64)))) * ct).sum() / (2 * h)) for v in dirs]
    an = [float((gx * torch.from_numpy(v.astype(np.float64))).sum()) for v in dirs]
    fd_rel = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(an, fd))
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    onnx.save(fwd, os.path.join(d, 'forward.onnx'))
    onnx.save(vjp, os.path.join(d, 'vjp.onnx'))
    ops = sorted({n.op_type for n in fwd.graph.node})
    case = {
        'name': name, 'note': note, 'forwardOps': ops, 'vjpOps': sorted({n.op_type for n in vjp.graph.node}),
        'inputShape': list(x.shape), 'outputShape': list(y.shape),
        'input': [float(v) for v in x.reshape(-1)], 'cotangent': [float(v) for v in c.reshape(-1)],
        'output64': [float(v) for v in y.detach().numpy().reshape(-1)],
        'grad64': [float(v) for v in gx.numpy().reshape(-1)],
        # float32 FD step for the consumer's check of the forward graph (ReLU-dense nets want a smaller one)
        # (the decoder's float32 FD is limited by rounding and kinks whatever the step: ~2e-2; float64 is the proof)
        'fd': {'h': h, 'h32': 3e-3 if h < 1e-4 else 1e-2, 'tol32': 5e-2 if h < 1e-4 else 2e-2, 'directions': [[float(t) for t in v.reshape(-1)] for v in dirs], 'values64': fd},
    }
    with open(os.path.join(d, 'case.json'), 'w') as f:
        json.dump(case, f, separators=(',', ':'))
    print(f'{name}: opset {fwd.opset_import[0].version}, {len(fwd.graph.node)} fwd / {len(vjp.graph.node)} vjp nodes; '
          f'float64 autograd vs FD max rel {fd_rel:.1e}; ops {ops}')
    return case


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join('tests', 'fixtures', 'identity', 'vjp')
    all_ops: set[str] = set()
    nets: list[tuple[str, nn.Module, int, str]] = [
        ('conv', ConvNet(), 13, 'strides 1/2/3, groups, depthwise, leftover rows, Concat'),
        ('act', ActNet(), 13, 'BatchNorm (2d and 1d), PReLU, Relu, LeakyRelu, Clip'),
        ('arith', ArithNet(), 13, 'broadcasting element-wise ops, Abs/Neg/Sqrt/Pow/Exp/Log/Sigmoid/Tanh/Max/Min'),
        ('head', HeadNet(), 13, 'GlobalAveragePool, shape-derived Reshape, Gemm, MatMul, Transpose, reductions, normalize'),
        ('iresnet_op13', MiniIResNet(), 13, 'insightface iresnet layer types, opset 13'),
        ('iresnet_op11', MiniIResNet(), 11, 'insightface iresnet layer types, opset 11'),
        ('iresnet_op17', MiniIResNet(), 17, 'insightface iresnet layer types, opset 17'),
        ('decoder', MiniDecoder(), 17, 'TAEF2 decoder layer types: GroupNorm (InstanceNormalization), nearest Resize, Tanh'),
    ]
    if os.environ.get('ONLY'):  # regenerate one case: ONLY=decoder python3 -m tools.onnx_vjp.make_test_nets
        nets = [n for n in nets if n[0] == os.environ['ONLY']]
    for name, net, opset, note in nets:
        i = ['conv', 'act', 'arith', 'head', 'iresnet_op13', 'iresnet_op11', 'iresnet_op17', 'decoder'].index(name)
        _perturb_bn(net)
        net.eval()
        fwd = export(net, opset)
        ref = net.double()
        # ReLU nets with many units near 0 (the decoder): a smaller float64 step keeps FD off the kinks
        case = write_case(out, name, fwd, lambda t, r=ref: r(t), note, seed=i, h=1e-7 if name == 'decoder' else 1e-4)
        all_ops.update(case['forwardOps'])
    if os.environ.get('ONLY'):
        return
    hm = handmade()
    case = write_case(out, 'handmade', hm, lambda t: TorchGraph(hm)(t), 'asymmetric pads, ReduceSumSquare, Max/Min const, Pad, Concat', seed=99)
    all_ops.update(case['forwardOps'])
    hm2 = handmade2()
    case = write_case(out, 'handmade2', hm2, lambda t: TorchGraph(hm2)(t), 'Squeeze, Identity, Dropout, Cast, Gemm transA/transB, Sum, LeakyRelu, Clip', seed=98)
    all_ops.update(case['forwardOps'])
    print('forward ops covered:', sorted(all_ops))


if __name__ == '__main__':
    main()
