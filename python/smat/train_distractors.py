"""Synthetic look-alike distractors for training: a copy of the target, pasted into its own
search crop with nudged colours and size, that the network must learn to score as background.

Why: the trained tracker fails where `kestrel synth` puts a look-alike near the target (the
target's outline and pattern, each colour channel moved by up to +-12%, size x0.75..1.3,
docs/synth.md). The generator does not label where its distractors are, and in the official
pair sampling a look-alike is inside the search crop in only a small share of the pairs, so the
network rarely has to compare the candidates with the template closely. Pasting a copy makes
every such pair a hard negative whose place is known: the centre map (the label) stays on the
true target, and the focal loss can weigh the copy's cells more (`negative_weights`).

The copy matches the generator's look-alikes: the search crop's own target pixels (so the
copy has the target's pattern, shading and blur), scaled by U(0.75, 1.3), every channel moved
additively by a nudge whose largest channel is U(min_nudge, 0.12) (a copy below a few percent
cannot be told apart from the target by anyone, and training on it would only flatten the
target's score), cut out with a feathered super-ellipse (exponent 2..6: ellipse to rounded
rectangle) so its edge is a shape's edge, not the box's, and drawn either in front of or behind
the target. Its centre is at least `min_distance` target boxes (per axis, normalised) away from
the target's, so the target's centre cell always shows the target.

The parameters are drawn in numpy with the pair parameters (a function of seed and step), the
pasting runs batched on the crops' device with one grid_sample.
"""
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class PasteSettings:
    prob: float = 0.8           # pairs drawn for a copy (some find no room: about 30% of all get one)
    min_scale: float = 0.75     # size of the copy relative to the target (the generator's range)
    max_scale: float = 1.3
    min_nudge: float = 0.03     # largest per-channel colour change of the copy, U(min, max)
    max_nudge: float = 0.12
    min_distance: float = 0.8   # centre distance from the target, in target boxes (ellipse norm)
    max_distance: float = 2.0
    behind_prob: float = 0.5    # the copy is drawn behind the target (the target stays on top)
    feather: float = 0.12       # soft edge width, as a fraction of the copy's half-size


def _superellipse_alpha(u: Tensor, v: Tensor, exponent: Tensor, feather: float) -> Tensor:
    """1 inside |u|^p + |v|^p <= 1 (coordinates in half-sizes), falling linearly to 0 over
    `feather` of the radius: a soft-edged ellipse (p 2) to rounded rectangle (p 6)."""
    p = exponent[:, None, None]
    r = (u.abs().clamp(min=1e-6) ** p + v.abs().clamp(min=1e-6) ** p) ** (1.0 / p)
    return ((1.0 - r) / feather + 1.0).clamp(0.0, 1.0)


def sample_paste(rng: np.random.Generator, gt: np.ndarray, settings: PasteSettings,
                 image: Optional[np.ndarray] = None, candidates: int = 8) -> Dict[str, np.ndarray]:
    """Paste parameters for pairs whose target lies at gt [n,4] (x, y, w, h in units of the
    unflipped search crop). image [n,4] (x1, y1, x2, y2, same units), where given, is the part
    of the crop that holds image pixels: a copy is placed wholly inside it, never over the zero
    padding (no look-alike of the data floats outside the frame). Pairs whose target is not
    wholly inside the crop (nothing clean to copy) or where none of the candidate places fits
    get no copy."""
    n = len(gt)
    st = settings
    w, h = gt[:, 2], gt[:, 3]
    cx, cy = gt[:, 0] + w / 2, gt[:, 1] + h / 2
    source_inside = (gt[:, 0] >= 0) & (gt[:, 1] >= 0) & (gt[:, 0] + w <= 1) & (gt[:, 1] + h <= 1)
    on = (rng.random(n) < st.prob) & source_inside

    # A few candidate places per pair (a distance in target boxes along a random direction);
    # the first whose box lies inside the crop and the image is taken.
    scale = rng.uniform(st.min_scale, st.max_scale, n)
    dist = rng.uniform(st.min_distance, st.max_distance, (n, candidates))
    angle = rng.uniform(0, 2 * np.pi, (n, candidates))
    px = cx[:, None] + dist * np.cos(angle) * w[:, None]
    py = cy[:, None] + dist * np.sin(angle) * h[:, None]
    hw, hh = (0.5 * scale * w)[:, None], (0.5 * scale * h)[:, None]
    area = np.zeros((n, 4)) + [0.0, 0.0, 1.0, 1.0]
    if image is not None:
        area = np.concatenate([np.maximum(area[:, :2], image[:, :2]), np.minimum(area[:, 2:], image[:, 2:])], 1)
    fits = ((px - hw >= area[:, :1]) & (px + hw <= area[:, 2:3])
            & (py - hh >= area[:, 1:2]) & (py + hh <= area[:, 3:4]))
    first = np.argmax(fits, axis=1)
    on &= fits[np.arange(n), first]
    px, py = px[np.arange(n), first], py[np.arange(n), first]

    # Colour nudge: a random direction whose largest channel is the drawn amount.
    direction = rng.uniform(-1, 1, (n, 3))
    direction /= np.maximum(np.abs(direction).max(axis=1, keepdims=True), 1e-6)
    nudge = direction * rng.uniform(st.min_nudge, st.max_nudge, n)[:, None]
    return {
        "paste": on,
        "paste_cx": px.astype(np.float32), "paste_cy": py.astype(np.float32),
        "paste_scale": scale.astype(np.float32),
        "paste_nudge": nudge.astype(np.float32),
        "paste_shape": rng.uniform(2.0, 6.0, n).astype(np.float32),
        "paste_behind": rng.random(n) < st.behind_prob,
    }


