"""SegSR: SRDM + SegDM joined by the bridge, as one call the sampler knows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from segsr_gui.engine.nets.span import SPAN
from segsr_gui.engine.nets.bridge import DualModalityBridge
from segsr_gui.engine.nets import SegDM, SRDM
from segsr_gui.engine.nets.segdm import upsample
from segsr_gui.engine.diffusion.schedule import ScheduleConfig, scale_state


def bicubic_up(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic upsampling of an LR tensor in [-1, 1]: the first estimate of a model
    without a restorer."""
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and diffusion numbers of a SegSR model (stored in the manifest).

    Args:
        scale: SR factor (4). num_classes: K (11 CamVid classes).
        bridge: True = full SegSR; False = the SRDM-only ablation (no SegDM).
        sr_width, sr_mult, sr_blocks: SRDM's UNet.
        seg_width, seg_mult, seg_blocks: SegDM's UNet.
        bridge_channels: feature channels of both bridge directions.
        seg_pool: SegDM and the bridge work at LR/seg_pool on the pooled class state
            (see ``SegDM``); 0 = the original unshuffled HR class path, costlier.
        seg_encoder: "" = SegDM sees the image only through the bridge; "squeezenet" = also
            through a pretrained SqueezeNet v1.1 reading the clean estimate (``seg_encoder.py``;
            needs seg_pool >= 1); seg_encoder_channels: the width of its feature map.
        sft_hidden: each SFT layer has a hidden 1x1 layer (the original) or not.
        kappa_seg: noise scale of the class state (the image's is schedule.kappa).
        schedule: the ResShift schedule used by default (its ``steps`` is the default step count).
        noise_scale: default sampler noise (0 = posterior mean, 1 = ResShift's full noise).
        colour_sigma: default low-frequency consistency, in HR pixels (``colour_fix``; 0 = off).
        restorer: the SRDM's first stage, whose output ``y`` the chain starts from: "" =
            bicubic upsampling (the first models), "span" = a SPAN x4 net (``nets/span.py``,
            pretrained, fine-tuned here); restorer_channels, restorer_blocks: its size.
        class_bias: per-class offsets added to the class logits the sampler yields (logit
            adjustment: -tau log(prior), chosen on validation by benchmarks/chain.py); () = none.
            The chain's own class state keeps the raw logits, so the image is unchanged.
    """

    scale: int = 4
    num_classes: int = 11
    bridge: bool = True
    sr_width: int = 48
    sr_mult: tuple = (1, 2)
    sr_blocks: int = 2
    seg_width: int = 32
    seg_mult: tuple = (1, 2, 2)
    seg_blocks: int = 2
    bridge_channels: int = 32
    seg_pool: int = 0
    seg_encoder: str = ""
    seg_encoder_channels: int = 64
    sft_hidden: bool = True
    kappa_seg: float = 0.5
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    noise_scale: float = 1.0
    colour_sigma: float = 0.0
    class_bias: tuple = ()
    restorer: str = ""
    restorer_channels: int = 48
    restorer_blocks: int = 6

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("sr_mult", "seg_mult", "class_bias"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("sr_mult", "seg_mult", "class_bias"):
            if key in known:
                known[key] = tuple(float(v) for v in known[key]) if key == "class_bias" else tuple(known[key])
        if "schedule" in known:
            known["schedule"] = ScheduleConfig.from_dict(known["schedule"])
        return cls(**known)


class SegSRModel(nn.Module):
    """``forward(x_t, s_t, y, x0_prev, eta) -> (x0_hat, s0_logits or None)``.

    All image tensors are HR-sized (B, 3, sH, sW) in [-1, 1]; ``s_t`` is
    (B, K, sH, sW) class probabilities; ``eta`` holds eta_t per sample. The
    LR size (H, W) must be a multiple of ``self.stride``.
    """

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        c = config
        cond = c.bridge_channels if c.bridge else 0
        self.srdm = SRDM(c.scale, c.sr_width, c.sr_mult, c.sr_blocks, cond, c.sft_hidden)
        if c.restorer not in ("", "span"):
            raise ValueError(f"restorer must be '' (bicubic) or 'span', not {c.restorer!r}")
        self.restorer = SPAN(c.restorer_channels, c.scale, c.restorer_blocks) if c.restorer else None
        if c.seg_encoder not in ("", "squeezenet"):
            raise ValueError(f"seg_encoder must be '' or 'squeezenet', not {c.seg_encoder!r}")
        if c.bridge:
            self.bridge = DualModalityBridge(c.num_classes, c.scale, c.bridge_channels, c.bridge_channels,
                                             c.seg_pool)
            self.segdm = SegDM(c.num_classes, c.scale, c.seg_width, c.seg_mult, c.seg_blocks,
                               c.bridge_channels, c.seg_pool,
                               c.seg_encoder_channels if c.seg_encoder else 0)
        else:
            self.bridge = None
            self.segdm = None

    @property
    def has_segmentation(self) -> bool:
        return self.segdm is not None

    @property
    def stride(self) -> int:
        strides = [self.srdm.stride] + ([self.segdm.stride] if self.segdm is not None else [])
        return max(strides)

    def first_estimate(self, lr: torch.Tensor) -> torch.Tensor:
        """The chain's start ``y`` (B, 3, sH, sW) in [-1, 1] from the LR image (B, 3, H, W) in
        [-1, 1]: the restorer's output, so the first preview already has its quality, or
        bicubic upsampling for a model without one."""
        if self.restorer is None:
            return bicubic_up(lr, self.config.scale)
        return (self.restorer((lr + 1) / 2) * 2 - 1).clamp(-1, 1)

    def forward(self, x_t, s_t, y, x0_prev, eta):
        c = self.config
        eta = eta.to(x_t.dtype).reshape(-1)
        level = eta.sqrt()
        x_scaled = scale_state(x_t, eta, c.schedule.kappa)
        s0_logits = None
        cond = None
        if self.segdm is not None:
            # 1. SegDM reads s_t and, through the bridge, the image.
            image_feat = self.bridge.image_features(x_scaled, x0_prev)
            # 2. The class probabilities condition SRDM's SFT layers.
            if c.seg_pool:  # pool first: the same numbers, 1/64 of the arithmetic
                s_scaled = scale_state(self.segdm.pool_state(s_t) - 1.0 / c.num_classes, eta, c.kappa_seg)
                coarse = self.segdm.forward_coarse(s_scaled, image_feat, level, x0_prev)
                cond = self.bridge.class_condition(coarse)
                s0_logits = upsample(coarse, c.scale * c.seg_pool)
            else:
                s_scaled = scale_state(s_t - 1.0 / c.num_classes, eta, c.kappa_seg)
                s0_logits = self.segdm(s_scaled, image_feat, level)
                cond = self.bridge.class_condition(s0_logits)
        x0_hat = self.srdm(x_scaled, y, x0_prev, level, cond)
        return x0_hat, s0_logits
