"""Exports SMAT's tracking network with a batch of B (weights from --seed, the same as
python/smat/export.py --seed gives), for the tests of batched tracking.

    /usr/bin/python3 tests/tracker/export_batched.py --seed 0 --batch 2 --out PATH.onnx
        [--dynamic]

With --dynamic the batch dimension is dynamic (Kestrel builds it for `eval --batch N`);
without it the batch is fixed at B.
"""
import argparse
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

from smat.export import _export_onnx  # noqa: E402
from smat.model import (SEARCH_SIZE, TemplateEncoder, TrackingNetwork,  # noqa: E402
                        build_smat)
from smat.random_init import randomize_  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--dynamic", action="store_true")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    model = randomize_(build_smat(), args.seed)
    encoder, tracker = TemplateEncoder(model).eval(), TrackingNetwork(model).eval()
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        z = encoder(torch.rand(args.batch, 3, 128, 128, generator=gen))
    x = torch.rand(args.batch, 3, SEARCH_SIZE, SEARCH_SIZE, generator=gen)
    names = ["pred_boxes", "score_map", "size_map", "offset_map"]
    # The exporter settings of python/smat/export.py (the TorchScript exporter on torch >= 2.9).
    _export_onnx(tracker, (z, x), args.out, ["z", "x"], names, args.opset, dynamic_batch=args.dynamic)
    print(f"wrote {args.out}: batch {'dynamic' if args.dynamic else args.batch}, seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
