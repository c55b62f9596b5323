"""face-api's FaceRecognitionNet (@vladmandic/face-api, MIT; a dlib ResNet-34-like face embedder,
128-d) rebuilt as an ONNX graph from its weights manifest, plus a float64 PyTorch twin of the same
network written from face-api's source (src/faceRecognitionNet/*.ts) for the checks.

face-api's forward pass (FaceRecognitionNet.forwardInput), NHWC in TF.js:
  x (0..255 RGB) -> resizeBilinear to 150 (alignCorners=false, halfPixelCenters=false)
  -> (x - [122.782, 117.001, 104.298]) / 255
  -> convDown 7x7/2 'valid' (+bias, *scale.weights + scale.biases, relu) -> maxPool 3/2 'valid'
  -> residual x3 (32) -> residualDown + residual x3 (64) -> residualDown + residual x2 (128)
  -> residualDown + residual x2 (256) -> residualDown -> mean over H,W -> matMul fc (256x128)
  residual:     relu(convNoRelu(conv(x)) + x)                (3x3 'same')
  residualDown: relu(convNoRelu(convDown(x)) + avgPool2/2(x) zero-padded in channels; when the
                conv branch is one pixel smaller it gets a zero row/column at the bottom/right)

The ONNX graph takes the engine's identity input: (1,3,112,112) RGB in [-1,1]. Inside: the affine
map to face-api's normalisation (0.5 x + 0.5 - mean/255; it commutes with the resize because bilinear
weights sum to 1), then the 112 -> 150 resize as two MatMuls with TF.js resizeBilinear's exact
interpolation matrices. Pools are written with ops tools/onnx_vjp differentiates: avgPool 2/2 is a
depthwise Conv with 0.25 weights, maxPool 3/2 is the Max of nine strided one-hot depthwise Convs.

Weights: 109 of the 117 tensors are uint8-quantised in the manifest (TF.js decodes q*scale+min in
doubles, rounded to float32). They are stored as uint8 indices into a 256-entry float32 table of
exactly those decoded values (Cast + Gather), so the graph's weights equal TF.js's bit for bit and
the file is ~6.5 MB instead of ~22.5 MB. The VJP graph is made from the plain float32 graph and
compressed the same way afterwards (weights are shared by name).

Run: /usr/bin/python3 tools/identity/faceapi_resnet.py MANIFEST.json OUT_DIR   (convert.sh does)
     /usr/bin/python3 tools/identity/faceapi_resnet.py MANIFEST.json --fixtures FIXTURE_DIR
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..'))
from tools.onnx_vjp import make_vjp  # noqa: E402
from tools.onnx_vjp.torch_eval import TorchGraph  # noqa: E402

MEAN_RGB = (122.782, 117.001, 104.298)
IN_SIZE = 112
NET_SIZE = 150
OPSET = 13
BLOCKS = [  # (name, kind) in forward order after conv32_down + maxpool
    ('conv32_1', 'res'), ('conv32_2', 'res'), ('conv32_3', 'res'),
    ('conv64_down', 'down'), ('conv64_1', 'res'), ('conv64_2', 'res'), ('conv64_3', 'res'),
    ('conv128_down', 'down'), ('conv128_1', 'res'), ('conv128_2', 'res'),
    ('conv256_down', 'down'), ('conv256_1', 'res'), ('conv256_2', 'res'), ('conv256_down_out', 'down'),
]


class Weight:
    """One manifest tensor: its float32 values as TF.js decodes them, and (if quantised) the uint8 codes."""

    def __init__(self, name: str, shape: list[int], f32: np.ndarray, q: np.ndarray | None, lut: np.ndarray | None):
        self.name, self.shape, self.f32, self.q, self.lut = name, shape, f32, q, lut


def load_weights(manifest_path: str) -> dict[str, Weight]:
    with open(manifest_path) as f:
        groups = json.load(f)
    base = os.path.dirname(manifest_path)
    out: dict[str, Weight] = {}
    for group in groups:
        data = b''.join(open(os.path.join(base, p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            n = int(np.prod(w['shape']))
            if w['dtype'] != 'float32':
                raise ValueError(f"{w['name']}: dtype {w['dtype']} (expected float32)")
            qz = w.get('quantization')
            if qz is None:
                f32 = np.frombuffer(data, '<f4', n, off).reshape(w['shape']).copy()
                out[w['name']] = Weight(w['name'], w['shape'], f32, None, None)
                off += 4 * n
            elif qz['dtype'] == 'uint8':
                q = np.frombuffer(data, np.uint8, n, off).reshape(w['shape']).copy()
                # TF.js io.decodeWeights: values[i] = v * scale + min (doubles), stored in a Float32Array
                lut = (np.arange(256, dtype=np.float64) * qz['scale'] + qz['min']).astype(np.float32)
                out[w['name']] = Weight(w['name'], w['shape'], lut[q], q, lut)
                off += n
            else:
                raise ValueError(f"{w['name']}: quantization {qz['dtype']} not handled")
        if off != len(data):
            raise ValueError(f'weights manifest covers {off} bytes of {len(data)}')
    return out


def resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """TF.js resizeBilinear (alignCorners=false, halfPixelCenters=false) along one axis: out = R @ in."""
    r = np.zeros((n_out, n_in), np.float64)
    ratio = n_in / n_out
    for i in range(n_out):
        src = ratio * i
        top = max(0, int(np.floor(src)))
        bottom = min(n_in - 1, int(np.ceil(src)))
        frac = src - top
        r[i, top] += 1 - frac
        r[i, bottom] += frac
    return r


def input_affine() -> tuple[np.ndarray, np.ndarray]:
    """[-1,1] -> face-api's (pixel - mean) / 255 with pixel = (x + 1) * 127.5."""
    scale = np.full((1, 3, 1, 1), 0.5)
    bias = (0.5 - np.array(MEAN_RGB) / 255).reshape(1, 3, 1, 1)
    return scale, bias


