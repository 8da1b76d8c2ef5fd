"""Convolutional building blocks of SMAT.

Module and attribute names follow the official checkpoint layout (for example
``<name>.block.conv.weight`` / ``<name>.block.norm.running_var``), because a strict
``load_state_dict`` of an official checkpoint is how we prove the structure is right.
"""
from collections import OrderedDict

from torch import Tensor, nn


class ConvLayer(nn.Module):
    """Conv2d, optionally followed by BatchNorm and ReLU, held in ``self.block``.

    The conv has no bias when a BatchNorm follows: the norm's shift makes it redundant,
    and the checkpoint has no such entry.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, groups: int = 1, bias: bool = False,
                 use_norm: bool = True, use_act: bool = True) -> None:
        super().__init__()
        if use_norm and bias:
            raise ValueError("a conv followed by BatchNorm carries no bias")
        layers = OrderedDict()
        layers["conv"] = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                                   padding=(kernel_size - 1) // 2, groups=groups, bias=bias)
        if use_norm:
            layers["norm"] = nn.BatchNorm2d(out_channels)
        if use_act:
            layers["act"] = nn.ReLU()
        self.block = nn.Sequential(layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand (BN, ReLU), 3x3 depthwise (BN, ReLU), 1x1 reduce (BN).

    The skip connection exists only where input and output shapes agree.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        # The official code rounds this to a multiple of 8; SMAT's widths already are.
        hidden = in_channels * expand_ratio
        self.block = nn.Sequential(OrderedDict(
            exp_1x1=ConvLayer(in_channels, hidden, 1),
            conv_3x3=ConvLayer(hidden, hidden, 3, stride=stride, groups=hidden),
            red_1x1=ConvLayer(hidden, out_channels, 1, use_act=False),
        ))
        self.use_res_connect = stride == 1 and in_channels == out_channels

    def forward(self, x: Tensor) -> Tensor:
        y = self.block(x)
        return x + y if self.use_res_connect else y


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 conv with bias, BN and ReLU: the layout of the box head's prediction towers."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=True),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )
