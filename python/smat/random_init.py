"""Deterministic random weights for SMAT, for tests that have no official checkpoint.

Plain random init would leave BatchNorm at mean 0 / var 1 / weight 1 / bias 0, which an
engine can fold away by accident, and would let activations drift far from what a trained
network produces. So BatchNorm statistics are first measured on random images (making
every layer's output roughly unit scale), then perturbed, and the affine parameters are
drawn at random: folding a BatchNorm wrongly then changes the outputs visibly.
"""
import math

import torch
from torch import nn

from .model import SEARCH_SIZE, TEMPLATE_SIZE, SMAT

_CALIBRATION_BATCH = 1


def _uniform(shape, low: float, high: float, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=gen) * (high - low) + low


@torch.no_grad()
def randomize_(model: SMAT, seed: int) -> SMAT:
    """Fills ``model`` with weights fixed by ``seed``; returns it in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    batch_norms = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            # Variance-preserving scale, so the convs without a BatchNorm stay in range too.
            module.weight.copy_(torch.randn(module.weight.shape, generator=gen) / math.sqrt(fan_in))
            if module.bias is not None:
                module.bias.copy_(_uniform(module.bias.shape, -0.1, 0.1, gen))
        elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
            module.weight.copy_(_uniform(module.weight.shape, 0.5, 1.5, gen))
            module.bias.copy_(_uniform(module.bias.shape, -0.2, 0.2, gen))
            if isinstance(module, nn.BatchNorm2d):
                batch_norms.append(module)

    _calibrate_batch_norms(model, batch_norms, gen)

    for bn in batch_norms:
        std = bn.running_var.sqrt()
        bn.running_mean.add_(0.1 * std * torch.randn(std.shape, generator=gen))
        bn.running_var.mul_(_uniform(std.shape, 0.7, 1.4, gen))
    return model.eval()


def _calibrate_batch_norms(model: SMAT, batch_norms, gen: torch.Generator) -> None:
    # momentum=None makes running stats the cumulative average over the calls seen since
    # the reset; layers applied to both streams average over the template and the search.
    for bn in batch_norms:
        bn.reset_running_stats()
        bn.momentum = None
    template = torch.rand(_CALIBRATION_BATCH, 3, TEMPLATE_SIZE, TEMPLATE_SIZE, generator=gen)
    search = torch.rand(_CALIBRATION_BATCH, 3, SEARCH_SIZE, SEARCH_SIZE, generator=gen)
    model.train()
    model(model.encode_template(template), search)
    for bn in batch_norms:
        bn.momentum = 0.1
    model.eval()
