"""fp32 -> fp16 conversion of an ONNX graph, written for this project (no onnxconverter-common).

Rules (each one is checked by onnx.checker's full type inference and by running the result):
- The graph's inputs and outputs keep their types: float32 inputs are Cast to float16 where an fp16 node
  reads them, and a float32 output produced in fp16 is Cast back to float32 at the end.
- Nodes run in fp16 when they read a tensor that depends on a float graph input (the image path).
- The conditioning branch stays in fp32: nodes whose values depend only on integer inputs (the timestep t)
  and constants, e.g. the sinusoidal embedding (t*f up to ~1000 rad: fp16 would lose the phase) and the
  time-embedding MLPs. Their result is Cast to fp16 where it meets the image path.
- Numerically fragile ops always run in fp32 with Casts around them: normalisations
  (InstanceNormalization = torch's GroupNorm export, LayerNormalization, GroupNormalization), Softmax,
  reductions, Pow/Sqrt/Exp/Log/Sin/Cos/Erf, Range.
- Initializers read by fp16 nodes are stored as float16 (values clipped to +-65504; the count of clipped
  and of flushed-to-zero values is reported); an initializer read by both kinds keeps an fp32 copy too.
- Inputs that ONNX types independently of the data (Resize roi/scales, Upsample scales) are left alone;
  Shape/Size read whichever tensor exists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Set, Tuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .onnx_graph import FLOAT, FLOAT16, check_flat, elem_types, remove_dead, simplify

KEEP_FP32_OPS: Set[str] = {
    "InstanceNormalization", "LayerNormalization", "GroupNormalization",
    "Softmax", "LogSoftmax",
    "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
    "ReduceProd", "ReduceMax", "ReduceMin",
    "Pow", "Sqrt", "Reciprocal", "Exp", "Log", "Sin", "Cos", "Erf", "Range",
    "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
}
# per op: input indices that keep their own dtype (typed independently of the data)
FIXED_INPUTS: Dict[str, Set[int]] = {"Resize": {1, 2}, "Upsample": {1}}
# ops that only look at shapes: they take whichever tensor exists and do not propagate data dependence
SHAPE_ONLY: Set[str] = {"Shape", "Size"}
FP16_MAX = 65504.0


@dataclass
class Fp16Report:
    nodes_fp16: int = 0
    nodes_fp32: int = 0
    casts_added: int = 0
    initializers_fp16: int = 0
    initializers_fp32: int = 0
    clipped_values: int = 0
    flushed_to_zero: int = 0
    fp32_ops: Dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _attr(node: onnx.NodeProto, name: str):
    for a in node.attribute:
        if a.name == name:
            return a
    return None


def _to_f16_array(arr: np.ndarray, rep: Fp16Report) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float32)
    big = np.abs(a) > FP16_MAX
    rep.clipped_values += int(big.sum())
    a = np.clip(a, -FP16_MAX, FP16_MAX)
    h = a.astype(np.float16)
    rep.flushed_to_zero += int(((h == 0) & (a != 0)).sum())
    return h


def convert_to_fp16(model: onnx.ModelProto, keep_fp32_ops: Set[str] | None = None,
                    keep_fp32_prefixes: Tuple[str, ...] = ()) -> Tuple[onnx.ModelProto, Fp16Report]:
    """keep_fp32_prefixes: node-name prefixes (torch export scopes, e.g. "/out/") that stay in fp32."""
    keep = KEEP_FP32_OPS if keep_fp32_ops is None else keep_fp32_ops
    m = simplify(model)
    check_flat(m)
    g = m.graph
    types = elem_types(m)
    rep = Fp16Report()
    init: Dict[str, onnx.TensorProto] = {i.name: i for i in g.initializer}
    graph_inputs = {i.name for i in g.input if i.name not in init}

    # tensors whose values depend on a float graph input
    dep: Set[str] = {n for n in graph_inputs if types.get(n) == FLOAT}
    for n in g.node:
        if n.op_type in SHAPE_ONLY:
            continue
        if any(i in dep for i in n.input if i):
            dep.update(o for o in n.output if o)

    cur: Dict[str, int] = dict(types)
    new_nodes: List[onnx.NodeProto] = []
    cast_cache: Dict[Tuple[str, int], str] = {}
    f16_init: Dict[str, str] = {}
    new_inits: List[onnx.TensorProto] = []

    def want(name: str, dtype: int) -> str:
        if cur.get(name) == dtype:
            return name
        if name in init and dtype == FLOAT16 and init[name].data_type == FLOAT:
            if name not in f16_init:
                new_name = name + "__fp16"
                arr = _to_f16_array(numpy_helper.to_array(init[name]), rep)
                new_inits.append(numpy_helper.from_array(arr, new_name))
                f16_init[name] = new_name
                cur[new_name] = FLOAT16
                rep.initializers_fp16 += 1
            return f16_init[name]
        key = (name, dtype)
        if key not in cast_cache:
            out = f"{name}__to_{'fp16' if dtype == FLOAT16 else 'fp32'}"
            new_nodes.append(helper.make_node("Cast", [name], [out], to=dtype, name=out))
            rep.casts_added += 1
            cast_cache[key] = out
            cur[out] = dtype
        return cast_cache[key]

    fp32_ops: Dict[str, int] = {}
    for n in g.node:
        names = [t for t in list(n.input) + list(n.output) if t]
        has_float = any(types.get(t) == FLOAT for t in names)
        if n.op_type in SHAPE_ONLY or not has_float:
            new_nodes.append(n)
            continue
        if n.op_type in keep or (keep_fp32_prefixes and n.name.startswith(keep_fp32_prefixes)):
            target = FLOAT
        elif any(i in dep for i in n.input if i):
            target = FLOAT16
        else:
            target = FLOAT
        fixed = FIXED_INPUTS.get(n.op_type, set())
        for k, name in enumerate(n.input):
            if not name or k in fixed:
                continue
            if types.get(name) == FLOAT:
                n.input[k] = want(name, target)
        if target == FLOAT16:
            rep.nodes_fp16 += 1
            if n.op_type == "Cast":
                a = _attr(n, "to")
                if a is not None and a.i == FLOAT:
                    a.i = FLOAT16
            elif n.op_type == "ConstantOfShape":
                a = _attr(n, "value")
                if a is not None and a.t.data_type == FLOAT:
                    v = numpy_helper.to_array(a.t)
                    a.t.CopyFrom(numpy_helper.from_array(_to_f16_array(v, rep), a.t.name))
            elif n.op_type in ("Constant", "EyeLike", "RandomNormal", "RandomUniform"):
                raise ValueError(f"unexpected op {n.op_type} in the fp16 region")
        else:
            rep.nodes_fp32 += 1
            fp32_ops[n.op_type] = fp32_ops.get(n.op_type, 0) + 1
        for o in n.output:
            if o and types.get(o) == FLOAT:
                cur[o] = target
        new_nodes.append(n)

    # graph outputs keep float32
    for o in g.output:
        if types.get(o.name) == FLOAT and cur.get(o.name) == FLOAT16:
            tmp = o.name + "__fp16"
            for n in new_nodes:
                for k, name in enumerate(n.output):
                    if name == o.name:
                        n.output[k] = tmp
                for k, name in enumerate(n.input):
                    if name == o.name:
                        n.input[k] = tmp
            new_nodes.append(helper.make_node("Cast", [tmp], [o.name], to=FLOAT, name=o.name + "__to_fp32"))
            rep.casts_added += 1

    del g.node[:]
    g.node.extend(new_nodes)
    g.initializer.extend(new_inits)
    remove_dead(m)
    rep.initializers_fp32 = sum(1 for i in g.initializer if i.data_type == FLOAT)
    rep.fp32_ops = dict(sorted(fp32_ops.items()))
    del g.value_info[:]
    onnx.checker.check_model(m, full_check=True)
    return m, rep


__all__ = ["convert_to_fp16", "Fp16Report", "KEEP_FP32_OPS"]
