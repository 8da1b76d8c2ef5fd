"""A small ONNX interpreter (on torch ops) for checking our exports without ONNX Runtime.

onnx 1.12 has no reference evaluator and ONNX Runtime is not installed here, yet the
exported graph, not just the PyTorch model, must reproduce reference.npz. This covers
exactly the ops SMAT's exports use at opsets 11..17, with each op's opset-dependent
signature (axes as attribute or input, and so on).
"""
from typing import Callable, Dict, List

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch.nn import functional as F

_ONNX_TO_TORCH_DTYPE = {
    onnx.TensorProto.FLOAT: torch.float32,
    onnx.TensorProto.DOUBLE: torch.float64,
    onnx.TensorProto.INT64: torch.int64,
    onnx.TensorProto.INT32: torch.int32,
    onnx.TensorProto.BOOL: torch.bool,
}


def _attrs(node) -> Dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _axes(node, inputs, attrs):
    """Axes come from an attribute before opset 13 and from an optional input since."""
    if "axes" in attrs:
        return list(attrs["axes"])
    if len(inputs) > 1 and inputs[1] is not None:
        return inputs[1].tolist()
    return None


def _conv(node, x, attrs):
    w, b = x[1], (x[2] if len(x) > 2 else None)
    pads = attrs.get("pads", [0, 0, 0, 0])
    if pads[0] != pads[2] or pads[1] != pads[3]:
        raise NotImplementedError(f"{node.name}: asymmetric padding")
    return F.conv2d(x[0], w, b, stride=attrs.get("strides", 1), padding=pads[:2],
                    dilation=attrs.get("dilations", 1), groups=attrs.get("group", 1))


def _reshape(x):
    shape = x[1].tolist()
    shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x[0].reshape(shape)


def _instance_norm(x, attrs):
    return F.instance_norm(x[0], weight=x[1], bias=x[2], eps=attrs.get("epsilon", 1e-5))


def _split(node, x, attrs):
    axis = attrs.get("axis", 0)
    sizes = attrs.get("split") or (x[1].tolist() if len(x) > 1 else None)
    if sizes is None:
        sizes = x[0].shape[axis] // len(node.output)
    return list(torch.split(x[0], sizes, dim=axis))


def _slice(x, attrs):
    starts, ends = (attrs["starts"], attrs["ends"]) if "starts" in attrs else (x[1].tolist(), x[2].tolist())
    axes = attrs.get("axes") or (x[3].tolist() if len(x) > 3 else list(range(len(starts))))
    steps = x[4].tolist() if len(x) > 4 else [1] * len(starts)
    index = [slice(None)] * x[0].dim()
    for s, e, a, st in zip(starts, ends, axes, steps):
        dim = x[0].shape[a]
        index[a] = slice(max(-dim, min(s, dim)), max(-dim - 1, min(e, dim)), st)
    return x[0][tuple(index)]


def _depth_to_space(x, attrs):
    if attrs.get("mode", b"DCR") not in (b"CRD", "CRD"):
        raise NotImplementedError("DepthToSpace DCR mode")
    return F.pixel_shuffle(x[0], attrs["blocksize"])


def _squeeze(node, x, attrs):
    axes = _axes(node, x, attrs)
    out = x[0]
    for a in sorted((a % out.dim() for a in axes), reverse=True):
        out = out.squeeze(a)
    return out


def _unsqueeze(node, x, attrs):
    out = x[0]
    axes = _axes(node, x, attrs)
    rank = out.dim() + len(axes)
    for a in sorted(a % rank for a in axes):
        out = out.unsqueeze(a)
    return out


def _reduce_sum(node, x, attrs):
    axes = _axes(node, x, attrs)
    keep = bool(attrs.get("keepdims", 1))
    return torch.sum(x[0], dim=axes, keepdim=keep) if axes else torch.sum(x[0])


def _argmax(x, attrs):
    if attrs.get("select_last_index", 0):
        raise NotImplementedError("ArgMax select_last_index")
    return torch.argmax(x[0], dim=attrs.get("axis", 0), keepdim=bool(attrs.get("keepdims", 1)))


def _int_div(a, b):
    # ONNX Div truncates integers toward zero.
    return torch.div(a, b, rounding_mode="trunc") if not a.is_floating_point() else a / b


def _mod(x, attrs):
    return torch.fmod(x[0], x[1]) if attrs.get("fmod", 0) else torch.remainder(x[0], x[1])


