#!/usr/bin/env python3
"""Convert a TF.js graph model (model.json + .bin shards) of the BlazeFace family to ONNX.

Small, explicit converter for the ops the BlazeFace graphs use:
  Placeholder, Const, _FusedConv2D (BiasAdd [+ Relu/Relu6]), Conv2D, DepthwiseConv2dNative,
  FusedDepthwiseConv2dNative, AddV2/Add, Relu, Relu6, Prelu (also fused), Sigmoid, MaxPool, Pad,
  Reshape, Identity (BlazeFace and the MediaPipe face mesh).
Anything else raises, so a model it cannot handle fails loudly instead of converting wrongly.

Layout: the ONNX model keeps the TF.js input layout (NHWC, float32) so callers feed exactly what
TF.js gets; it transposes once to NCHW, runs the convolutions in NCHW and transposes back to NHWC
before each Reshape, so every output matches TF.js element for element.

Padding: TF 'SAME' is turned into explicit ONNX pads computed from the static shapes
(TF puts the odd extra pixel at the end, like ONNX SAME_UPPER).

Usage: tfjs_to_onnx.py model.json out.onnx [--opset 13]
"""
import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DTYPES = {'float32': np.float32, 'int32': np.int32, 'uint8': np.uint8, 'float16': np.float16}


