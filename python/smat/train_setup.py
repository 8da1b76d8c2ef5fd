"""Setting up a training run: device and precision, the frames in memory, the model, the
optimizer and the learning-rate schedule."""
import inspect
import math

import numpy as np
import torch

from .got10k_split import decode_blocks
from .model import SMAT


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def pick_amp(mode: str, device: torch.device):
    """The autocast dtype, or None for FP32. CUDA only: CPU autocast in torch 1.13 leaves
    GroupNorm's input in bf16 against FP32 weights and fails."""
    if mode == "off" or device.type != "cuda":
        if mode not in ("off", "auto"):
            print(f"note: --amp {mode} is for CUDA; training in FP32 on {device}")
        return None
    if mode == "fp16":
        return torch.float16
    if mode == "auto" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def load_frames(sequences, device, workers):
    """All frames, back to back, as one [N,H,W,3] uint8 tensor on `device`."""
    paths = [p for s in sequences for p in s.frames]
    frames = None
    for start, block in decode_blocks(paths, workers):
        if frames is None:
            shape = (len(paths),) + block.shape[1:]
            need = int(np.prod(shape))
            if device.type == "cuda":
                free = torch.cuda.mem_get_info(device)[0]
                if need > free - (16 << 30):
                    raise SystemExit(f"error: {len(paths)} frames need {need / 2**30:.1f} GiB on the GPU "
                                     f"and only {free / 2**30:.1f} GiB are free (16 GiB kept for training); "
                                     "use fewer frames (--train-sequences)")
            frames = torch.empty(shape, dtype=torch.uint8, device=device)
            print(f"frames: {len(paths)} of {shape[2]}x{shape[1]} ({need / 2**30:.1f} GiB on {device})",
                  flush=True)
        frames[start:start + len(block)] = torch.from_numpy(block).to(device)
    return frames


def build_model(device, seed):
    torch.manual_seed(seed)
    model = SMAT()
    with torch.no_grad():
        # Start the score map at a 1% prior (CenterNet's focal-loss initialisation) and the
        # size map near a quarter of the crop (a target in a factor-4 search crop), so the
        # first steps are not spent unlearning 0.5 everywhere.
        model.box_head.conv4_ctr.bias.fill_(-math.log(99.0))
        model.box_head.conv4_size.bias.fill_(math.log(0.25 / 0.75))
    return model.to(device).train()


def make_optimizer(model, args, device):
    kwargs = {"lr": args.lr, "weight_decay": args.weight_decay}
    if device.type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters:
        kwargs["fused"] = True   # one kernel for all parameters (torch 2.x)
    return torch.optim.AdamW(model.parameters(), **kwargs)


def make_scaler(amp_dtype):
    if amp_dtype != torch.float16:
        return None    # bf16 has FP32's range: no loss scaling
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


class Schedule:
    """Linear warm-up over steps, then cosine decay over the run's progress: the fraction of
    --steps done or of the --minutes budget spent, whichever is further, so the learning rate
    reaches its floor exactly when the budget ends, whatever the machine's speed."""

    def __init__(self, args):
        self.args = args
        self.warmup = args.warmup_steps
        if args.steps:
            self.warmup = min(self.warmup, max(1, args.steps // 10))

    def progress(self, step: int, seconds: float) -> float:
        p = 0.0
        if self.args.steps:
            p = max(p, step / self.args.steps)
        if self.args.minutes:
            p = max(p, seconds / (60.0 * self.args.minutes))
        return p

    def lr(self, step: int, progress: float) -> float:
        a = self.args
        cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        return a.lr * min(1.0, (step + 1) / self.warmup) * (a.final_lr_ratio + (1 - a.final_lr_ratio) * cosine)
