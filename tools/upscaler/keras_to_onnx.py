"""Convert a TF.js *layers* model (Keras functional model.json + .bin shards) to an NCHW ONNX graph.

A small reader for the fully convolutional super-resolution models of @upscalerjs/esrgan-slim and
esrgan-medium (RDN: Conv2D, ReLU, Concatenate, Add, nearest UpSampling2D). Unlike the graph-model
converter next door (tools/identity/tfjs2onnx.py) the spatial size is left dynamic: the model runs at any
input size, and the output is `scale` times larger.

The ONNX graph computes what TF.js computes, in image units: input RGB NCHW in [0, 1], output NCHW in [0, 1]
(not clipped; the caller rounds and clamps to bytes). The models' own range (0..255 for RDN) is folded into
the first and last convolutions' weights (--range), so a float32 difference reads directly against 1/255.

Usage:
  /usr/bin/python3 tools/upscaler/keras_to_onnx.py model.json out.onnx
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'identity'))
from tfjs2onnx import load_weights  # noqa: E402  (same weights-manifest reader as the graph converter)

OPSET = 13


def convert(model_json: str, model_range: float = 255.0) -> tuple[onnx.ModelProto, int]:
    m = json.load(open(model_json))
    if m.get('format') != 'layers-model':
        raise SystemExit(f'{model_json}: not a TF.js layers model (format {m.get("format")!r})')
    weights = load_weights(os.path.dirname(os.path.abspath(model_json)), m['weightsManifest'])
    cfg = m['modelTopology']['model_config']
    if cfg['class_name'] not in ('Functional', 'Model'):
        raise SystemExit(f'unsupported model class {cfg["class_name"]}')
    layers = cfg['config']['layers']
    outs = cfg['config']['output_layers']
    out_layer = outs[0][0]
    # the range folding needs the input read by convolutions only and the output made by one
    for layer in layers:
        reads_input = any(i[0] == cfg['config']['input_layers'][0][0] for i in (layer['inbound_nodes'] or [[]])[0])
        if reads_input and layer['class_name'] != 'Conv2D':
            raise SystemExit(f'{layer["name"]} reads the input but is not a convolution')
        if layer['name'] == out_layer and (layer['class_name'] != 'Conv2D' or layer['config'].get('activation') != 'linear'):
            raise SystemExit('the output layer must be a linear convolution')
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    names: dict[str, str] = {}  # Keras layer name -> ONNX tensor name
    scale_total = 1
    graph_in = None
    for layer in layers:
        kind, c, name = layer['class_name'], layer['config'], layer['name']
        ins = [names[i[0]] for i in layer['inbound_nodes'][0]] if layer['inbound_nodes'] else []
        if kind == 'InputLayer':
            shape = c['batch_input_shape']
            if len(shape) != 4 or shape[3] != 3:
                raise SystemExit(f'expected an NHWC RGB input, got {shape}')
            graph_in = helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, 'height', 'width'])
            names[name] = 'input'
            continue
        out = name
        if kind == 'Conv2D':
            if c['strides'] != [1, 1] or c['dilation_rate'] != [1, 1] or c.get('groups', 1) != 1 or c['data_format'] != 'channels_last':
                raise SystemExit(f'{name}: only stride-1, undilated, ungrouped NHWC convolutions are supported')
            kh, kw = c['kernel_size']
            if c['padding'] == 'same':
                if kh % 2 == 0 or kw % 2 == 0:
                    raise SystemExit(f'{name}: even kernel with SAME padding')
                pads = [kh // 2, kw // 2, kh // 2, kw // 2]
            elif c['padding'] == 'valid':
                pads = [0, 0, 0, 0]
            else:
                raise SystemExit(f'{name}: padding {c["padding"]}')
            k = weights[f'{name}/kernel'].astype(np.float64).transpose(3, 2, 0, 1)  # HWIO -> OIHW
            b = weights[f'{name}/bias'].astype(np.float64) if c['use_bias'] else None
            # [0,1] in and out: conv(range * x) = (range * W) x + b; conv(...) / range = (W / range) h + b / range
            if ins[0] == 'input':
                k = k * model_range
            if name == out_layer:
                k, b = k / model_range, (b / model_range if b is not None else None)
            inputs = [ins[0], f'{name}/W']
            inits.append(numpy_helper.from_array(np.ascontiguousarray(k.astype(np.float32)), f'{name}/W'))
            if b is not None:
                inits.append(numpy_helper.from_array(b.astype(np.float32), f'{name}/B'))
                inputs.append(f'{name}/B')
            act = c.get('activation', 'linear')
            conv_out = out if act == 'linear' else f'{name}/pre'
            nodes.append(helper.make_node('Conv', inputs, [conv_out], name=name, kernel_shape=[kh, kw], pads=pads))
            if act == 'relu':
                nodes.append(helper.make_node('Relu', [conv_out], [out], name=f'{name}/relu'))
            elif act != 'linear':
                raise SystemExit(f'{name}: activation {act}')
        elif kind == 'Activation':
            if c['activation'] != 'relu':
                raise SystemExit(f'{name}: activation {c["activation"]}')
            nodes.append(helper.make_node('Relu', ins, [out], name=name))
        elif kind == 'Concatenate':
            if c['axis'] not in (3, -1):
                raise SystemExit(f'{name}: concatenation along axis {c["axis"]}')
            nodes.append(helper.make_node('Concat', ins, [out], name=name, axis=1))
        elif kind == 'Add':
            acc = ins[0]
            for j, other in enumerate(ins[1:]):
                dst = out if j == len(ins) - 2 else f'{name}/{j}'
                nodes.append(helper.make_node('Add', [acc, other], [dst], name=dst))
                acc = dst
        elif kind == 'UpSampling2D':
            sh, sw = c['size']
            if c.get('interpolation', 'nearest') != 'nearest' or sh != sw:
                raise SystemExit(f'{name}: only square nearest upsampling')
            scale_total *= sh
            inits.append(numpy_helper.from_array(np.array([1, 1, sh, sw], np.float32), f'{name}/scales'))
            # asymmetric + floor: output pixel i reads input pixel floor(i / s), i.e. each pixel repeated s times
            nodes.append(helper.make_node('Resize', [ins[0], '', f'{name}/scales'], [out], name=name, mode='nearest',
                                          coordinate_transformation_mode='asymmetric', nearest_mode='floor'))
        else:
            raise SystemExit(f'{name}: unsupported layer {kind}')
        names[name] = out
    if len(outs) != 1 or graph_in is None:
        raise SystemExit('expected one input and one output')
    nodes.append(helper.make_node('Identity', [names[outs[0][0]]], ['output'], name='output'))
    graph = helper.make_graph(nodes, 'upscaler', [graph_in],
                              [helper.make_tensor_value_info('output', TensorProto.FLOAT, [1, 3, 'out_height', 'out_width'])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='pgdiff-web keras_to_onnx')
    model.ir_version = 7
    meta = model.metadata_props.add()
    meta.key, meta.value = 'scale', str(scale_total)
    meta = model.metadata_props.add()
    meta.key, meta.value = 'range', '0,1'
    return model, scale_total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model_json')
    ap.add_argument('out_onnx')
    ap.add_argument('--range', type=float, default=255.0, help="the TF.js model's input/output range is [0, RANGE]")
    args = ap.parse_args()
    model, scale = convert(args.model_json, args.range)
    onnx.checker.check_model(model)
    onnx.save(model, args.out_onnx)
    n = sum(int(np.prod(i.dims)) for i in model.graph.initializer)
    print(f'wrote {args.out_onnx}: x{scale}, {len(model.graph.node)} nodes, {n} parameters, {os.path.getsize(args.out_onnx)} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