def _softmax(node, x, attrs, opset):
    axis = attrs.get("axis", -1 if opset >= 13 else 1)
    if opset < 13 and axis % x[0].dim() != x[0].dim() - 1:
        raise NotImplementedError(f"{node.name}: pre-13 Softmax on a non-last axis")
    return F.softmax(x[0], dim=axis)


def _ops(opset: int) -> Dict[str, Callable]:
    return {
        "Identity": lambda n, x, a: x[0],
        "Conv": _conv,
        "Reshape": lambda n, x, a: _reshape(x),
        "Relu": lambda n, x, a: F.relu(x[0]),
        "Sigmoid": lambda n, x, a: torch.sigmoid(x[0]),
        "Add": lambda n, x, a: x[0] + x[1],
        "Sub": lambda n, x, a: x[0] - x[1],
        "Mul": lambda n, x, a: x[0] * x[1],
        "Div": lambda n, x, a: _int_div(x[0], x[1]),
        "Mod": lambda n, x, a: _mod(x, a),
        "Shape": lambda n, x, a: torch.tensor(x[0].shape, dtype=torch.int64),
        "InstanceNormalization": lambda n, x, a: _instance_norm(x, a),
        "Expand": lambda n, x, a: x[0] * torch.ones(x[1].tolist(), dtype=x[0].dtype),
        "Split": _split,
        "Softmax": lambda n, x, a: _softmax(n, x, a, opset),
        "ReduceSum": _reduce_sum,
        "Slice": lambda n, x, a: _slice(x, a),
        "DepthToSpace": lambda n, x, a: _depth_to_space(x, a),
        "Concat": lambda n, x, a: torch.cat(x, dim=a["axis"]),
        "Cast": lambda n, x, a: x[0].to(_ONNX_TO_TORCH_DTYPE[a["to"]]),
        "Clip": lambda n, x, a: torch.clamp(x[0], min=a.get("min", x[1] if len(x) > 1 else None),
                                            max=a.get("max", x[2] if len(x) > 2 else None)),
        "GatherElements": lambda n, x, a: torch.gather(x[0], a.get("axis", 0), x[1]),
        "Gather": lambda n, x, a: torch.index_select(x[0], a.get("axis", 0), x[1].flatten()).reshape(
            x[0].shape[:a.get("axis", 0)] + x[1].shape + x[0].shape[a.get("axis", 0) + 1:]),
        "Squeeze": _squeeze,
        "Unsqueeze": _unsqueeze,
        "Transpose": lambda n, x, a: x[0].permute(a["perm"]),
        "MatMul": lambda n, x, a: torch.matmul(x[0], x[1]),
        "GlobalAveragePool": lambda n, x, a: x[0].mean(dim=(2, 3), keepdim=True),
        "Flatten": lambda n, x, a: x[0].reshape(int(np.prod(x[0].shape[:a.get("axis", 1)])), -1),
        "ArgMax": lambda n, x, a: _argmax(x, a),
        "ConstantOfShape": lambda n, x, a: torch.from_numpy(
            np.full(x[0].tolist(), numpy_helper.to_array(a["value"]).item(),
                    dtype=numpy_helper.to_array(a["value"]).dtype)),
        "Equal": lambda n, x, a: x[0] == x[1],
        "Where": lambda n, x, a: torch.where(x[0], x[1], x[2]),
        "Constant": lambda n, x, a: torch.from_numpy(numpy_helper.to_array(a["value"]).copy()),
    }


def run(model: onnx.ModelProto, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Evaluates ``model`` on ``feeds``; returns every graph output by name."""
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    ops = _ops(opset)
    values: Dict[str, torch.Tensor] = {
        init.name: torch.from_numpy(numpy_helper.to_array(init).copy()) for init in model.graph.initializer
    }
    values.update({name: torch.from_numpy(np.asarray(a)) for name, a in feeds.items()})
    with torch.no_grad():
        for node in model.graph.node:
            if node.op_type not in ops:
                raise NotImplementedError(f"op {node.op_type} (node {node.name}) is not supported")
            inputs: List = [values[i] if i else None for i in node.input]
            out = ops[node.op_type](node, inputs, _attrs(node))
            outs = out if isinstance(out, list) else [out]
            for name, value in zip(node.output, outs):
                values[name] = value
    return {o.name: values[o.name].numpy() for o in model.graph.output}
