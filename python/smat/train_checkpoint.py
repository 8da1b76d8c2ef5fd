"""Training checkpoints: the exportable weights in the official layout, and a resume file.

checkpoint.pth.tar is what the official trainer writes, reduced to what deployment needs: a
dict whose 'net' is the FP32 state dict (torch.load(path)['net'] loads strictly into the
official model, into ours, and export.py --checkpoint takes it), plus a few plain numbers
about the run. It stays near 15 MB. The optimizer moments (twice the weights again) go to
resume.pth, which --resume reads and export never needs. Both are written atomically (temp
file, fsync, rename), so a run killed mid-save leaves the previous pair intact.
"""
import os
from typing import Dict

import torch

CHECKPOINT_NAME = "checkpoint.pth.tar"
RESUME_NAME = "resume.pth"


def save_atomically(obj, path: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def fp32_state(model: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """The state dict on the CPU; floating entries as FP32 (integer BN counters stay int64)."""
    return {k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu().clone()
            for k, v in model.state_dict().items()}


def save_run(out_dir: str, model, optimizer, scaler, progress: Dict[str, object]) -> None:
    """Writes resume.pth first, then checkpoint.pth.tar; both hold the same step."""
    net = fp32_state(model)
    resume = {
        "net": net,
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "progress": dict(progress),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }
    save_atomically(resume, os.path.join(out_dir, RESUME_NAME))
    checkpoint = {"net": net, "epoch": int(progress["step"]), "net_type": "SMAT (MobileViTv2-1.0)",
                  "kestrel_training": {k: v for k, v in progress.items()
                                       if isinstance(v, (int, float, str, bool))}}
    save_atomically(checkpoint, os.path.join(out_dir, CHECKPOINT_NAME))


def load_resume(out_dir: str) -> Dict[str, object]:
    path = os.path.join(out_dir, RESUME_NAME)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: nothing to resume (run without --resume first)")
    return torch.load(path, map_location="cpu", weights_only=False)


def restore_rng(state: Dict[str, object]) -> None:
    torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        try:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        except RuntimeError:
            pass  # a different number of GPUs: the batches do not depend on these generators