# ---------------------------------------------------------------- float64 PyTorch twin (from the TS source)

def torch_forward(w: dict[str, Weight], x: torch.Tensor, resize: bool = True) -> torch.Tensor:
    """x: (N,3,112,112) in [-1,1] (or (N,3,150,150) with resize=False). Same dtype as x."""
    dt = x.dtype

    def t(name: str) -> torch.Tensor:
        return torch.from_numpy(w[name].f32.astype(np.float64)).to(dt)

    def conv_layer(h: torch.Tensor, p: str, stride: int, relu: bool, same: bool) -> torch.Tensor:
        k = t(f'{p}/conv/filters').permute(3, 2, 0, 1)  # HWIO -> OIHW
        h = F.conv2d(h, k, t(f'{p}/conv/bias'), stride=stride, padding=k.shape[-1] // 2 if same else 0)
        h = h * t(f'{p}/scale/weights').view(1, -1, 1, 1) + t(f'{p}/scale/biases').view(1, -1, 1, 1)
        return F.relu(h) if relu else h

    s, b = input_affine()
    h = x * torch.from_numpy(s).to(dt) + torch.from_numpy(b).to(dt)
    if resize:
        r = torch.from_numpy(resize_matrix(x.shape[-1], NET_SIZE)).to(dt)
        h = r @ h @ r.T
    h = conv_layer(h, 'conv32_down', 2, True, False)
    h = F.max_pool2d(h, 3, 2)
    for name, kind in BLOCKS:
        if kind == 'res':
            o = conv_layer(conv_layer(h, f'{name}/conv1', 1, True, True), f'{name}/conv2', 1, False, True)
            h = F.relu(o + h)
        else:
            o = conv_layer(conv_layer(h, f'{name}/conv1', 2, True, False), f'{name}/conv2', 1, False, True)
            pooled = F.avg_pool2d(h, 2, 2)
            if pooled.shape[-1] != o.shape[-1]:
                o = F.pad(o, (0, pooled.shape[-1] - o.shape[-1], 0, pooled.shape[-2] - o.shape[-2]))
            if pooled.shape[1] != o.shape[1]:
                pooled = F.pad(pooled, (0, 0, 0, 0, 0, o.shape[1] - pooled.shape[1]))
            h = F.relu(pooled + o)
    return h.mean(dim=(2, 3)) @ t('fc')


# ---------------------------------------------------------------- ONNX graph

class _G:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, onnx.TensorProto] = {}
        self.n = 0

    def const(self, arr: np.ndarray, name: str) -> str:
        if name not in self.inits:
            self.inits[name] = numpy_helper.from_array(np.ascontiguousarray(arr), name)
        return name

    def op(self, op: str, ins: list[str], **attrs) -> str:
        self.n += 1
        out = f'{op.lower()}_{self.n}'
        self.nodes.append(helper.make_node(op, ins, [out], name=f'n{self.n}_{op}', **attrs))
        return out


