"""SMAT tracker model (MobileViTv2-1.0 backbone, BN_PWXCORR neck, CENTER_SSAT head).

``build_smat()`` returns a module whose state dict has exactly the layout of an official
checkpoint (``torch.load(path)['net']``), so such a checkpoint loads with strict=True.
TemplateEncoder and TrackingNetwork are the two networks deployment exports; they share
the SMAT instance's weights.
"""
from typing import Tuple

from torch import Tensor, nn

from .backbone import MobileViTv2Backbone
from .head import SSATCenterHead
from .neck import BNAdjust, FeatureFusor

TEMPLATE_SIZE = 128
SEARCH_SIZE = 256
STRIDE = 16                      # search pixels per score-map cell
FEAT_SZ = SEARCH_SIZE // STRIDE  # 16x16 score map

TrackOutputs = Tuple[Tensor, Tensor, Tensor, Tensor]


class SMAT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = MobileViTv2Backbone()
        self.neck = BNAdjust(384)
        # 8x8 template positions correlate with the search map: 64 channels, adjusted to 128.
        self.feature_fusor = FeatureFusor(template_positions=64, out_channels=128)
        self.box_head = SSATCenterHead(channels=128, feat_sz=FEAT_SZ)

    def encode_template(self, template: Tensor) -> Tensor:
        """[B,3,128,128] template crop -> [B,128,32,32] features, computed once per sequence."""
        return self.backbone.stem(template)

    def forward(self, z: Tensor, x: Tensor) -> TrackOutputs:
        """z: template features [B,128,32,32]; x: search crop [B,3,256,256].

        Returns pred_boxes [B,1,4] (cx, cy, w, h in units of the search crop, decoded at
        the raw score map's arg-max), score_map [B,1,16,16], size_map [B,2,16,16] and
        offset_map [B,2,16,16].
        """
        x, z = self.backbone(x, z)
        x, z = self.neck(x, z)
        fused = self.feature_fusor(z, x)
        boxes, score_map, size_map, offset_map = self.box_head(fused)
        pred_boxes = boxes.view(fused.shape[0], 1, 4)
        return pred_boxes, score_map, size_map, offset_map


def build_smat() -> SMAT:
    """A SMAT model in eval mode (BatchNorm uses running statistics), untrained weights."""
    return SMAT().eval()


# The wrappers take SMAT's submodules under the same attribute names (rather than holding
# the SMAT instance), so exported initializers keep the checkpoint's names, e.g.
# "box_head.conv4_ctr.weight", as in the official export.

class TemplateEncoder(nn.Module):
    """Export wrapper: ``template`` [B,3,128,128] -> ``z`` [B,128,32,32]."""

    def __init__(self, smat: SMAT) -> None:
        super().__init__()
        self.backbone = smat.backbone

    def forward(self, template: Tensor) -> Tensor:
        return self.backbone.stem(template)


class TrackingNetwork(nn.Module):
    """Export wrapper: (``z`` [B,128,32,32], ``x`` [B,3,256,256]) ->
    (pred_boxes, score_map, size_map, offset_map)."""

    def __init__(self, smat: SMAT) -> None:
        super().__init__()
        self.backbone = smat.backbone
        self.neck = smat.neck
        self.feature_fusor = smat.feature_fusor
        self.box_head = smat.box_head

    def forward(self, z: Tensor, x: Tensor) -> TrackOutputs:
        # SMAT.forward only touches the four submodules this wrapper also has.
        return SMAT.forward(self, z, x)
