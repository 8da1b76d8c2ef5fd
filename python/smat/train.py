"""Train SMAT from scratch on a GOT-10k-format split (made for `kestrel synth` data).

    python3 python/smat/train.py --train-split ROOT/train --out-dir OUT --minutes 6.5
                                 [--val-split VALROOT/val] [--resume] [--steps N] ...

All frames are decoded once into one uint8 tensor on the training device; each step's
template and search crops are cut from it there in one batched gather (train_step.py), so the
GPU never waits for a data loader. Leaves OUT/checkpoint.pth.tar (official layout, FP32),
OUT/resume.pth (optimizer state for --resume), OUT/train_log.json and, unless --no-export,
OUT/smat_template.onnx and OUT/smat_track.onnx (opset 17). Works with torch 1.13 (CPU) and 2.x.
See docs/training.md.
"""
import argparse
import json
import os
import signal
import sys
import time

import torch

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from smat import train_checkpoint as ckpt  # noqa: E402
from smat.got10k_split import read_split  # noqa: E402
from smat.train_distractors import PasteSettings  # noqa: E402
from smat.train_loop import NonFiniteLoss, Trainer  # noqa: E402
from smat.train_pairs import PairSampler, PairSettings  # noqa: E402
from smat.train_setup import (Schedule, build_model, load_frames, make_optimizer,  # noqa: E402
                              make_scaler, pick_amp, pick_device)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-split", required=True, help="split folder holding list.txt")
    p.add_argument("--val-split", help="split scored with the tracking loop at the end")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--minutes", type=float, help="training-loop budget (whole run, resumes included)")
    p.add_argument("--steps", type=int, help="stop after this many steps")
    p.add_argument("--resume", action="store_true", help="continue from OUT/resume.pth")
    p.add_argument("--init-checkpoint", help="start from these weights (official layout) with a new "
                   "optimizer and schedule: fine-tuning, or more training when no resume.pth is kept")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, help="peak AdamW learning rate (default 1e-3 from random "
                   "weights, 4e-4 with --init-checkpoint)")
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup-steps", type=int, help="linear warm-up (default 300; 100 with --init-checkpoint)")
    p.add_argument("--final-lr-ratio", type=float, default=0.01, help="cosine floor, times --lr")
    p.add_argument("--grad-clip", type=float, default=0.1, help="global norm (official 0.1); 0: off")
    p.add_argument("--amp", choices=("auto", "bf16", "fp16", "off"), default="auto")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-gap", type=int, default=200)
    p.add_argument("--crop-flip", type=float, default=0.0, help="per-crop flip probability (official 0.5)")
    p.add_argument("--box-at", choices=("gt", "peak", "both"), default="both")
    # Look-alike distractors (docs/training.md); 0 / 1 / 0 / 1 give the official sampling and loss.
    p.add_argument("--paste-prob", type=float, default=0.8, help="share of pairs drawn for a pasted, "
                   "colour-nudged copy of the target in the search crop as a hard negative (0: off)")
    p.add_argument("--paste-min-nudge", type=float, default=0.03, help="smallest colour change of a "
                   "pasted copy (largest channel; the largest is 0.12, the generator's)")
    p.add_argument("--distractor-neg-weight", type=float, default=2.0, help="focal-loss weight of the "
                   "negative cells on a pasted copy (1: plain focal loss)")
    p.add_argument("--lookalike-weight", type=float, default=2.0, help="sequences with look-alikes "
                   "(meta_info.ini) are drawn this many times as often (1: uniform)")
    p.add_argument("--template-first-prob", type=float, default=0.5, help="template from the sequence's "
                   "first visible frame, as the tracker's (0: uniform, official)")
    p.add_argument("--train-sequences", type=int, help="use only the first N training sequences")
    p.add_argument("--eval-sequences", type=int, help="score only the first N validation sequences")
    p.add_argument("--print-every", type=int, default=100)
    p.add_argument("--save-every-minutes", type=float, default=1.0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 4, help="JPEG decoding threads")
    p.add_argument("--compile", action="store_true", help="torch.compile the forward (torch 2.x)")
    p.add_argument("--no-eval", action="store_true")
    p.add_argument("--no-export", action="store_true")
    args = p.parse_args(argv)
    if args.minutes is None and args.steps is None:
        p.error("give --minutes and/or --steps")
    fine_tune = args.init_checkpoint is not None
    if args.lr is None:
        args.lr = 4e-4 if fine_tune else 1e-3
    if args.warmup_steps is None:
        args.warmup_steps = 100 if fine_tune else 300
    for name in ("paste_prob", "template_first_prob"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            p.error(f"--{name.replace('_', '-')} must be in [0, 1]")
    if not 0.0 <= args.paste_min_nudge <= 0.12:
        p.error("--paste-min-nudge must be in [0, 0.12]")
    if args.lookalike_weight <= 0 or args.distractor_neg_weight <= 0:
        p.error("--lookalike-weight and --distractor-neg-weight must be positive")
    return args


def pair_settings(args) -> PairSettings:
    paste = PasteSettings(prob=args.paste_prob, min_nudge=args.paste_min_nudge) if args.paste_prob > 0 else None
    return PairSettings(max_gap=args.max_gap, crop_flip_prob=args.crop_flip,
                        lookalike_weight=args.lookalike_weight,
                        template_first_prob=args.template_first_prob, paste=paste)


def _previous_history(out_dir, step):
    """The progress lines of the runs this one resumes, up to the resumed step."""
    try:
        with open(os.path.join(out_dir, "train_log.json")) as f:
            return [e for e in json.load(f).get("history", []) if e.get("step", 0) <= step]
    except (OSError, ValueError):
        return []


def write_log(out_dir, log):
    path = os.path.join(out_dir, "train_log.json")
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(log, f, indent=1)
    os.replace(tmp, path)


def _evaluate(args, model, device, log) -> int:
    from smat.track_eval import evaluate
    try:
        m = evaluate(model, args.val_split, device, args.eval_sequences, args.workers)
    except Exception as exc:  # noqa: BLE001 - logged, and the exit status says so
        log["eval"] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"error: evaluation failed: {log['eval']['error']}", file=sys.stderr)
        return 4
    log["eval"] = m
    log["phases"]["eval_seconds"] = m["seconds"]
    print(f"val: {m['sequences']} sequences, {m['frames']} frames: AO {m['ao']:.4f}  "
          f"SR0.5 {m['sr50']:.4f}  SR0.75 {m['sr75']:.4f}  ({m['seconds']} s)", flush=True)
    return 0


