"""Loading official SMAT checkpoints and checking their layout against our model."""
import contextlib
import os
import pickle
from typing import Dict, List

import torch
from torch import nn


class CheckpointError(Exception):
    """A checkpoint that cannot be read or does not fit the SMAT layout."""


class _Placeholder:
    """Stands in for classes we cannot import while unpickling (see _TolerantUnpickler)."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        self.__dict__["_state"] = state


class _TolerantUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return type(name, (_Placeholder,), {"__module__": module})


@contextlib.contextmanager
def _tolerant_unpickling():
    """Official training checkpoints also pickle the trainer's settings and statistics,
    whose classes live in the official repository's `lib` package. We only need 'net', so
    while this is active unknown classes unpickle as placeholders instead of failing.

    torch.load's pickle_module argument would be the tidy way, but torch 1.13.0 ignores it
    (it always uses the pickle module), so pickle.Unpickler is swapped for the duration.
    """
    original = pickle.Unpickler
    pickle.Unpickler = _TolerantUnpickler
    try:
        yield
    finally:
        pickle.Unpickler = original


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The 'net' state dict of a checkpoint file (a bare state dict is accepted too)."""
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint not found: {path}")
    if os.path.isdir(path):
        raise CheckpointError(f"checkpoint path is a directory: {path}")
    try:
        with _tolerant_unpickling():
            ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise CheckpointError(f"cannot read checkpoint {path} (not a PyTorch checkpoint?): "
                              f"{type(exc).__name__}: {exc}") from None
    if isinstance(ckpt, dict) and "net" in ckpt:
        ckpt = ckpt["net"]
    if not isinstance(ckpt, dict) or not all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise CheckpointError(f"{path} holds no state dict (expected a dict with a 'net' entry)")
    return ckpt


def layout_problems(model: nn.Module, state: Dict[str, torch.Tensor]) -> List[str]:
    """Human-readable differences between ``state`` and the model's state dict layout."""
    own = model.state_dict()
    problems = [f"missing: {k}" for k in own if k not in state]
    problems += [f"unexpected: {k}" for k in state if k not in own]
    for k, v in state.items():
        if k in own and (tuple(v.shape) != tuple(own[k].shape) or v.dtype != own[k].dtype):
            problems.append(f"mismatch: {k} is {list(v.shape)} {v.dtype}, "
                            f"expected {list(own[k].shape)} {own[k].dtype}")
    return problems


def load_checkpoint(model: nn.Module, path: str) -> None:
    """Loads an official checkpoint into ``model`` (strictly), or raises CheckpointError."""
    state = read_state_dict(path)
    problems = layout_problems(model, state)
    if problems:
        counts = {kind: sum(p.startswith(kind) for p in problems)
                  for kind in ("missing", "unexpected", "mismatch")}
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise CheckpointError(
            f"{path} does not match the SMAT layout ({counts['missing']} missing, "
            f"{counts['unexpected']} unexpected, {counts['mismatch']} mismatched entries):"
            f"\n  {shown}{more}")
    model.load_state_dict(state, strict=True)
