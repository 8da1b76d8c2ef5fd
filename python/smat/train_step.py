"""One training step's tensors: crops cut and augmented on the device that holds the frames,
and the forward pass that gives the maps the loss needs."""
import contextlib
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .crops import crop_batch
from .model import SMAT
from .train_distractors import negative_weights, paste_copies
from .train_pairs import SEARCH_SIZE, TEMPLATE_SIZE

# ITU-R 601 luma, OpenCV's RGB2GRAY (what the official ToGrayscale uses).
_LUMA = (0.299, 0.587, 0.114)


def _augment(crops: Tensor, gray: Tensor, flip: Tensor, brightness: Tensor) -> Tensor:
    """Grayscale (kept as 3 equal channels), brightness factor clamped to [0,1] (the
    official ToTensorAndJitter; zero padding stays zero), horizontal flip."""
    luma = crops[:, 0] * _LUMA[0] + crops[:, 1] * _LUMA[1] + crops[:, 2] * _LUMA[2]
    crops = torch.where(gray[:, None, None, None], luma[:, None].expand_as(crops), crops)
    crops = (crops * brightness[:, None, None, None]).clamp(0.0, 1.0)
    return torch.where(flip[:, None, None, None], crops.flip(-1), crops)


def make_batch(frames: Tensor, chunk: Dict[str, Tensor], rows: slice, negative_weight: float = 1.0,
               feat: int = 16) -> Tuple[Tensor, Tensor, Tensor, Optional[Tensor]]:
    """template [B,3,128,128], search [B,3,256,256] (float32 in [0,1]), gt [B,4] and the focal
    loss's negative weights [B,1,feat,feat] (None: all 1) for the rows of a chunk of pair
    parameters already on the frames' device. Pasted look-alikes (train_distractors.py) go
    into the search crop as it is cut, before the colour augmentation and the flip."""
    c = {k: v[rows] for k, v in chunk.items()}
    template = crop_batch(frames, c["t_frame"], c["t_x1"], c["t_y1"], c["t_side"], TEMPLATE_SIZE)
    search = crop_batch(frames, c["s_frame"], c["s_x1"], c["s_y1"], c["s_side"], SEARCH_SIZE)
    weights = None
    if "paste" in c:
        gt = c["gt"]
        unflipped = torch.cat([torch.where(c["flip_s"][:, None], 1 - gt[:, :1] - gt[:, 2:3], gt[:, :1]), gt[:, 1:]], 1)
        search = paste_copies(search, unflipped, c)
        if negative_weight != 1.0:
            weights = negative_weights(c, gt, c["flip_s"], feat, negative_weight)
    template = _augment(template, c["gray"], c["flip_t"], c["bright_t"])
    search = _augment(search, c["gray"], c["flip_s"], c["bright_s"])
    return template, search, c["gt"], weights


def autocast_context(device: torch.device, dtype):
    """torch.autocast for the given dtype, or nothing (dtype None: plain FP32)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def forward_maps(model: SMAT, template: Tensor, search: Tensor, amp_dtype) -> Tuple[Tensor, Tensor, Tensor]:
    """score_map [B,1,16,16], size_map and offset_map [B,2,16,16], in float32.

    The same computation as SMAT.forward on (encode_template(template), search), but the box
    head runs in FP32 outside autocast: its clamped sigmoid is 1 - 1e-4 at most, which bf16
    rounds to 1.0, and log(1 - p) in the focal loss would then be -inf."""
    device = search.device
    with autocast_context(device, amp_dtype):
        z = model.encode_template(template)
        x, z = model.backbone(search, z)
        x, z = model.neck(x, z)
        fused = model.feature_fusor(z, x)
    with torch.autocast(device_type=device.type, enabled=False):
        _, score, size, offset = model.box_head(fused.float())
    return score, size, offset
