"""The CENTER_SSAT box head and the in-graph box decode."""
from typing import Tuple

import torch
from torch import Tensor, nn

from .attention import PatchFolding, attention_stack
from .layers import ConvLayer, conv_bn_relu


def _clamped_sigmoid(x: Tensor) -> Tensor:
    # The clamp keeps the focal loss finite in training; inference keeps it for parity.
    return torch.clamp(torch.sigmoid(x), min=1e-4, max=1 - 1e-4)


def decode_boxes(score_map: Tensor, size_map: Tensor, offset_map: Tensor, feat_sz: int) -> Tensor:
    """Box (cx, cy, w, h) in units of the search crop at the score map's arg-max cell.

    score_map [B,1,S,S], size_map and offset_map [B,2,S,S] -> [B,4]. Written with the same
    tensor ops as the official code (arg-max, integer Div/Mod, Expand + GatherElements) so
    the exported graph has the official op mix. ``feat_sz`` is a Python int (not read
    from the tensor) so it stays a constant in the graph.
    """
    _, idx = torch.max(score_map.flatten(1), dim=1, keepdim=True)   # [B,1] flat index
    idx_y = idx // feat_sz
    idx_x = idx % feat_sz

    gather_idx = idx.unsqueeze(1).expand(idx.shape[0], 2, 1)        # [B,2,1]
    size = size_map.flatten(2).gather(dim=2, index=gather_idx)
    offset = offset_map.flatten(2).gather(dim=2, index=gather_idx).squeeze(-1)

    return torch.cat([(idx_x.to(torch.float) + offset[:, :1]) / feat_sz,
                      (idx_y.to(torch.float) + offset[:, 1:]) / feat_sz,
                      size.squeeze(-1)], dim=1)


class SSATCenterHead(nn.Module):
    """Classification and regression branches, each a 3x3 conv and a stack of separable
    self-attention units over all 16x16 positions (1x1 patches), then conv towers for the
    score (from classification) and size and offset maps (from regression)."""

    def __init__(self, channels: int = 128, cls_blocks: int = 2, reg_blocks: int = 4,
                 feat_sz: int = 16) -> None:
        super().__init__()
        self.feat_sz = feat_sz
        self.pre_ssat_cls = ConvLayer(channels, channels, 3)
        self.pre_ssat_reg = ConvLayer(channels, channels, 3)
        self.global_rep_cls = attention_stack(channels, 2 * channels, cls_blocks)
        self.global_rep_reg = attention_stack(channels, 2 * channels, reg_blocks)

        c = channels
        self.conv1_ctr, self.conv2_ctr, self.conv3_ctr = self._tower(c)
        self.conv4_ctr = nn.Conv2d(c // 4, 1, 1)
        self.conv1_offset, self.conv2_offset, self.conv3_offset = self._tower(c)
        self.conv4_offset = nn.Conv2d(c // 4, 2, 1)
        self.conv1_size, self.conv2_size, self.conv3_size = self._tower(c)
        self.conv4_size = nn.Conv2d(c // 4, 2, 1)

        # 1x1 patches: (un)folding only reshapes, but the official export keeps the
        # conv / DepthToSpace pair, and so do we.
        self.folding = PatchFolding(channels, patch=1)

    @staticmethod
    def _tower(c: int) -> Tuple[nn.Module, nn.Module, nn.Module]:
        return conv_bn_relu(c, c), conv_bn_relu(c, c // 2), conv_bn_relu(c // 2, c // 4)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """x [B,128,16,16] -> boxes [B,4], score [B,1,16,16], size [B,2,16,16], offset [B,2,16,16]."""
        x_cls = self.pre_ssat_cls(x)
        x_reg = self.pre_ssat_reg(x)
        h, w = x.shape[2], x.shape[3]
        # Branches interleaved step by step as in the official code, so the exported
        # graph lists its nodes in the same order.
        patches_cls = self.folding.unfold(x_cls)
        patches_reg = self.folding.unfold(x_reg)
        patches_cls = self.global_rep_cls(patches_cls)
        patches_reg = self.global_rep_reg(patches_reg)
        x_cls = self.folding.fold(patches_cls, h, w)
        x_reg = self.folding.fold(patches_reg, h, w)

        score = self.conv4_ctr(self.conv3_ctr(self.conv2_ctr(self.conv1_ctr(x_cls))))
        offset = self.conv4_offset(self.conv3_offset(self.conv2_offset(self.conv1_offset(x_reg))))
        size = self.conv4_size(self.conv3_size(self.conv2_size(self.conv1_size(x_reg))))

        score = _clamped_sigmoid(score)
        size = _clamped_sigmoid(size)
        return decode_boxes(score, size, offset, self.feat_sz), score, size, offset