def build_forward(w: dict[str, Weight]) -> onnx.ModelProto:
    """Plain float32 graph, initializers named after the manifest entries (OIHW / (1,C,1,1) layouts)."""
    g = _G()

    def wt(name: str, arr: np.ndarray) -> str:
        return g.const(arr.astype(np.float32), name)

    def conv_layer(h: str, p: str, stride: int, relu: bool, same: bool) -> str:
        k = w[f'{p}/conv/filters'].f32.transpose(3, 2, 0, 1)
        pad = k.shape[-1] // 2 if same else 0
        h = g.op('Conv', [h, wt(f'{p}/conv/filters', k), wt(f'{p}/conv/bias', w[f'{p}/conv/bias'].f32)],
                 strides=[stride, stride], pads=[pad] * 4, kernel_shape=list(k.shape[-2:]))
        h = g.op('Mul', [h, wt(f'{p}/scale/weights', w[f'{p}/scale/weights'].f32.reshape(1, -1, 1, 1))])
        h = g.op('Add', [h, wt(f'{p}/scale/biases', w[f'{p}/scale/biases'].f32.reshape(1, -1, 1, 1))])
        return g.op('Relu', [h]) if relu else h

    def depthwise(h: str, kernel: np.ndarray, name: str, stride: int) -> str:
        return g.op('Conv', [h, g.const(kernel.astype(np.float32), name)], strides=[stride, stride],
                    group=int(kernel.shape[0]), kernel_shape=list(kernel.shape[-2:]), pads=[0] * 4)

    s, b = input_affine()
    h = g.op('Mul', ['input', g.const(s.astype(np.float32), 'in_scale')])
    h = g.op('Add', [h, g.const(b.astype(np.float32), 'in_bias')])
    r = resize_matrix(IN_SIZE, NET_SIZE)
    h = g.op('MatMul', [h, g.const(r.T.astype(np.float32), 'resize_wT')])   # (1,3,112,150)
    h = g.op('MatMul', [g.const(r.astype(np.float32), 'resize_h'), h])      # (1,3,150,150)
    h = conv_layer(h, 'conv32_down', 2, True, False)                        # (1,32,72,72)
    c = 32
    taps = []
    for di in range(3):
        for dj in range(3):
            k = np.zeros((c, 1, 3, 3))
            k[:, 0, di, dj] = 1
            taps.append(depthwise(h, k, f'maxpool_tap{di}{dj}', 2))
    h = taps[0]
    for tap in taps[1:]:
        h = g.op('Max', [h, tap])                                          # (1,32,35,35)
    size = (((NET_SIZE - 7) // 2 + 1) - 3) // 2 + 1
    for name, kind in BLOCKS:
        if kind == 'res':
            o = conv_layer(conv_layer(h, f'{name}/conv1', 1, True, True), f'{name}/conv2', 1, False, True)
            h = g.op('Relu', [g.op('Add', [o, h])])
        else:
            o = conv_layer(conv_layer(h, f'{name}/conv1', 2, True, False), f'{name}/conv2', 1, False, True)
            out_c = w[f'{name}/conv2/conv/filters'].shape[3]
            conv_size = (size - 3) // 2 + 1
            pool_size = size // 2
            pooled = depthwise(h, np.full((c, 1, 2, 2), 0.25), f'avgpool_{c}', 2)
            if conv_size != pool_size:
                o = g.op('Pad', [o, g.const(np.array([0, 0, 0, 0, 0, 0, pool_size - conv_size, pool_size - conv_size], np.int64),
                                            f'pad_hw_{pool_size - conv_size}')])
            if out_c != c:
                pooled = g.op('Pad', [pooled, g.const(np.array([0, 0, 0, 0, 0, out_c - c, 0, 0], np.int64), f'pad_c_{out_c - c}')])
            h = g.op('Relu', [g.op('Add', [pooled, o])])
            c, size = out_c, pool_size
    h = g.op('ReduceMean', [h], axes=[2, 3], keepdims=0)                  # (1,256)
    g.nodes.append(helper.make_node('MatMul', [h, wt('fc', w['fc'].f32)], ['embedding'], name='fc'))
    graph = helper.make_graph(
        g.nodes, 'faceapi_recognition_net',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, IN_SIZE, IN_SIZE])],
        [helper.make_tensor_value_info('embedding', TensorProto.FLOAT, [1, 128])], list(g.inits.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='pgdiff-web faceapi_resnet')
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def onnx_layout(wt: Weight, a: np.ndarray) -> np.ndarray:
    """A manifest tensor (HWIO filters, 1-D scales, 2-D fc) in the layout build_forward gives it."""
    if a.ndim == 4:
        return a.transpose(3, 2, 0, 1)
    if '/scale/' in wt.name:
        return a.reshape(1, -1, 1, 1)
    return a


