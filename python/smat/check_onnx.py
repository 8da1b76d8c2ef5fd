"""Checks the files export.py wrote: ONNX validity, I/O names and shapes, the tracking
network's op mix against the official export, and that the graphs (run by onnx_runner)
reproduce reference.npz.

    python3 python/smat/check_onnx.py DIR [--atol 1e-4]

Exits non-zero on any failure. Op-count differences are reported but do not fail: the
Identity count depends on the weight values (see README.md).
"""
import argparse
import collections
import os
import sys

import numpy as np
import onnx

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from smat import onnx_runner  # noqa: E402

# Op histogram of the official tracking-network export (opset 16, torch 1.13), 729 nodes,
# as recorded in the project's SMAT reference notes.
OFFICIAL_TRACK_OPS = {
    "Constant": 152, "Conv": 105, "Reshape": 74, "Identity": 70, "Relu": 55, "Add": 55,
    "Mul": 54, "Shape": 42, "InstanceNormalization": 28, "Expand": 13, "Split": 12,
    "Softmax": 12, "ReduceSum": 12, "Slice": 8, "DepthToSpace": 6, "Concat": 5, "Cast": 4,
    "Sigmoid": 3, "Div": 3, "Clip": 2, "GatherElements": 2, "Squeeze": 2, "Transpose": 1,
    "MatMul": 1, "GlobalAveragePool": 1, "Flatten": 1, "ArgMax": 1, "Mod": 1, "Unsqueeze": 1,
    "ConstantOfShape": 1, "Equal": 1, "Where": 1,
}

EXPECTED_IO = {
    "smat_template.onnx": ({"template": [1, 3, 128, 128]}, {"z": [1, 128, 32, 32]}),
    "smat_track.onnx": ({"z": [1, 128, 32, 32], "x": [1, 3, 256, 256]},
                        {"pred_boxes": [1, 1, 4], "score_map": [1, 1, 16, 16],
                         "size_map": [1, 2, 16, 16], "offset_map": [1, 2, 16, 16]}),
}


def _io(values):
    return {v.name: [d.dim_value if d.HasField("dim_value") else d.dim_param
                     for d in v.type.tensor_type.shape.dim] for v in values}


def _check_file(path, inputs, outputs, failures):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    got_in = _io(model.graph.input)
    got_out = _io(model.graph.output)
    if got_in != inputs:
        failures.append(f"{path}: inputs {got_in}, expected {inputs}")
    if got_out != outputs:
        failures.append(f"{path}: outputs {got_out}, expected {outputs}")
    for v in list(model.graph.input) + list(model.graph.output):
        if v.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            failures.append(f"{path}: {v.name} is not float32")
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    print(f"{path}: checker ok, opset {opset}, {len(model.graph.node)} nodes, "
          f"inputs {got_in}, outputs {got_out}")
    return model


def _print_histogram(model):
    ops = collections.Counter(n.op_type for n in model.graph.node)
    print(f"track op histogram ({sum(ops.values())} nodes; official "
          f"{sum(OFFICIAL_TRACK_OPS.values())}):")
    for op in sorted(set(ops) | set(OFFICIAL_TRACK_OPS), key=lambda o: (-ops.get(o, 0), o)):
        ours, theirs = ops.get(op, 0), OFFICIAL_TRACK_OPS.get(op, 0)
        note = "" if ours == theirs else f"   <- official {theirs}"
        print(f"  {op:22s} {ours:4d}{note}")


def _compare(name, got, want, atol, failures):
    err = float(np.max(np.abs(got - want)))
    print(f"  {name:11s} max abs err {err:.3g}")
    if got.shape != want.shape or not err <= atol:
        failures.append(f"{name}: max abs error {err:.3g} > {atol} (shape {got.shape} vs {want.shape})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="check export.py's output folder")
    parser.add_argument("dir")
    parser.add_argument("--atol", type=float, default=1e-4)
    args = parser.parse_args(argv)

    failures = []
    models = {}
    for fname, (inputs, outputs) in EXPECTED_IO.items():
        models[fname] = _check_file(os.path.join(args.dir, fname), inputs, outputs, failures)
    _print_histogram(models["smat_track.onnx"])

    ref = np.load(os.path.join(args.dir, "reference.npz"))
    print("ONNX graphs run on reference.npz inputs vs PyTorch outputs:")
    z = onnx_runner.run(models["smat_template.onnx"], {"template": ref["template"]})["z"]
    _compare("z", z, ref["z"], args.atol, failures)
    track = onnx_runner.run(models["smat_track.onnx"], {"z": ref["z"], "x": ref["x"]})
    for name in EXPECTED_IO["smat_track.onnx"][1]:
        _compare(name, track[name], ref[name], args.atol, failures)

    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
