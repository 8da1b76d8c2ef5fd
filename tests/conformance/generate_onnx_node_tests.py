#!/usr/bin/env python3
"""Writes the official ONNX node conformance cases (model.onnx + test_data_set_*/) of the
installed onnx package into OUT_DIR/node, then touches OUT_DIR/stamp."""
import pathlib
import sys

import numpy as np

# onnx 1.12's case generators still use aliases that numpy 1.24 removed.
for alias, builtin in (("float", float), ("int", int), ("bool", bool), ("object", object)):
    if not hasattr(np, alias):
        setattr(np, alias, builtin)

from onnx.backend.test.cmd_tools import main as onnx_test_tools  # noqa: E402


def generate(out_dir: pathlib.Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    sys.argv = ["onnx-backend-test", "generate-data", "-o", str(out_dir)]
    onnx_test_tools()
    (out_dir / "stamp").write_text("generated\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: generate_onnx_node_tests.py OUT_DIR")
    generate(pathlib.Path(sys.argv[1]))
