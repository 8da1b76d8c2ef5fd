"""Neck (per-stream BatchNorm) and feature fusor (pixel-wise correlation + channel attention)."""
from typing import Tuple

import torch
from torch import Tensor, nn


class BNAdjust(nn.Module):
    """Separate BatchNorms for the search and template features before correlation."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.BN_x = nn.BatchNorm2d(channels)
        self.BN_z = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor, z: Tensor) -> Tuple[Tensor, Tensor]:
        return self.BN_x(x), self.BN_z(z)


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation style gate (no channel reduction)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(channels, channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        gate = self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))
        return x * gate


class PixelwiseCorrelation(nn.Module):
    """Each template position acts as a 1x1 kernel over the search map: one output channel
    per template position. Computed as one matrix product, then gated per channel."""

    def __init__(self, template_positions: int) -> None:
        super().__init__()
        self.CA_layer = ChannelAttention(template_positions)

    def forward(self, z: Tensor, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        z_mat = z.reshape(b, c, -1).transpose(1, 2)            # [B, Hz*Wz, C]
        x_mat = x.reshape(b, c, -1)                            # [B, C, Hx*Wx]
        corr = torch.matmul(z_mat, x_mat).reshape(b, -1, h, w)  # [B, Hz*Wz, Hx, Wx]
        return self.CA_layer(corr)


class FeatureFusor(nn.Module):
    def __init__(self, template_positions: int, out_channels: int) -> None:
        super().__init__()
        self.pw_corr = PixelwiseCorrelation(template_positions)
        self.adj_layer = nn.Conv2d(template_positions, out_channels, 1)

    def forward(self, z: Tensor, x: Tensor) -> Tensor:
        return self.adj_layer(self.pw_corr(z, x))
