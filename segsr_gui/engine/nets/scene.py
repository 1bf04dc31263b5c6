"""Whether a photo is a street scene like SegDM's training frames: the gate of the person prior
and of the background class.

SegDM knows CamVid's streets well and portraits not at all; MediaPipe's selfie net is the
reverse (in a street it takes red cars and red coats for people). So the prior speaks where the
photo is no street scene, and stays silent in one.

The photo is read by the model's own SqueezeNet (SegDM's encoder backbone), its three feature
maps averaged to one 896-value vector, and scored by a linear classifier (logistic regression,
``training/scene_gate.py``): CamVid's training frames against other photos, each read in colour
and in grey, sharp and degraded, so that neither colour nor damage decides. A distance from the
CamVid frames alone, the earlier gate, shut on grey portraits: grey reads as close to CamVid's
dull streets. ``gate`` turns the score into 0 (a street scene, at or below the CamVid validation
frames' highest score) .. 1 (at or beyond the classifier's boundary, score 0).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from segsr_gui.engine.nets.seg_encoder import FEATURE_STD

READ_SIDE = 360  # the short side the photo is read at: CamVid's frames are 480x360
FEATURES = 128 + 256 + 512


@torch.inference_mode()
def scene_features(backbone, rgb: torch.Tensor) -> torch.Tensor:
    """(B, 896) pooled SqueezeNet features of ``rgb`` (B, 3, H, W) in [0, 1], read with its
    short side at ``READ_SIDE`` pixels, so a small LR photo and a large scan are read alike."""
    scale = READ_SIDE / min(rgb.shape[-2:])
    x = F.interpolate(rgb.float(), scale_factor=scale, mode="bicubic", align_corners=False,
                      antialias=scale < 1).clamp(0, 1)
    feats = backbone.features(x)
    return torch.cat([f.float().mean(dim=(2, 3)) / std for f, std in zip(feats, FEATURE_STD)], dim=1)


class SceneClassifier(nn.Module):
    """``forward(features) -> (B,)`` score: below 0 a street scene, above 0 another photo."""

    def __init__(self, features: int = FEATURES):
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("scale", torch.ones(features))
        self.register_buffer("weight", torch.zeros(features))
        self.register_buffer("bias", torch.zeros(()))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return ((feats.float() - self.mean) / self.scale) @ self.weight + self.bias


def gate(score: float, street: float, elsewhere: float) -> float:
    """0 at or below ``street``, 1 at or beyond ``elsewhere``, linear between."""
    if elsewhere <= street:
        return float(score > street)
    return float(min(1.0, max(0.0, (score - street) / (elsewhere - street))))
