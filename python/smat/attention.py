"""MobileViTv2 separable self-attention and the patch (un)folding around it.

Tensors inside the attention stacks are laid out [B, C, P, N]: C channels, P pixels per
patch, N patches. Attention mixes tokens along N only, separately for each of the P patch
pixels, so 1x1 convolutions act as the linear layers and no transposes are needed.
"""
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .layers import ConvLayer


class LinearSelfAttention(nn.Module):
    """Separable self-attention: one query channel scores the tokens (softmax over N),
    the score-weighted sum of the keys is a single context vector per patch pixel, and it
    gates ReLU(values). Cost is linear in N."""

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.qkv_proj = ConvLayer(embed_dim, 1 + 2 * embed_dim, 1, bias=True,
                                  use_norm=False, use_act=False)
        self.out_proj = ConvLayer(embed_dim, embed_dim, 1, bias=True,
                                  use_norm=False, use_act=False)

    def forward(self, x: Tensor) -> Tensor:
        qkv = self.qkv_proj(x)
        query, key, value = torch.split(qkv, [1, self.embed_dim, self.embed_dim], dim=1)
        scores = F.softmax(query, dim=-1)
        context = torch.sum(key * scores, dim=-1, keepdim=True)
        # expand_as mirrors the official graph (an explicit Expand rather than a broadcast).
        out = F.relu(value) * context.expand_as(value)
        return self.out_proj(out)


class LinearAttnFFN(nn.Module):
    """Pre-norm transformer unit: x + attn(norm(x)), then x + ffn(norm(x)).

    Norms are GroupNorm with one group (LayerNorm over C, P and N together). The
    nn.Identity entries stand where training-time dropout sits in the official model, so
    the Sequential indices (and checkpoint names like ``pre_norm_ffn.3``) line up.
    """

    def __init__(self, embed_dim: int, ffn_dim: int) -> None:
        super().__init__()
        self.pre_norm_attn = nn.Sequential(
            nn.GroupNorm(1, embed_dim),
            LinearSelfAttention(embed_dim),
            nn.Identity(),
        )
        self.pre_norm_ffn = nn.Sequential(
            nn.GroupNorm(1, embed_dim),
            ConvLayer(embed_dim, ffn_dim, 1, bias=True, use_norm=False, use_act=True),
            nn.Identity(),
            ConvLayer(ffn_dim, embed_dim, 1, bias=True, use_norm=False, use_act=False),
            nn.Identity(),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.pre_norm_attn(x)
        return x + self.pre_norm_ffn(x)


def attention_stack(embed_dim: int, ffn_dim: int, n_blocks: int) -> nn.Sequential:
    """``n_blocks`` transformer units followed by a final one-group GroupNorm."""
    units = [LinearAttnFFN(embed_dim, ffn_dim) for _ in range(n_blocks)]
    return nn.Sequential(*units, nn.GroupNorm(1, embed_dim))


class PatchFolding(nn.Module):
    """Turns [B, C, H, W] maps into [B, C, P, N] patches and back, ONNX-friendly.

    Unfolding is a depthwise strided conv whose one-hot kernels each pick one pixel of a
    patch; folding is a reshape plus pixel shuffle (ONNX DepthToSpace). F.unfold/F.fold
    would compute the same, but col2im has no ONNX export below opset 18. The one-hot
    weights are a non-persistent buffer: they are not part of the checkpoint.
    """

    def __init__(self, channels: int, patch: int) -> None:
        super().__init__()
        self.patch = patch
        area = patch * patch
        one_hot = torch.eye(area).reshape(area, 1, patch, patch)
        self.register_buffer("unfolding_weights", one_hot.repeat(channels, 1, 1, 1),
                             persistent=False)

    def unfold(self, fm: Tensor) -> Tensor:
        batch, channels = fm.shape[0], fm.shape[1]
        patches = F.conv2d(fm, self.unfolding_weights, stride=self.patch, groups=channels)
        # Output channel c * P + p holds pixel p of every patch of input channel c.
        return patches.reshape(batch, channels, self.patch * self.patch, -1)

    def fold(self, patches: Tensor, height: int, width: int) -> Tensor:
        batch, channels, area = patches.shape[0], patches.shape[1], patches.shape[2]
        fm = patches.reshape(batch, channels * area, height // self.patch, width // self.patch)
        return F.pixel_shuffle(fm, self.patch)
