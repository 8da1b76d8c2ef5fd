"""Export SMAT's template encoder and tracking network to ONNX, with reference outputs.

    python3 python/smat/export.py [--checkpoint CKPT | --seed N] [--opset 17] --out-dir DIR

Writes DIR/smat_template.onnx, DIR/smat_track.onnx and DIR/reference.npz (sample inputs
and PyTorch's outputs for them). Without --checkpoint the weights are random, fixed by
--seed (default 0).
"""
import argparse
import inspect
import os
import sys
import time

import numpy as np
import torch

if __package__ in (None, ""):
    # Run as a script: make the `smat` package (this file's folder) importable.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from smat.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from smat.model import (SEARCH_SIZE, TEMPLATE_SIZE, TemplateEncoder,  # noqa: E402
                        TrackingNetwork, build_smat)
from smat.random_init import randomize_  # noqa: E402

MIN_OPSET, MAX_OPSET = 11, 21  # Kestrel imports 11..21; the installed torch may export fewer
TRACK_OUTPUTS = ["pred_boxes", "score_map", "size_map", "offset_map"]
# Sample images use their own stream, so they are not the same numbers as the weights.
_INPUT_SEED_OFFSET = 0x5EED


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", help="official checkpoint (.pth.tar with a 'net' entry)")
    source.add_argument("--seed", type=int, default=0,
                        help="seed for random weights and sample inputs (default 0)")
    parser.add_argument("--opset", type=int, default=17,
                        help=f"ONNX opset, {MIN_OPSET}..{MAX_OPSET} (default 17)")
    parser.add_argument("--out-dir", required=True, help="folder for the output files")
    parser.add_argument("--batch", type=int, default=1,
                        help="fixed batch size of the exported networks (default 1)")
    parser.add_argument("--dynamic-batch", action="store_true",
                        help="export the batch dimension as dynamic (torch 1.13 writes an If node "
                             "for the box decode then, which Kestrel's importer does not take yet)")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error(f"--batch must be at least 1, got {args.batch}")
    if not MIN_OPSET <= args.opset <= MAX_OPSET:
        parser.error(f"--opset must be in {MIN_OPSET}..{MAX_OPSET}, got {args.opset}")
    return args


def _write_atomically(path: str, write) -> None:
    """Calls write(tmp_path), then renames: readers never see a half-written file."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _export_onnx(module, inputs, path, input_names, output_names, opset, dynamic_batch=False) -> None:
    extra = {}
    if dynamic_batch:
        extra["dynamic_axes"] = {name: {0: "batch"} for name in input_names + output_names}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        # torch >= 2.9 defaults to the dynamo exporter, which needs onnxscript and gives
        # another graph; the TorchScript exporter is the one the official export used.
        extra["dynamo"] = False

    def write(tmp):
        torch.onnx.export(module, inputs, tmp, opset_version=opset, do_constant_folding=True,
                          input_names=input_names, output_names=output_names, **extra)
    _write_atomically(path, write)


def _summary(path: str, what: str) -> str:
    return f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB): {what}"


def main(argv=None) -> int:
    args = _parse_args(argv)
    started = time.time()

    model = build_smat()
    if args.checkpoint is not None:
        try:
            load_checkpoint(model, args.checkpoint)
        except CheckpointError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        weights = f"checkpoint {args.checkpoint}"
    else:
        randomize_(model, args.seed)
        weights = f"random weights, seed {args.seed}"

    gen = torch.Generator().manual_seed(args.seed + _INPUT_SEED_OFFSET)
    # A dynamic batch is traced with a batch of 2: tracing with 1 lets the exporter treat the
    # batch as a broadcastable 1 and insert runtime branches (If nodes).
    batch = max(args.batch, 2) if args.dynamic_batch else args.batch
    template = torch.rand(batch, 3, TEMPLATE_SIZE, TEMPLATE_SIZE, generator=gen)
    search = torch.rand(batch, 3, SEARCH_SIZE, SEARCH_SIZE, generator=gen)

    encoder, tracker = TemplateEncoder(model).eval(), TrackingNetwork(model).eval()
    with torch.no_grad():
        z = encoder(template)
        outputs = dict(zip(TRACK_OUTPUTS, tracker(z, search)))
    bad = [name for name, t in outputs.items() if not torch.isfinite(t).all()]
    if bad:
        print(f"error: non-finite PyTorch outputs: {', '.join(bad)}", file=sys.stderr)
        return 3

    try:
        os.makedirs(args.out_dir, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot create output folder {args.out_dir}: {exc}", file=sys.stderr)
        return 2

    template_path = os.path.join(args.out_dir, "smat_template.onnx")
    _export_onnx(encoder, (template,), template_path, ["template"], ["z"], args.opset,
                 args.dynamic_batch)
    print(_summary(template_path, f"template [{'N' if args.dynamic_batch else batch},3,{TEMPLATE_SIZE},{TEMPLATE_SIZE}] -> z "
                                  f"{list(z.shape)}, opset {args.opset}, {weights}"))

    track_path = os.path.join(args.out_dir, "smat_track.onnx")
    _export_onnx(tracker, (z, search), track_path, ["z", "x"], list(TRACK_OUTPUTS), args.opset,
                 args.dynamic_batch)
    print(_summary(track_path, f"z {list(z.shape)}, x [1,3,{SEARCH_SIZE},{SEARCH_SIZE}] -> "
                               f"{', '.join(TRACK_OUTPUTS)}, opset {args.opset}, {weights}"))

    arrays = {"template": template, "x": search, "z": z, **outputs}
    arrays = {name: t.numpy().astype(np.float32) for name, t in arrays.items()}
    npz_path = os.path.join(args.out_dir, "reference.npz")

    def write_npz(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    _write_atomically(npz_path, write_npz)
    print(_summary(npz_path, f"{', '.join(arrays)} (float32); "
                             f"pred_boxes {np.round(arrays['pred_boxes'].ravel(), 4).tolist()}; "
                             f"{time.time() - started:.1f} s in all"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
