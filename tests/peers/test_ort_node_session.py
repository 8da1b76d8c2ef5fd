#!/usr/bin/env python3
"""The ONNX Runtime bridge of the tracking-loop peer (bench/peers/ort_node_session.py and
ort_node_server.js): the shipped SMAT networks run through onnxruntime-node reproduce PyTorch's
outputs in models/smat_synthetic/reference.npz, outputs come back in the model's order, the
inference time is reported, and a request for an unknown network is an error naming it while
the server keeps serving. Exit 77 (skipped, with the reason) without node or the package.

usage: test_ort_node_session.py [NODE_PATH]"""
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "peers"))
from ort_node_session import NodeOrtSessions  # noqa: E402

MODELS = REPO / "models" / "smat_synthetic"
TRACK_OUTPUTS = ("pred_boxes", "score_map", "size_map", "offset_map")


def skip(reason):
    print(f"SKIPPED: {reason}")
    sys.exit(77)


def main():
    node_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NODE_PATH", "")
    if shutil.which("node") is None:
        skip("node is not installed")
    os.environ["NODE_PATH"] = node_path
    if subprocess.run(["node", "-e", "require('onnxruntime-node')"], capture_output=True).returncode != 0:
        skip(f"onnxruntime-node is not found through NODE_PATH={node_path!r}")
    ref = np.load(MODELS / "reference.npz")
    sessions = NodeOrtSessions(str(MODELS), threads=1)
    try:
        (z,) = sessions.session("smat_template").run(None, {"template": ref["template"]})
        assert np.abs(z - ref["z"]).max() < 1e-4, f"z differs by {np.abs(z - ref['z']).max()}"
        outputs = sessions.session("smat_track").run(None, {"z": ref["z"], "x": ref["x"]})
        assert len(outputs) == len(TRACK_OUTPUTS), f"{len(outputs)} outputs"
        for name, got in zip(TRACK_OUTPUTS, outputs):
            err = np.abs(got - ref[name]).max()
            assert got.shape == ref[name].shape and err < 1e-4, f"{name}: shape {got.shape}, max abs error {err}"
        assert sessions.last_ms > 0, "no inference time reported"
        try:
            sessions.run("no_such_network", {"x": ref["x"]})
            raise AssertionError("an unknown network was accepted")
        except RuntimeError as e:
            assert "no_such_network" in str(e), str(e)
        (again,) = sessions.session("smat_template").run(None, {"template": ref["template"]})
        assert np.array_equal(again, z), "the server answered differently after an error"
    finally:
        sessions.close()
    print(f"onnxruntime-node {sessions.version}: SMAT template and tracking outputs within 1e-4 of PyTorch")


if __name__ == "__main__":
    main()
