#!/usr/bin/env python3
"""Networks other than SMAT, as users export them: torchvision architectures (Debian's
python3-torchvision, weights drawn at random so no download is needed) exported to ONNX with
torch.onnx.export, built and run by Kestrel's CPU backend and compared with PyTorch's outputs.

Each architecture brings operators and export patterns SMAT lacks: residual stages and max
pooling (ResNet), HardSwish and squeeze-excitation (MobileNetV3), SiLU (EfficientNet), channel
shuffles (ShuffleNet), grouped convolutions (RegNet), LayerNorm and GELU over permuted tensors
(ConvNeXt), shifted windows with rolls, masks and p=0 dropout in training mode (Swin), a class
token and multi-head attention (ViT), dense concatenation (DenseNet), dilated convolutions and
bilinear resizing (DeepLabV3), and a batch of four.

usage: check_torchvision_zoo.py KESTREL_BIN WORK_DIR [NAME ...]"""
import pathlib
import subprocess
import sys

import numpy as np
import torch
import torchvision.models as tvm
import torchvision.models.segmentation as tvs

OPSET = 17


def small_vit():
    return tvm.VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128,
                                 num_classes=10)


# name -> (constructor, input shape)
ZOO = {
    "resnet18": (lambda: tvm.resnet18(weights=None), (1, 3, 224, 224)),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(weights=None), (1, 3, 224, 224)),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(weights=None), (1, 3, 224, 224)),
    "shufflenet_v2_x0_5": (lambda: tvm.shufflenet_v2_x0_5(weights=None), (1, 3, 224, 224)),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(weights=None), (1, 3, 224, 224)),
    "regnet_y_400mf": (lambda: tvm.regnet_y_400mf(weights=None), (1, 3, 224, 224)),
    "convnext_tiny": (lambda: tvm.convnext_tiny(weights=None), (1, 3, 128, 128)),
    "swin_t": (lambda: tvm.swin_t(weights=None), (1, 3, 224, 224)),
    "vit_small": (small_vit, (1, 3, 64, 64)),
    "densenet121": (lambda: tvm.densenet121(weights=None), (1, 3, 128, 128)),
    "deeplabv3_mobilenet_v3_large": (
        lambda: tvs.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False), (1, 3, 160, 160)),
    "mobilenet_v2_batch4": (lambda: tvm.mobilenet_v2(weights=None), (4, 3, 96, 96)),
}


def randomize(model):
    """torchvision zero-initialises some heads (ViT's classifier gives all-zero logits); draw
    every weight matrix and kernel at a fan-in scale so outputs depend on every layer."""
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, (1.0 / p[0].numel()) ** 0.5)
    return model.eval()


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


def check(kestrel, work, name):
    make, shape = ZOO[name]
    torch.manual_seed(0)
    model = randomize(make())
    x = torch.rand(*shape)
    with torch.no_grad():
        y = model(x)
    if isinstance(y, dict):  # segmentation models return {"out": ...}
        y = y["out"]
    onnx_file, data = work / f"{name}.onnx", work / f"{name}.npz"
    torch.onnx.export(model, x, str(onnx_file), opset_version=OPSET, input_names=["x"], output_names=["y"])
    np.savez(data, x=x.numpy(), y=y.numpy())
    # Tolerance relative to the output's scale (some random-weight networks give tiny logits):
    # float sums in another order drift by ulps of it.
    atol = f"{1e-4 * float(y.abs().max()):.3g}"
    return run(kestrel, "run", onnx_file, "--inputs", data, "--compare", data, "--atol", atol, "--rtol", "1e-3")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    kestrel, work = sys.argv[1], pathlib.Path(sys.argv[2])
    names = sys.argv[3:] or list(ZOO)
    unknown = [n for n in names if n not in ZOO]
    if unknown:
        sys.exit(f"unknown network(s) {unknown}; known: {list(ZOO)}")
    work.mkdir(parents=True, exist_ok=True)
    failed = [name for name in names if check(kestrel, work, name) != 0]
    print(f"{len(names) - len(failed)} of {len(names)} torchvision networks match PyTorch")
    if failed:
        sys.exit(f"FAILED: {failed}")


if __name__ == "__main__":
    main()