def compress(model: onnx.ModelProto, w: dict[str, Weight]) -> onnx.ModelProto:
    """Store the manifest's weights as the manifest does: each uint8-quantised tensor as its uint8 codes
    plus a 256-entry float32 table of TF.js's decoded values (Cast + Gather at the top of the graph), so
    values are unchanged bit for bit. Constants make_vjp derived from weights (stride-1 Conv backward:
    kernel flipped with channel axes swapped; MatMul backward: transposed) are recomputed from the
    decoded weight in the graph (Slice with step -1, Transpose) instead of being stored again.
    onnxruntime folds all of this into plain float32 constants when the session is created."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    sources = {n: onnx_layout(wt, wt.f32) for n, wt in w.items()}
    by_shape: dict[tuple, list[str]] = {}
    for n, a in sources.items():
        by_shape.setdefault(a.shape, []).append(n)
    keep: list[onnx.TensorProto] = []
    derived: list[tuple[str, str, str]] = []  # (initializer, source, 'flipswap' | 'T')
    used: set[str] = set()
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT:
            keep.append(init)
            continue
        arr = numpy_helper.to_array(init)
        if init.name in sources:
            if not np.array_equal(arr, sources[init.name]):
                raise ValueError(f'{init.name}: initializer is not the decoded manifest tensor')
            used.add(init.name)
            continue
        found = None
        if arr.ndim == 4 and arr.size >= 1024:
            cand = arr.swapaxes(0, 1)[:, :, ::-1, ::-1]
            found = next((n for n in by_shape.get(cand.shape, []) if np.array_equal(sources[n], cand)), None)
            kind = 'flipswap'
        elif arr.ndim == 2 and arr.size >= 1024:
            found = next((n for n in by_shape.get(arr.T.shape, []) if np.array_equal(sources[n], arr.T)), None)
            kind = 'T'
        if found is None:
            keep.append(init)
        else:
            derived.append((init.name, found, kind))
            used.add(found)
    pre: list[onnx.NodeProto] = []
    for n in sorted(used):
        wt = w[n]
        if wt.q is None:
            keep.append(numpy_helper.from_array(np.ascontiguousarray(sources[n]), n))
            continue
        keep.append(numpy_helper.from_array(np.ascontiguousarray(onnx_layout(wt, wt.q)), f'{n}/q'))
        keep.append(numpy_helper.from_array(wt.lut, f'{n}/lut'))
        pre.append(helper.make_node('Cast', [f'{n}/q'], [f'{n}/idx'], to=TensorProto.INT32, name=f'{n}/cast'))
        pre.append(helper.make_node('Gather', [f'{n}/lut', f'{n}/idx'], [n], axis=0, name=f'{n}/decode'))
    if any(k == 'flipswap' for _, _, k in derived):
        keep.append(numpy_helper.from_array(np.array([-1, -1], np.int64), 'flip/starts'))
        keep.append(numpy_helper.from_array(np.array([np.iinfo(np.int64).min] * 2, np.int64), 'flip/ends'))
        keep.append(numpy_helper.from_array(np.array([2, 3], np.int64), 'flip/axes'))
        keep.append(numpy_helper.from_array(np.array([-1, -1], np.int64), 'flip/steps'))
    for name, src, kind in derived:
        if kind == 'flipswap':
            pre.append(helper.make_node('Slice', [src, 'flip/starts', 'flip/ends', 'flip/axes', 'flip/steps'], [f'{name}/flip'],
                                        name=f'{name}/flip'))
            pre.append(helper.make_node('Transpose', [f'{name}/flip'], [name], perm=[1, 0, 2, 3], name=f'{name}/swap'))
        else:
            pre.append(helper.make_node('Transpose', [src], [name], perm=[1, 0], name=f'{name}/T'))
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = pre + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def float_bytes(model: onnx.ModelProto) -> int:
    return sum(i.ByteSize() for i in model.graph.initializer if i.data_type == TensorProto.FLOAT)


# ---------------------------------------------------------------- fixtures (float64 VJP ground truth)

def park_miller(seed: int, n: int) -> np.ndarray:
    out = np.empty(n)
    s = seed
    for i in range(n):
        s = (s * 48271) % 2147483647
        out[i] = s / 2147483647 - 0.5
    return out


def face(path: str) -> np.ndarray:
    from PIL import Image
    a = np.asarray(Image.open(path).convert('RGB'), np.float64)
    return (a / 255 * 2 - 1).transpose(2, 0, 1)[None]


def fixtures(w: dict[str, Weight], fix_dir: str, fwd_path: str | None) -> None:
    """tests/fixtures/identity/vjp-faceapi.json: float64 autograd of the PyTorch twin at face a with the
    identity-loss cotangent c = 2 (E(a) - E(b)), and central differences along Park-Miller directions."""
    torch.set_num_threads(1)
    stride, seed, k, h = 7, 12345, 8, 1e-6
    xa, xb = face(os.path.join(fix_dir, 'face112-a.png')), face(os.path.join(fix_dir, 'face112-b.png'))
    with torch.no_grad():
        eb = torch_forward(w, torch.from_numpy(xb)).numpy()
    xt = torch.from_numpy(xa).requires_grad_(True)
    ea = torch_forward(w, xt)
    c = 2 * (ea.detach().numpy() - eb)
    (gx,) = torch.autograd.grad(ea, xt, torch.from_numpy(c))
    gx = gx.numpy().reshape(-1)
    raw = park_miller(seed, k * xa.size).reshape(k, xa.size)
    dirs = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    ct = torch.from_numpy(c)
    fd = []
    with torch.no_grad():
        for v in dirs:
            vt = torch.from_numpy(v.reshape(xa.shape))
            fp = torch_forward(w, torch.from_numpy(xa) + h * vt)
            fm = torch_forward(w, torch.from_numpy(xa) - h * vt)
            fd.append(float(((fp - fm) * ct).sum() / (2 * h)))
    an = [float(gx @ v) for v in dirs]
    rel = max(abs(a - b) / abs(b) for a, b in zip(an, fd))
    print(f'faceapi-resnet: |E(a)-E(b)|^2 = {float((c ** 2).sum() / 4):.4g}, |grad| = {np.linalg.norm(gx):.4g}, '
          f'float64 autograd vs FD (h={h}) max rel {rel:.2e}')
    if fwd_path:
        # the ONNX float32 graph's structure (pool decompositions, resize MatMuls) evaluated in float64
        tg = TorchGraph(onnx.load(fwd_path))
        with torch.no_grad():
            eo = tg(torch.from_numpy(xa)).numpy()
        print(f'uncompressed ONNX graph in float64 vs PyTorch twin: rel L2 {np.linalg.norm(eo - ea.detach().numpy()) / np.linalg.norm(eo):.2e}')
    out = {'faces': ['face112-a.png', 'face112-b.png'], 'gradSampleStride': stride,
           'directions': {'generator': 'park-miller', 'seed': seed, 'count': k, 'h': h},
           'embeddingA64': [float(v) for v in ea.detach().numpy().reshape(-1)],
           'embeddingB64': [float(v) for v in eb.reshape(-1)],
           'cotangent': [float(v) for v in c.reshape(-1)],
           'gradNorm64': float(np.linalg.norm(gx)),
           'gradSample64': [float(v) for v in gx[::stride]],
           'autograd64': an, 'fd64': fd}
    with open(os.path.join(fix_dir, 'vjp-faceapi.json'), 'w') as f:
        json.dump(out, f, separators=(',', ':'))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('manifest')
    ap.add_argument('out_dir', nargs='?')
    ap.add_argument('--fixtures', metavar='DIR', help='write DIR/vjp-faceapi.json instead of converting')
    ap.add_argument('--keep-float', metavar='PATH', help='also save the uncompressed float32 forward graph')
    args = ap.parse_args()
    w = load_weights(args.manifest)
    if args.fixtures:
        fixtures(w, args.fixtures, args.keep_float)
        return
    if not args.out_dir:
        ap.error('out_dir is required')
    fwd = build_forward(w)
    vjp = make_vjp(fwd)
    if args.keep_float:
        onnx.save(fwd, args.keep_float)
    for model, name in ((fwd, 'faceapi-resnet.onnx'), (vjp, 'faceapi-resnet-vjp.onnx')):
        small = compress(model, w)
        path = os.path.join(args.out_dir, name)
        onnx.save(small, path)
        print(f'wrote {path}: {os.path.getsize(path)} bytes, {len(small.graph.node)} nodes, '
              f'{float_bytes(small)} bytes of float32 initializers (uncompressed {model.ByteSize()})')


if __name__ == '__main__':
    main()
