"""SMAT's training objective (OSTrack's CENTER head objective, which SMAT inherits):
focal loss on a Gaussian centre map, plus L1 (weight 5) and GIoU (weight 2) on a box decoded
from the size and offset maps.

Where the box is decoded: the official code decodes it at the arg-max of the predicted score
map (its forward passes no ground-truth map to the head). From random weights that arg-max is
noise for the first thousands of steps, so the regression maps would learn only at random
cells; decoding at the ground-truth centre cell (what the head does when given the ground-truth
map) trains them where the target is from step one. `box_at="both"` (the default) averages
the two, so the cells the tracker will actually read (the peak, also when it is one cell off)
are trained as well.
"""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

FOCAL_WEIGHT, L1_WEIGHT, GIOU_WEIGHT = 1.0, 5.0, 2.0
_MIN_OVERLAP = 0.7   # CenterNet's Gaussian radius parameter, as OSTrack's heat map uses


def _gaussian_radius(w: Tensor, h: Tensor) -> Tensor:
    """CornerNet's radius for boxes of w x h cells (min_overlap 0.7), in the form the
    OSTrack/SMAT heat map computes it: the larger root of each quadratic, halved."""
    o = _MIN_OVERLAP
    b1, c1 = w + h, w * h * (1 - o) / (1 + o)
    r1 = (b1 + torch.sqrt(b1 ** 2 - 4 * c1)) / 2
    b2, c2 = 2 * (w + h), (1 - o) * w * h
    r2 = (b2 + torch.sqrt(b2 ** 2 - 16 * c2)) / 2
    b3, c3 = -2 * o * (w + h), (o - 1) * w * h
    r3 = (b3 + torch.sqrt(b3 ** 2 - 16 * o * c3)) / 2
    return torch.minimum(r1, torch.minimum(r2, r3))


def centre_heatmap(gt: Tensor, feat: int) -> Tuple[Tensor, Tensor, Tensor]:
    """gt [B,4] (x, y, w, h in units of the search crop) -> heat map [B,1,feat,feat], and the
    centre cell (ix, iy) [B] int64 (rounded, halves to even, as torch.round).

    The map is 1 at the centre cell and exp(-d^2 / (2 sigma^2)) within a square of the
    integer radius around it (sigma = (2r + 1) / 6), 0 elsewhere."""
    box = gt * feat
    centre = torch.round(box[:, :2] + box[:, 2:] / 2)
    radius = torch.floor(_gaussian_radius(box[:, 2], box[:, 3]).clamp(min=0))
    sigma = (2 * radius + 1) / 6
    cells = torch.arange(feat, device=gt.device, dtype=gt.dtype)
    dx = cells[None, :] - centre[:, :1]          # [B,feat] along x
    dy = cells[None, :] - centre[:, 1:]          # [B,feat] along y
    inside_x = dx.abs() <= radius[:, None]
    inside_y = dy.abs() <= radius[:, None]
    d2 = dy[:, :, None] ** 2 + dx[:, None, :] ** 2
    heat = torch.exp(-d2 / (2 * sigma[:, None, None] ** 2))
    heat = heat * (inside_y[:, :, None] & inside_x[:, None, :]).to(heat.dtype)
    # The Gaussian kernel's cut-off: values below float64's epsilon (times its peak, 1) are 0.
    heat = torch.where(heat < 2.220446049250313e-16, torch.zeros_like(heat), heat)
    return heat[:, None], centre[:, 0].long(), centre[:, 1].long()


def focal_loss(pred: Tensor, target: Tensor, alpha: float = 2.0, beta: float = 4.0,
               neg_weight: Optional[Tensor] = None) -> Tensor:
    """CenterNet's penalty-reduced focal loss over the whole batch, normalised by the number
    of positive cells (target exactly 1). neg_weight (shaped like pred) scales the negative
    terms cell by cell, e.g. up on a pasted look-alike (train_distractors.py); None: 1."""
    pred = pred.clamp(min=1e-12)
    pos = target.eq(1).to(pred.dtype)
    neg = target.lt(1).to(pred.dtype)
    if neg_weight is not None:
        neg = neg * neg_weight
    pos_loss = (torch.log(pred) * (1 - pred) ** alpha * pos).sum()
    neg_loss = (torch.log(1 - pred) * pred ** alpha * (1 - target) ** beta * neg).sum()
    num_pos = pos.sum()
    return -(pos_loss + neg_loss) / num_pos.clamp(min=1)


def boxes_at(size_map: Tensor, offset_map: Tensor, ix: Tensor, iy: Tensor) -> Tensor:
    """(cx, cy, w, h) in units of the crop read at cell (ix, iy) [B]: cx = (ix + offset_x) / feat."""
    feat = size_map.shape[-1]
    ix, iy = ix.clamp(0, feat - 1), iy.clamp(0, feat - 1)
    idx = (iy * feat + ix)[:, None, None].expand(-1, 2, 1)
    size = size_map.flatten(2).gather(2, idx).squeeze(-1)
    offset = offset_map.flatten(2).gather(2, idx).squeeze(-1)
    centre = (torch.stack([ix, iy], dim=1).to(size.dtype) + offset) / feat
    return torch.cat([centre, size], dim=1)


def _xyxy_from_cxcywh(b: Tensor) -> Tensor:
    return torch.cat([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], dim=1)


def giou(a: Tensor, b: Tensor) -> Tuple[Tensor, Tensor]:
    """Generalised IoU and IoU of xyxy boxes [B,4]."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt, rb = torch.max(a[:, :2], b[:, :2]), torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=1)
    union = area_a + area_b - inter
    iou = inter / union.clamp(min=1e-12)
    enclose = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(dim=1)
    return iou - (enclose - union) / enclose.clamp(min=1e-12), iou


def smat_loss(score_map: Tensor, size_map: Tensor, offset_map: Tensor, gt: Tensor,
              box_at: str = "both", neg_weight: Optional[Tensor] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
    """Total loss and its parts (detached, for logging). Maps in float32; gt [B,4] x,y,w,h;
    neg_weight [B,1,feat,feat] or None: focal_loss's weights on the negative cells."""
    feat = score_map.shape[-1]
    heat, cx, cy = centre_heatmap(gt, feat)
    focal = focal_loss(score_map, heat, neg_weight=neg_weight)
    # Official: gt boxes as x1y1x2y2 clamped to the crop.
    gt_xyxy = torch.cat([gt[:, :2], gt[:, :2] + gt[:, 2:]], dim=1).clamp(0.0, 1.0)

    cells = []
    if box_at in ("gt", "both"):
        cells.append((cx, cy))
    if box_at in ("peak", "both"):
        peak = score_map.detach().flatten(1).argmax(dim=1)
        cells.append((peak % feat, peak // feat))
    l1 = giou_loss = iou_mean = 0.0
    for ix, iy in cells:
        pred = _xyxy_from_cxcywh(boxes_at(size_map, offset_map, ix, iy))
        g, iou = giou(pred, gt_xyxy)
        l1 = l1 + (pred - gt_xyxy).abs().mean() / len(cells)
        giou_loss = giou_loss + (1 - g).mean() / len(cells)
        iou_mean = iou_mean + iou.detach().mean() / len(cells)
    total = FOCAL_WEIGHT * focal + L1_WEIGHT * l1 + GIOU_WEIGHT * giou_loss
    parts = {"loss": total.detach(), "focal": focal.detach(), "l1": l1.detach(),
             "giou": giou_loss.detach(), "iou": iou_mean}
    return total, parts
