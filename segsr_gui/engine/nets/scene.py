"""How far a photo is from the street scenes SegDM learnt from: the gate of the person prior.

SegDM knows CamVid's streets well and portraits not at all; MediaPipe's selfie net is the
reverse (in a street it takes red cars and red coats for people). So the prior speaks where the
photo is unlike SegDM's training frames, and stays silent in a street scene.

The photo is read by the model's own SqueezeNet (SegDM's encoder backbone), its three feature
maps averaged to one 896-value vector, and compared with the CamVid training frames' vectors: a
Mahalanobis distance in their ``k`` main directions plus the rest as one residual term
(``training/scene_gate.py`` fits both). ``gate`` turns the distance into 0 (a street scene, at
or below the CamVid validation frames' largest distance) .. 1 (at or beyond the nearest
non-street photo of the fitting set).
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


class SceneDistance(nn.Module):
    """``forward(features) -> (B,)`` distance from the fitted frames (about 1-2 for them)."""

    def __init__(self, components: int = 16, features: int = FEATURES):
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("basis", torch.zeros(components, features))
        self.register_buffer("variance", torch.ones(components))
        self.register_buffer("residual_variance", torch.ones(()))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        d = feats.float() - self.mean
        z = d @ self.basis.T
        rest = d - z @ self.basis
        k = self.basis.shape[0]
        return torch.sqrt((z ** 2 / self.variance).sum(1) / k + (rest ** 2).sum(1) / self.residual_variance)


def gate(distance: float, street: float, elsewhere: float) -> float:
    """0 at or below ``street``, 1 at or beyond ``elsewhere``, linear between."""
    if elsewhere <= street:
        return float(distance > street)
    return float(min(1.0, max(0.0, (distance - street) / (elsewhere - street))))
