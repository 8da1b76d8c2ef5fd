#!/usr/bin/env python3
"""Writes small ONNX models for the command-line tests: a valid one with its reference data,
and malformed ones, each named after what is wrong with it."""
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_relu_model(opset=13):
    """x [1,3,8,8] -> Conv(3->4, 3x3, pad 1) -> BatchNormalization -> Relu -> Add(x_proj) -> y."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, 4).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    mean = rng.standard_normal(4).astype(np.float32) * 0.1
    var = rng.uniform(0.5, 1.5, 4).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w, "w"), (scale, "scale"), (bias, "bias"), (mean, "mean"), (var, "var"))]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["b"], name="bn"),
        helper.make_node("Relu", ["b"], ["r"], name="relu"),
        helper.make_node("Shape", ["r"], ["s"], name="shape"),
        helper.make_node("Reshape", ["r", "s"], ["y"], name="reshape"),
    ]
    graph = helper.make_graph(nodes, "conv_relu",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    y = reference_conv_bn_relu(x, w, scale, bias, mean, var)
    return model, x, y


def reference_conv_bn_relu(x, w, scale, bias, mean, var, eps=1e-5):
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((1, 4, 8, 8), np.float64)
    for o in range(4):
        for i in range(8):
            for j in range(8):
                out[0, o, i, j] = np.sum(padded[0, :, i:i + 3, j:j + 3] * w[o])
    out = (out - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    out = out * scale[None, :, None, None] + bias[None, :, None, None]
    return np.maximum(out, 0).astype(np.float32)


def malformed_models(valid):
    """Yields (file name, bytes) of broken models."""
    data = valid.SerializeToString()
    yield "empty.onnx", b""
    yield "garbage.onnx", bytes(range(256)) * 4
    yield "truncated.onnx", data[: len(data) // 2]

    missing = onnx.ModelProto()
    missing.CopyFrom(valid)
    del missing.graph.initializer[0]  # the conv weight 'w'
    yield "missing_initializer.onnx", missing.SerializeToString()

    cycle = onnx.ModelProto()
    cycle.CopyFrom(valid)
    cycle.graph.node[0].input[0] = "r"  # conv reads relu's output, which depends on conv
    yield "cycle.onnx", cycle.SerializeToString()

    unknown = onnx.ModelProto()
    unknown.CopyFrom(valid)
    unknown.graph.node[2].op_type = "FancyActivation"
    yield "unknown_op.onnx", unknown.SerializeToString()

    wrong_rank = onnx.ModelProto()
    wrong_rank.CopyFrom(valid)
    dims = wrong_rank.graph.input[0].type.tensor_type.shape.dim
    del dims[0]  # x becomes [3,8,8]: a Conv needs rank 4 with a 4-D weight
    yield "wrong_input_rank.onnx", wrong_rank.SerializeToString()

    old = onnx.ModelProto()
    old.CopyFrom(valid)
    old.opset_import[0].version = 9
    yield "old_opset.onnx", old.SerializeToString()


def main(out_dir):
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, x, y = conv_relu_model()
    onnx.save(model, out / "conv_relu.onnx")
    np.savez(out / "conv_relu_io.npz", x=x, y=y)
    np.savez(out / "conv_relu_wrong.npz", x=x, y=y + 1.0)
    np.savez(out / "conv_relu_bad_shape.npz", x=x[:, :2])
    np.savez(out / "conv_relu_float64.npz", x=x.astype(np.float64))
    for name, data in malformed_models(model):
        (out / name).write_bytes(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUT_DIR")
    main(sys.argv[1])
