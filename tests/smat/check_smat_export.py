#!/usr/bin/env python3
"""Exports SMAT (our model code, seeded random weights) at one opset and checks that Kestrel's
CPU engine reproduces PyTorch within the absolute tolerance on z and on every tracking map, both
straight from the ONNX file and through a saved engine file.

usage: check_smat_export.py KESTREL_BIN OPSET WORK_DIR"""
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
ATOL = "1e-4"


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        sys.exit(f"FAILED (exit {result.returncode}): {' '.join(str(a) for a in args)}")


def main(kestrel, opset, work_dir):
    out = pathlib.Path(work_dir) / f"opset{opset}"
    out.mkdir(parents=True, exist_ok=True)
    run("/usr/bin/python3", REPO / "python" / "smat" / "export.py", "--seed", "0", "--opset", opset, "--out-dir", out)
    reference = out / "reference.npz"
    for network in ("smat_template", "smat_track"):
        onnx_file = out / f"{network}.onnx"
        engine = out / f"{network}.engine"
        run(kestrel, "run", onnx_file, "--inputs", reference, "--compare", reference, "--atol", ATOL, "--rtol", "0")
        run(kestrel, "build", onnx_file, "-o", engine)
        run(kestrel, "run", engine, "--inputs", reference, "--compare", reference, "--atol", ATOL, "--rtol", "0")
    print(f"opset {opset}: template and tracking network within {ATOL} of PyTorch")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
