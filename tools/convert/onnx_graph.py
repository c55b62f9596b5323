"""Small, dependency-free ONNX graph utilities used by the converter (onnx + numpy only).

- simplify(model): Constant nodes -> initializers, drop Identity nodes and no-op Casts, drop dead nodes
  and unused initializers. Pure rewiring: the computed function does not change.
- elem_types(model): element type of every tensor (after ONNX shape inference).
- count_macs(model): multiply-accumulates of Conv / ConvTranspose / Gemm / MatMul / Einsum from the
  inferred static shapes (what a "FLOPs per call" figure is made of; GFLOPs = 2 * MACs / 1e9).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

FLOAT = TensorProto.FLOAT
FLOAT16 = TensorProto.FLOAT16


def _has_subgraph(node: onnx.NodeProto) -> bool:
    return any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute)


def check_flat(model: onnx.ModelProto) -> None:
    bad = [n.op_type for n in model.graph.node if _has_subgraph(n)]
    if bad:
        raise ValueError(f"graphs with control flow (If/Loop/Scan) are not supported here: {sorted(set(bad))}")


def light_copy(model: onnx.ModelProto, limit: int = 4096) -> onnx.ModelProto:
    """A copy for shape inference: initializers with more than `limit` elements become typed graph inputs
    (their values are never needed to infer shapes), so a 640 MB model is not serialized again and again."""
    m = onnx.ModelProto()
    m.ir_version = model.ir_version
    m.opset_import.extend(model.opset_import)
    g = m.graph
    src = model.graph
    g.name = src.name
    g.node.extend(src.node)
    g.input.extend(src.input)
    g.output.extend(src.output)
    have_input = {i.name for i in src.input}
    for init in src.initializer:
        if int(np.prod(init.dims)) > limit:
            if init.name not in have_input:
                g.input.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
        else:
            g.initializer.append(init)
    return m


def elem_types(model: onnx.ModelProto) -> Dict[str, int]:
    """name -> TensorProto elem type, for graph inputs/outputs, initializers and every inferred tensor."""
    m = light_copy(model)
    inferred = shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    types: Dict[str, int] = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.output) + list(inferred.graph.value_info):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
            types[vi.name] = vi.type.tensor_type.elem_type
    for init in model.graph.initializer:
        types[init.name] = init.data_type
    return types


def static_shapes(model: onnx.ModelProto) -> Dict[str, Tuple[int, ...]]:
    """name -> shape for every tensor whose shape inference gives only known dims."""
    m = light_copy(model)
    inferred = shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
    shapes: Dict[str, Tuple[int, ...]] = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.output) + list(inferred.graph.value_info):
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
        if all(d >= 0 for d in dims):
            shapes[vi.name] = tuple(dims)
    for init in model.graph.initializer:
        shapes[init.name] = tuple(init.dims)
    return shapes


def _rename_inputs(nodes: List[onnx.NodeProto], alias: Dict[str, str]) -> None:
    def resolve(name: str) -> str:
        seen = 0
        while name in alias:
            name = alias[name]
            seen += 1
            if seen > 10000:
                raise RuntimeError("alias cycle")
        return name

    for n in nodes:
        for k, name in enumerate(n.input):
            if name in alias:
                n.input[k] = resolve(name)


def remove_dead(model: onnx.ModelProto) -> None:
    g = model.graph
    needed = {o.name for o in g.output}
    keep: List[onnx.NodeProto] = []
    for n in reversed(list(g.node)):
        if any(o in needed for o in n.output if o):
            keep.append(n)
            needed.update(i for i in n.input if i)
    keep.reverse()
    del g.node[:]
    g.node.extend(keep)
    inits = [i for i in g.initializer if i.name in needed]
    del g.initializer[:]
    g.initializer.extend(inits)


def simplify(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return a copy with Constants as initializers and without Identity / no-op Cast nodes."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    check_flat(m)
    g = m.graph
    outputs = {o.name for o in g.output}
    # 1. Constant(value=tensor) -> initializer
    nodes: List[onnx.NodeProto] = []
    for n in g.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(n.attribute[0].t)
            t.name = n.output[0]
            g.initializer.append(t)
        else:
            nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    # 2. Identity and no-op Cast -> alias (unless they produce a graph output)
    types = elem_types(m)
    alias: Dict[str, str] = {}
    nodes = []
    for n in g.node:
        out = n.output[0] if n.output else ""
        if out and out not in outputs:
            if n.op_type == "Identity":
                alias[out] = n.input[0]
                continue
            if n.op_type == "Cast":
                to = next(a.i for a in n.attribute if a.name == "to")
                src = n.input[0]
                while src in alias:
                    src = alias[src]
                if types.get(src) == to:
                    alias[out] = src
                    continue
        nodes.append(n)
    _rename_inputs(nodes, alias)
    del g.node[:]
    g.node.extend(nodes)
    # 3. dedupe initializers (torch shares weights through Identity; names may repeat after step 1)
    seen = set()
    inits = []
    for i in g.initializer:
        if i.name not in seen:
            seen.add(i.name)
            inits.append(i)
    del g.initializer[:]
    g.initializer.extend(inits)
    remove_dead(m)
    del g.value_info[:]
    return fold_constants(m, inplace=True)


def _np_dtype(elem_type: int):
    f = getattr(helper, "tensor_dtype_to_np_dtype", None)
    if f is not None:
        return f(elem_type)
    return onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[elem_type]  # onnx < 1.13


_INT_LIMIT = 1 << 16  # fold only small results (shape arithmetic, small constants)


def _np_eval(node: onnx.NodeProto, vals: List[np.ndarray]) -> List[np.ndarray] | None:
    """numpy for the ops that shape arithmetic uses; None when not handled."""
    op = node.op_type
    at = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if op == "Identity":
        return [vals[0]]
    if op == "Gather":
        return [np.take(vals[0], vals[1], axis=at.get("axis", 0))]
    if op == "Unsqueeze":
        axes = sorted(int(a) for a in vals[1].reshape(-1))
        out = vals[0]
        for ax in axes:
            out = np.expand_dims(out, ax if ax >= 0 else ax + out.ndim + 1)
        return [out]
    if op == "Squeeze":
        if len(vals) > 1:
            return [np.squeeze(vals[0], axis=tuple(int(a) for a in vals[1].reshape(-1)))]
        return [np.squeeze(vals[0])]
    if op == "Concat":
        return [np.concatenate(vals, axis=at["axis"])]
    if op == "Slice":
        data, starts, ends = vals[0], vals[1], vals[2]
        axes = vals[3] if len(vals) > 3 and vals[3] is not None else np.arange(len(starts))
        steps = vals[4] if len(vals) > 4 and vals[4] is not None else np.ones(len(starts), dtype=np.int64)
        sl = [slice(None)] * data.ndim
        for s_, e_, a_, st in zip(starts, ends, axes, steps):
            sl[int(a_)] = slice(int(s_), int(e_), int(st))
        return [data[tuple(sl)]]
    if op == "Cast":
        return [vals[0].astype(_np_dtype(at["to"]))]
    if op in ("Add", "Sub", "Mul", "Div", "Equal", "Less", "Greater", "Max", "Min"):
        a, b = vals
        if op == "Div" and np.issubdtype(a.dtype, np.integer):
            r = np.trunc(a / b).astype(a.dtype)
        else:
            r = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Equal": np.equal,
                 "Less": np.less, "Greater": np.greater, "Max": np.maximum, "Min": np.minimum}[op](a, b)
            if op not in ("Equal", "Less", "Greater"):
                r = r.astype(np.result_type(a, b))
        return [np.asarray(r)]
    if op == "Reshape":
        shape = [int(d) for d in vals[1]]
        shape = [vals[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
        return [vals[0].reshape(shape)]
    if op == "ConstantOfShape":
        v = at.get("value")
        fill = numpy_helper.to_array(v) if v is not None else np.zeros(1, dtype=np.float32)
        return [np.full([int(d) for d in vals[0]], fill.reshape(-1)[0], dtype=fill.dtype)]
    if op == "Where":
        return [np.where(vals[0], vals[1], vals[2])]
    if op == "Expand":
        return [vals[0] * np.ones([int(d) for d in vals[1]], dtype=vals[0].dtype)]
    if op == "Range":
        return [np.arange(vals[0], vals[1], vals[2]).astype(vals[0].dtype)]
    if op == "Neg":
        return [-vals[0]]
    if op == "Abs":
        return [np.abs(vals[0])]
    return None


def fold_constants(model: onnx.ModelProto, max_rounds: int = 20, inplace: bool = False) -> onnx.ModelProto:
    """Fold Shape nodes of statically shaped tensors and small all-constant subgraphs into initializers."""
    if inplace:
        m = model
    else:
        m = onnx.ModelProto()
        m.CopyFrom(model)
    g = m.graph
    outputs = {o.name for o in g.output}
    for _ in range(max_rounds):
        shapes = static_shapes(m)
        consts: Dict[str, np.ndarray] = {}
        for i in g.initializer:
            if int(np.prod(i.dims)) <= _INT_LIMIT:
                consts[i.name] = numpy_helper.to_array(i)
        changed = False
        keep: List[onnx.NodeProto] = []
        for n in g.node:
            folded = None
            if any(o in outputs for o in n.output):
                folded = None
            elif n.op_type == "Shape" and n.input[0] in shapes:
                shp = np.array(shapes[n.input[0]], dtype=np.int64)
                at = {a.name: a.i for a in n.attribute}
                start, end = at.get("start", 0), at.get("end", len(shp))
                folded = [shp[start:end]]
            elif n.op_type == "Size" and n.input[0] in shapes:
                folded = [np.array(int(np.prod(shapes[n.input[0]])), dtype=np.int64)]
            elif all((not i) or (i in consts) for i in n.input) and n.input:
                try:
                    folded = _np_eval(n, [consts[i] if i else None for i in n.input])
                except Exception:  # noqa: BLE001 - leave the node to the runtime
                    folded = None
                if folded is not None and any(np.asarray(f).size > _INT_LIMIT for f in folded):
                    folded = None
            if folded is None:
                keep.append(n)
                continue
            for name, val in zip(n.output, folded):
                arr = np.asarray(val)
                g.initializer.append(numpy_helper.from_array(arr, name))
                consts[name] = arr
            changed = True
        del g.node[:]
        g.node.extend(keep)
        if not changed:
            break
    remove_dead(m)
    return m


def _einsum_macs(eq: str, shapes: List[Tuple[int, ...]]) -> int:
    lhs = eq.replace(" ", "").split("->")[0]
    sizes: Dict[str, int] = {}
    for term, shp in zip(lhs.split(","), shapes):
        if "." in term:
            raise ValueError("ellipsis einsum not counted")
        for c, d in zip(term, shp):
            sizes[c] = d
    macs = 1
    for d in sizes.values():
        macs *= d
    return macs


def count_macs(model: onnx.ModelProto) -> Dict[str, int]:
    """Multiply-accumulates per op type, from static shapes (raises if a counted op has a dynamic shape)."""
    shapes = static_shapes(model)
    out: Dict[str, int] = defaultdict(int)
    for n in model.graph.node:
        op = n.op_type
        if op not in ("Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum"):
            continue
        try:
            if op == "Conv":
                y = shapes[n.output[0]]
                w = shapes[n.input[1]]
                group = next((a.i for a in n.attribute if a.name == "group"), 1)
                del group  # w already holds Cin/group
                out[op] += int(np.prod(y)) * int(np.prod(w[1:]))
            elif op == "ConvTranspose":
                x = shapes[n.input[0]]
                w = shapes[n.input[1]]
                out[op] += int(np.prod(x)) * int(np.prod(w[1:]))
            elif op == "Gemm":
                a = shapes[n.input[0]]
                y = shapes[n.output[0]]
                trans_a = next((a_.i for a_ in n.attribute if a_.name == "transA"), 0)
                k = a[0] if trans_a else a[1]
                out[op] += int(np.prod(y)) * int(k)
            elif op == "MatMul":
                a = shapes[n.input[0]]
                y = shapes[n.output[0]]
                out[op] += int(np.prod(y)) * int(a[-1])
            elif op == "Einsum":
                eq = next(a.s.decode() for a in n.attribute if a.name == "equation")
                out[op] += _einsum_macs(eq, [shapes[i] for i in n.input])
        except KeyError as e:  # pragma: no cover - only with dynamic shapes
            raise ValueError(f"cannot count {op} {n.name}: shape of {e} unknown (export with static shapes)") from e
    return dict(out)


def io_specs(model: onnx.ModelProto) -> Tuple[list, list]:
    """Manifest TensorSpec lists for the graph inputs and outputs."""
    names = {FLOAT: "float32", FLOAT16: "float16", TensorProto.INT64: "int64", TensorProto.INT32: "int32"}

    def spec(vi: onnx.ValueInfoProto) -> dict:
        tt = vi.type.tensor_type
        dims: list = []
        for d in tt.shape.dim:
            if d.HasField("dim_value"):
                dims.append(int(d.dim_value))
            elif d.dim_param:
                dims.append(d.dim_param)
            else:
                dims.append(-1)
        return {"name": vi.name, "shape": dims, "dtype": names[tt.elem_type]}

    inits = {i.name for i in model.graph.initializer}
    return [spec(i) for i in model.graph.input if i.name not in inits], [spec(o) for o in model.graph.output]


def op_histogram(model: onnx.ModelProto) -> Dict[str, int]:
    h: Dict[str, int] = defaultdict(int)
    for n in model.graph.node:
        h[n.op_type] += 1
    return dict(sorted(h.items()))


def initializer_bytes(model: onnx.ModelProto) -> Dict[str, int]:
    h: Dict[str, int] = defaultdict(int)
    for i in model.graph.initializer:
        arr = numpy_helper.to_array(i)
        h[str(arr.dtype)] += arr.nbytes
    return dict(h)


__all__ = [
    "FLOAT", "FLOAT16", "check_flat", "elem_types", "static_shapes", "simplify", "remove_dead",
    "count_macs", "io_specs", "op_histogram", "initializer_bytes", "helper",
]


def store_fp16(m, prefixes: tuple = (), min_elements: int = 1024):
    """Store float32 initializers that are exactly representable in float16 as float16 behind a Cast to float32:
    the graph still computes in fp32 and gives the same numbers, in about half the bytes. TAEF2's published weights
    are float16, so its encoder, decoder and the decoder's VJP shrink losslessly; prefixes limits it to some names.
    Returns (model, number of initializers stored as float16)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    inits, casts, n = [], [], 0
    for init in m.graph.initializer:
        w = numpy_helper.to_array(init) if init.data_type == onnx.TensorProto.FLOAT else None
        if (w is not None and w.size >= min_elements and (not prefixes or init.name.startswith(prefixes))
                and np.array_equal(w.astype(np.float16).astype(np.float32), w)):
            half = numpy_helper.from_array(w.astype(np.float16), init.name + '.fp16')
            inits.append(half)
            casts.append(helper.make_node('Cast', [half.name], [init.name], to=onnx.TensorProto.FLOAT))
            n += 1
        else:
            inits.append(init)
    del m.graph.initializer[:]
    m.graph.initializer.extend(inits)
    for node in reversed(casts):
        m.graph.node.insert(0, node)
    onnx.checker.check_model(m)
    return m, n
