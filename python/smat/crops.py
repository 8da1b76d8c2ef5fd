"""Batched square crops exactly as the Kestrel tracker (src/tracker/crop.cpp) cuts them.

Training cuts its template/search crops with the same function that the evaluation loop uses,
so the network is trained on the pixels it will see in deployment: side ceil(sqrt(w*h)*factor),
centred on the box (Python's round, halves to even), zero outside the image, the official
quirk that the last image column/row is zero once the square reaches the right/bottom edge,
and OpenCV's INTER_LINEAR sample positions (half-pixel centres, position in float32, edge
samples repeated), interpolated in float32. All samples of a batch are cut at once with four
gathers, on whatever device holds the frames.
"""
from typing import Tuple

import numpy as np
import torch
from torch import Tensor


def crop_windows(boxes: np.ndarray, factor: float, out_size: int) -> Tuple[np.ndarray, ...]:
    """boxes [B,4] (x, y, w, h) in float64 -> (x1, y1, side) int64 and resize_factor float64.

    The caller keeps boxes with area (the tracker clips to at least 10 px; training uses
    frames where the target shows), so side >= 1."""
    boxes = np.asarray(boxes, dtype=np.float64)
    side = np.ceil(np.sqrt(boxes[:, 2] * boxes[:, 3]) * factor)
    if not np.all(np.isfinite(side) & (side >= 1)):
        raise ValueError("a box is too small to crop (side below one pixel)")
    # np.rint rounds halves to even, as Python's round() and the tracker's nearbyint do.
    x1 = np.rint(boxes[:, 0] + 0.5 * boxes[:, 2] - side * 0.5)
    y1 = np.rint(boxes[:, 1] + 0.5 * boxes[:, 3] - side * 0.5)
    return x1.astype(np.int64), y1.astype(np.int64), side.astype(np.int64), out_size / side


def _axis_taps(start: Tensor, size: Tensor, extent: int, out_size: int):
    """Per sample and output coordinate: the two image coordinates sampled (clamped into the
    image), whether each is a real pixel (False: zero padding) and the second one's weight."""
    o = torch.arange(out_size, dtype=torch.float64, device=start.device)
    scale = size.to(torch.float64)[:, None] / out_size
    f = ((o[None, :] + 0.5) * scale - 0.5).to(torch.float32)   # OpenCV's float32 position
    s = torch.floor(f)
    f = f - s
    s = s.to(torch.int64)
    last = (size - 1)[:, None]
    low, high = s < 0, s >= last
    s = torch.where(low, torch.zeros_like(s), s)
    s = torch.where(high, last.expand_as(s), s)
    f = torch.where(low | high, torch.zeros_like(f), f)
    s1 = torch.minimum(s + 1, last)

    end = start + size
    end_valid = torch.minimum(end, torch.full_like(end, extent - 1))[:, None]
    c0, c1 = start[:, None] + s, start[:, None] + s1
    valid0 = (c0 >= 0) & (c0 < end_valid)
    valid1 = (c1 >= 0) & (c1 < end_valid)
    return c0.clamp(0, extent - 1), valid0, c1.clamp(0, extent - 1), valid1, f


def crop_batch(frames: Tensor, frame_idx: Tensor, x1: Tensor, y1: Tensor, side: Tensor,
               out_size: int) -> Tensor:
    """frames [N,H,W,3] uint8 (RGB); frame_idx, x1, y1, side [B] int64 on frames' device.
    Returns [B,3,out,out] float32 in [0,1] (mean 0, std 1: the tracker's only normalisation)."""
    n, height, width, _ = frames.shape
    x0, vx0, x1_, vx1, wx = _axis_taps(x1, side, width, out_size)
    y0, vy0, y1_, vy1, wy = _axis_taps(y1, side, height, out_size)
    flat = frames.reshape(n * height * width, 3)
    base = frame_idx.to(torch.int64)[:, None, None] * (height * width)

    def sample(ys, vy, xs, vx):
        idx = base + ys[:, :, None] * width + xs[:, None, :]
        pix = flat[idx.reshape(-1)].reshape(idx.shape + (3,)).to(torch.float32)
        return pix * (vy[:, :, None] & vx[:, None, :]).unsqueeze(-1).to(torch.float32)

    wx = wx[:, None, :, None]
    wy = wy[:, :, None, None]
    # Horizontal first, then vertical, as OpenCV (and the tracker) interpolate.
    top = sample(y0, vy0, x0, vx0) * (1 - wx) + sample(y0, vy0, x1_, vx1) * wx
    bottom = sample(y1_, vy1, x0, vx0) * (1 - wx) + sample(y1_, vy1, x1_, vx1) * wx
    out = (top * (1 - wy) + bottom * wy) * (1.0 / 255.0)  # the scalar rounds to float32
    return out.permute(0, 3, 1, 2).contiguous()
