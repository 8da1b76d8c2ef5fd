"""SMAT's MobileViTv2 backbone (width multiplier 1.0) with separable mixed attention.

conv_1, layer_1 and layer_2 are plain convolutions applied to the search image only; the
template goes through them once, at initialisation (see TemplateEncoder in model.py).
layer_3 and layer_4 each downsample both streams with a shared inverted residual and then
run a MixedAttentionBlock, where template and search tokens attend to each other.
"""
from typing import Tuple

import torch
from torch import Tensor, nn

from .attention import PatchFolding, attention_stack
from .layers import ConvLayer, InvertedResidual


class MixedAttentionBlock(nn.Module):
    """MobileViTv2 block over a search map x and a template map z with shared weights.

    Local features (depthwise 3x3 + 1x1 to the attention width) are unfolded into 2x2
    patches; the search and template patches are concatenated along the token axis so the
    attention stack mixes them, then split, folded back and projected to ``channels``.
    """

    def __init__(self, channels: int, attn_dim: int, n_blocks: int, patch: int = 2) -> None:
        super().__init__()
        self.local_rep = nn.Sequential(
            ConvLayer(channels, channels, 3, groups=channels),
            ConvLayer(channels, attn_dim, 1, use_norm=False, use_act=False),
        )
        self.global_rep = attention_stack(attn_dim, 2 * attn_dim, n_blocks)
        self.conv_proj = ConvLayer(attn_dim, channels, 1, use_act=False)
        self.folding = PatchFolding(attn_dim, patch)

    def forward(self, x: Tensor, z: Tensor) -> Tuple[Tensor, Tensor]:
        fm_x = self.local_rep(x)
        fm_z = self.local_rep(z)
        patches_x = self.folding.unfold(fm_x)
        patches_z = self.folding.unfold(fm_z)

        n_x = patches_x.shape[3]
        tokens = torch.cat((patches_x, patches_z), dim=3)
        tokens = self.global_rep(tokens)
        patches_x = tokens[:, :, :, :n_x]
        patches_z = tokens[:, :, :, n_x:]

        fm_x = self.folding.fold(patches_x, fm_x.shape[2], fm_x.shape[3])
        fm_z = self.folding.fold(patches_z, fm_z.shape[2], fm_z.shape[3])
        return self.conv_proj(fm_x), self.conv_proj(fm_z)


class MobileViTv2Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv_1 = ConvLayer(3, 32, 3, stride=2)
        self.layer_1 = nn.Sequential(InvertedResidual(32, 64, stride=1, expand_ratio=2))
        self.layer_2 = nn.Sequential(
            InvertedResidual(64, 128, stride=2, expand_ratio=2),
            InvertedResidual(128, 128, stride=1, expand_ratio=2),
        )
        self.layer_3 = nn.Sequential(
            InvertedResidual(128, 256, stride=2, expand_ratio=2),
            MixedAttentionBlock(256, attn_dim=128, n_blocks=2),
        )
        self.layer_4 = nn.Sequential(
            InvertedResidual(256, 384, stride=2, expand_ratio=2),
            MixedAttentionBlock(384, attn_dim=192, n_blocks=4),
        )

    def stem(self, image: Tensor) -> Tensor:
        """conv_1 + layer_1 + layer_2: [B,3,H,W] -> [B,128,H/4,W/4]."""
        return self.layer_2(self.layer_1(self.conv_1(image)))

    @staticmethod
    def _mixed_layer(layer: nn.Sequential, x: Tensor, z: Tensor) -> Tuple[Tensor, Tensor]:
        downsample, mixer = layer[0], layer[1]
        return mixer(downsample(x), downsample(z))

    def forward(self, x: Tensor, z: Tensor) -> Tuple[Tensor, Tensor]:
        """x: search image [B,3,256,256]; z: template stem features [B,128,32,32].
        Returns search [B,384,16,16] and template [B,384,8,8] features."""
        x = self.stem(x)
        x, z = self._mixed_layer(self.layer_3, x, z)
        return self._mixed_layer(self.layer_4, x, z)