def load_weights(model_json_path, manifest):
    base = os.path.dirname(model_json_path)
    weights = {}
    for group in manifest:
        buf = b''.join(open(os.path.join(base, p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            shape = w['shape']
            count = int(np.prod(shape)) if shape else 1
            q = w.get('quantization')
            if q:
                qdt = np.dtype(DTYPES[q['dtype']])
                raw = np.frombuffer(buf, dtype=qdt, count=count, offset=off)
                off += count * qdt.itemsize
                if q['dtype'] == 'float16':
                    arr = raw.astype(np.float32)
                else:
                    arr = raw.astype(np.float32) * q['scale'] + q['min']
                arr = arr.astype(DTYPES[q.get('original_dtype', w['dtype'])])
            else:
                dt = np.dtype(DTYPES[w['dtype']])
                arr = np.frombuffer(buf, dtype=dt, count=count, offset=off).copy()
                off += count * dt.itemsize
            weights[w['name']] = arr.reshape(shape)
        if off != len(buf):
            raise ValueError(f'weights group used {off} of {len(buf)} bytes')
    return weights


def attr_list(node, key):
    return [int(v) for v in node['attr'][key]['list'].get('i', [])]


def attr_str(node, key, default=None):
    a = node.get('attr', {}).get(key)
    if a is None:
        return default
    return base64.b64decode(a['s']).decode()


def attr_strs(node, key):
    a = node.get('attr', {}).get(key)
    if a is None:
        return []
    return [base64.b64decode(s).decode() for s in a['list'].get('s', [])]


def same_pads(size, k, s, d):
    """TF SAME padding along one axis -> (begin, end)."""
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


class Converter:
    def __init__(self, model_json_path):
        j = json.load(open(model_json_path))
        self.graph = j['modelTopology']['node']
        self.weights = load_weights(model_json_path, j['weightsManifest'])
        self.nodes = []
        self.inits = []
        # tensor name -> ('nchw' | 'nhwc' | 'plain', shape in TF (NHWC) order)
        self.info = {}
        self.names = {}
        self.counter = 0
        self.graph_name = os.path.splitext(os.path.basename(model_json_path))[0]

    def uniq(self, base):
        self.counter += 1
        return f'{base}__{self.counter}'

    def const(self, name, arr):
        n = self.uniq(name)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def src(self, ref):
        name = ref.split(':')[0]
        if name.startswith('^'):
            return None
        return name

    def as_nchw(self, name):
        layout, shape = self.info[name]
        if layout == 'nchw':
            return self.names[name]
        if layout == 'nhwc' and len(shape) == 4:
            out = self.uniq(name + '_nchw')
            self.nodes.append(helper.make_node('Transpose', [self.names[name]], [out], perm=[0, 3, 1, 2]))
            return out
        raise ValueError(f'{name}: cannot make NCHW from {layout} {shape}')

    def as_nhwc(self, name):
        layout, shape = self.info[name]
        if layout in ('nhwc', 'plain'):
            return self.names[name]
        out = self.uniq(name + '_nhwc')
        self.nodes.append(helper.make_node('Transpose', [self.names[name]], [out], perm=[0, 2, 3, 1]))
        return out

    def conv(self, node, depthwise):
        x, w_name = self.src(node['input'][0]), self.src(node['input'][1])
        _, xs = self.info[x]
        w = self.weights[w_name]
        kh, kw = w.shape[0], w.shape[1]
        strides = attr_list(node, 'strides')[1:3]
        dil = attr_list(node, 'dilations')[1:3] if 'dilations' in node['attr'] else [1, 1]
        if attr_str(node, 'data_format', 'NHWC') != 'NHWC':
            raise ValueError('only NHWC graphs')
        pad = attr_str(node, 'padding')
        if pad == 'SAME':
            ph = same_pads(xs[1], kh, strides[0], dil[0])
            pw = same_pads(xs[2], kw, strides[1], dil[1])
            pads = [ph[0], pw[0], ph[1], pw[1]]
        elif pad == 'VALID':
            pads = [0, 0, 0, 0]
        else:
            raise ValueError(f'padding {pad}')
        cin = xs[3]
        if depthwise:
            mult = w.shape[3]
            wt = w.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)  # (C*M, 1, kh, kw)
            group = cin
            cout = cin * mult
        else:
            wt = w.transpose(3, 2, 0, 1)  # (O, I, kh, kw)
            group = 1
            cout = w.shape[3]
        inputs = [self.as_nchw(x), self.const(w_name, wt.astype(np.float32))]
        fused = attr_strs(node, 'fused_ops') if node['op'].startswith('Fused') or node['op'] == '_FusedConv2D' else []
        act = None
        if fused:
            if fused[0] != 'BiasAdd':
                raise ValueError(f'fused ops {fused}')
            b = self.weights[self.src(node['input'][2])]
            inputs.append(self.const('bias', b.astype(np.float32)))
            if len(fused) > 1:
                act = fused[1]
            if len(fused) > 2 or act not in (None, 'Relu', 'Relu6', 'Prelu'):
                raise ValueError(f'fused ops {fused}')
            if act == 'Prelu':
                act = ('Prelu', self.weights[self.src(node['input'][3])])
        oh = (xs[1] + pads[0] + pads[2] - ((kh - 1) * dil[0] + 1)) // strides[0] + 1
        ow = (xs[2] + pads[1] + pads[3] - ((kw - 1) * dil[1] + 1)) // strides[1] + 1
        out = self.uniq(node['name'])
        self.nodes.append(helper.make_node('Conv', inputs, [out], kernel_shape=[kh, kw], strides=strides,
                                           dilations=dil, pads=pads, group=group))
        out = self.activation(act, out)
        self.names[node['name']] = out
        self.info[node['name']] = ('nchw', [xs[0], oh, ow, cout])

    def activation(self, act, x):
        if act is None:
            return x
        if isinstance(act, tuple):  # ('Prelu', alpha in NHWC broadcast shape, e.g. (1, 1, C))
            alpha = np.asarray(act[1], np.float32).reshape(-1, 1, 1)
            out = self.uniq(x + '_prelu')
            self.nodes.append(helper.make_node('PRelu', [x, self.const('alpha', alpha)], [out]))
            return out
        out = self.uniq(x + '_' + act)
        if act == 'Relu':
            self.nodes.append(helper.make_node('Relu', [x], [out]))
        else:
            self.nodes.append(helper.make_node('Clip', [x, self.const('zero', np.float32(0)),
                                                        self.const('six', np.float32(6))], [out]))
        return out

    def run(self):
        outputs = []
        for node in self.graph:
            op, name = node['op'], node['name']
            if op == 'Const':
                continue
            if op == 'Placeholder':
                dims = [int(d.get('size', -1)) for d in node['attr']['shape']['shape']['dim']]
                dims = [1 if d < 0 else d for d in dims]
                self.input = helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)
                self.names[name] = name
                self.info[name] = ('nhwc', dims)
            elif op in ('_FusedConv2D', 'Conv2D'):
                self.conv(node, depthwise=False)
            elif op in ('DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative'):
                self.conv(node, depthwise=True)
            elif op in ('AddV2', 'Add'):
                a, b = (self.src(i) for i in node['input'][:2])
                la, lb = self.info[a][0], self.info[b][0]
                if la == lb:
                    ia, ib = self.names[a], self.names[b]
                else:
                    ia, ib = self.as_nchw(a), self.as_nchw(b)
                    la = 'nchw'
                out = self.uniq(name)
                self.nodes.append(helper.make_node('Add', [ia, ib], [out]))
                self.names[name] = out
                self.info[name] = (la, self.info[a][1])
            elif op in ('Relu', 'Relu6'):
                a = self.src(node['input'][0])
                self.names[name] = self.activation(op, self.names[a])
                self.info[name] = self.info[a]
            elif op == 'Prelu':
                a = self.src(node['input'][0])
                alpha = self.weights[self.src(node['input'][1])]
                self.names[name] = self.activation(('Prelu', alpha), self.as_nchw(a))
                self.info[name] = ('nchw', self.info[a][1])
            elif op == 'Sigmoid':
                a = self.src(node['input'][0])
                out = self.uniq(name)
                self.nodes.append(helper.make_node('Sigmoid', [self.names[a]], [out]))
                self.names[name] = out
                self.info[name] = self.info[a]
            elif op == 'MaxPool':
                a = self.src(node['input'][0])
                xs = self.info[a][1]
                k = attr_list(node, 'ksize')[1:3]
                s = attr_list(node, 'strides')[1:3]
                pad = attr_str(node, 'padding')
                if pad == 'SAME':
                    ph, pw = same_pads(xs[1], k[0], s[0], 1), same_pads(xs[2], k[1], s[1], 1)
                    if ph[0] or ph[1] or pw[0] or pw[1]:
                        # TF pads max-pool windows with -inf; ONNX pads behave the same for MaxPool
                        pass
                    pads = [ph[0], pw[0], ph[1], pw[1]]
                else:
                    pads = [0, 0, 0, 0]
                out = self.uniq(name)
                self.nodes.append(helper.make_node('MaxPool', [self.as_nchw(a)], [out], kernel_shape=k,
                                                   strides=s, pads=pads))
                oh = (xs[1] + pads[0] + pads[2] - k[0]) // s[0] + 1
                ow = (xs[2] + pads[1] + pads[3] - k[1]) // s[1] + 1
                self.names[name] = out
                self.info[name] = ('nchw', [xs[0], oh, ow, xs[3]])
            elif op == 'Pad':
                a, p = self.src(node['input'][0]), self.src(node['input'][1])
                paddings = self.weights[p].astype(np.int64)  # (4, 2) in NHWC
                xs = self.info[a][1]
                order = [0, 3, 1, 2]
                begins = [paddings[i][0] for i in order]
                ends = [paddings[i][1] for i in order]
                out = self.uniq(name)
                self.nodes.append(helper.make_node('Pad', [self.as_nchw(a), self.const('pads', np.array(begins + ends, np.int64))],
                                                   [out], mode='constant'))
                self.names[name] = out
                self.info[name] = ('nchw', [int(xs[i] + paddings[i][0] + paddings[i][1]) for i in range(4)])
            elif op == 'Reshape':
                a, sh = self.src(node['input'][0]), self.src(node['input'][1])
                shape = self.weights[sh].astype(np.int64)
                xs = self.info[a][1]
                total = int(np.prod(xs))
                if (shape == -1).sum() == 1:
                    known = int(np.prod(shape[shape != -1]))
                    shape = np.where(shape == -1, total // known, shape)
                out = self.uniq(name)
                self.nodes.append(helper.make_node('Reshape', [self.as_nhwc(a), self.const('shape', shape)], [out]))
                self.names[name] = out
                self.info[name] = ('plain', [int(v) for v in shape])
            elif op == 'Identity':
                a = self.src(node['input'][0])
                out_name = name + ':0'
                self.nodes.append(helper.make_node('Identity', [self.as_nhwc(a)], [out_name]))
                self.names[name] = out_name
                self.info[name] = ('plain', self.info[a][1])
                outputs.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, self.info[a][1]))
            else:
                raise ValueError(f'unsupported op {op} ({name})')
        outputs.sort(key=lambda v: v.name)
        graph = helper.make_graph(self.nodes, self.graph_name, [self.input], outputs, self.inits)
        return graph


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model_json')
    ap.add_argument('out')
    ap.add_argument('--opset', type=int, default=13)
    args = ap.parse_args()
    graph = Converter(args.model_json).run()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', args.opset)],
                              producer_name='pgdiff-web tools/faces/tfjs_to_onnx.py')
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, args.out)
    print(f'wrote {args.out}: {len(graph.node)} nodes, inputs '
          f'{[(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in graph.input]}, outputs '
          f'{[(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in graph.output]}')


if __name__ == '__main__':
    sys.exit(main())