def paste_copies(search: Tensor, gt: Tensor, c: Dict[str, Tensor], feather: float = 0.12) -> Tensor:
    """search [B,3,S,S] in [0,1] with the copies of c (rows of sample_paste's arrays, on the
    crops' device) pasted where c['paste']; gt [B,4] is the target in the same (unflipped)
    crop. The target's pixels, and therefore the label, are unchanged where it is in front."""
    b, _, size, _ = search.shape
    dtype = search.dtype
    coords = (torch.arange(size, device=search.device, dtype=dtype) + 0.5) / size
    half_w, half_h = gt[:, 2] / 2, gt[:, 3] / 2
    cx, cy = gt[:, 0] + half_w, gt[:, 1] + half_h
    scale = c["paste_scale"]
    # Output pixel -> coordinates in the copy's half-sizes -> the source pixel in the target.
    u = (coords[None, None, :] - c["paste_cx"][:, None, None]) / (scale * half_w)[:, None, None]
    v = (coords[None, :, None] - c["paste_cy"][:, None, None]) / (scale * half_h)[:, None, None]
    u, v = u.expand(b, size, size), v.expand(b, size, size)
    sx = cx[:, None, None] + u * half_w[:, None, None]
    sy = cy[:, None, None] + v * half_h[:, None, None]
    grid = torch.stack([2 * sx - 1, 2 * sy - 1], dim=-1)     # align_corners=False: crop edges at +-1
    copy = F.grid_sample(search, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    copy = (copy + c["paste_nudge"][:, :, None, None]).clamp(0.0, 1.0)

    alpha = _superellipse_alpha(u, v, c["paste_shape"], feather)
    # Behind: the target's own silhouette (same shape family, its own box) stays on top.
    tu = (coords[None, None, :] - cx[:, None, None]) / half_w[:, None, None]
    tv = (coords[None, :, None] - cy[:, None, None]) / half_h[:, None, None]
    target = _superellipse_alpha(tu.expand(b, size, size), tv.expand(b, size, size),
                                 c["paste_shape"], feather)
    alpha = torch.where(c["paste_behind"][:, None, None], alpha * (1 - target), alpha)
    alpha = (alpha * c["paste"][:, None, None].to(dtype))[:, None]
    return search * (1 - alpha) + copy * alpha


def negative_weights(c: Dict[str, Tensor], gt_flipped: Tensor, flip: Tensor, feat: int,
                     weight: float) -> Tensor:
    """[B,1,feat,feat] weights for the focal loss's negative terms: `weight` on the cells whose
    position (cell index / feat, as the centre map is laid out) lies inside a pasted copy's box,
    1 elsewhere. The copy's centre is flipped with the crop (flip [B]) so the weights sit on
    the copy in the crop the network sees; gt_flipped gives the target's size."""
    b = gt_flipped.shape[0]
    cells = torch.arange(feat, device=gt_flipped.device, dtype=gt_flipped.dtype) / feat
    px = torch.where(flip, 1 - c["paste_cx"], c["paste_cx"])
    half_w = gt_flipped[:, 2] * c["paste_scale"] / 2
    half_h = gt_flipped[:, 3] * c["paste_scale"] / 2
    inside_x = (cells[None, :] - px[:, None]).abs() <= half_w[:, None]
    inside_y = (cells[None, :] - c["paste_cy"][:, None]).abs() <= half_h[:, None]
    inside = inside_y[:, :, None] & inside_x[:, None, :] & c["paste"][:, None, None]
    return (1 + (weight - 1) * inside.to(gt_flipped.dtype)).reshape(b, 1, feat, feat)