def _export(args, log) -> int:
    from smat import export
    started = time.time()
    try:
        code = export.main(["--checkpoint", os.path.join(args.out_dir, ckpt.CHECKPOINT_NAME),
                            "--opset", "17", "--out-dir", args.out_dir])
        log["export"] = {"status": code}
    except Exception as exc:  # noqa: BLE001 - e.g. a torch without the TorchScript exporter
        code = 5
        log["export"] = {"status": code, "error": f"{type(exc).__name__}: {exc}"}
        print(f"error: export failed ({log['export']['error']}); export the checkpoint with "
              "python/smat/export.py --checkpoint on a machine with torch 1.13", file=sys.stderr)
    log["export"]["seconds"] = log["phases"]["export_seconds"] = round(time.time() - started, 1)
    return code


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    device = pick_device(args.device)
    amp_dtype = pick_amp(args.amp, device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    log = {"args": vars(args), "torch": torch.__version__, "device": str(device),
           "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
           "amp": str(amp_dtype), "history": [], "phases": {}}

    resume = ckpt.load_resume(args.out_dir) if args.resume else None
    progress = dict(resume["progress"]) if resume else {"step": 0, "train_seconds": 0.0,
                                                         "seed": args.seed, "batch": args.batch}
    if resume and (progress["seed"], progress["batch"]) != (args.seed, args.batch):
        print(f"note: resuming with the run's seed {progress['seed']} and batch {progress['batch']}")

    started = time.time()
    sequences = read_split(args.train_split, args.train_sequences)
    frames = load_frames(sequences, device, args.workers)
    sampler = PairSampler(sequences, pair_settings(args), progress["seed"])
    log["data"] = {"sequences": len(sequences), "frames": int(frames.shape[0]),
                   "sequences_with_look_alikes": sampler.lookalike_sequences,
                   "frame_size": [int(frames.shape[2]), int(frames.shape[1])],
                   "sequences_without_pairs": int(sampler.skipped)}
    log["phases"]["load_seconds"] = round(time.time() - started, 1)
    print(f"loaded {len(sequences)} sequences in {log['phases']['load_seconds']} s", flush=True)

    model = build_model(device, progress["seed"])
    optimizer = make_optimizer(model, args, device)
    scaler = make_scaler(amp_dtype)
    if args.init_checkpoint and not resume:
        from smat.checkpoint import read_state_dict
        model.load_state_dict(read_state_dict(args.init_checkpoint), strict=True)
        log["init_checkpoint"] = args.init_checkpoint
        print(f"initialised from {args.init_checkpoint}", flush=True)
    if resume:
        model.load_state_dict(resume["net"], strict=True)
        optimizer.load_state_dict(resume["optimizer"])
        if scaler is not None and resume.get("scaler"):
            scaler.load_state_dict(resume["scaler"])
        ckpt.restore_rng(resume)
        log["resumed_from_step"] = progress["step"]
        log["history"] = _previous_history(args.out_dir, progress["step"])
        print(f"resumed at step {progress['step']} ({progress['train_seconds']:.0f} s trained)", flush=True)

    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signum    # finish the step, save, then stop

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, on_signal)

    def save():
        ckpt.save_run(args.out_dir, model, optimizer, scaler, progress)
        write_log(args.out_dir, log)

    trainer = Trainer(model, optimizer, scaler, frames, sampler, progress["batch"], amp_dtype, args, device)
    try:
        log["final"] = trainer.run(progress, Schedule(args), log, stop, save)
    except NonFiniteLoss as exc:
        write_log(args.out_dir, log)
        print(f"error: {exc}; the last checkpoint is kept (resume with a lower --lr)", file=sys.stderr)
        return 3
    model.eval()
    save()
    log["phases"]["train_seconds"] = log["final"]["this_run_seconds"]
    print(f"trained to step {progress['step']} ({progress['train_seconds']:.0f} s in all); checkpoint "
          f"{os.path.join(args.out_dir, ckpt.CHECKPOINT_NAME)}", flush=True)
    trainer.frames = trainer.chunk = frames = None    # the evaluation needs the memory
    if device.type == "cuda":
        torch.cuda.empty_cache()

    # The checkpoint is on disk; a failure from here on is reported in the exit status, and the
    # export still runs after a failed evaluation.
    status = 0
    if args.val_split and not args.no_eval and stop["signal"] is None:
        status = _evaluate(args, model, device, log)
        write_log(args.out_dir, log)
    if not args.no_export and stop["signal"] is None:
        code = _export(args, log)
        status = status or code
    log["phases"]["total_seconds"] = round(time.time() - started, 1)
    write_log(args.out_dir, log)
    return status


if __name__ == "__main__":
    sys.exit(main())
