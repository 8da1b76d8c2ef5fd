"""SMAT tracker: PyTorch model definition matching the official checkpoint, and ONNX export."""
from .model import SMAT, TemplateEncoder, TrackingNetwork, build_smat

__all__ = ["SMAT", "TemplateEncoder", "TrackingNetwork", "build_smat"]
