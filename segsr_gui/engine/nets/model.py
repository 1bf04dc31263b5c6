"""SegSR: SRDM + SegDM joined by the bridge, as one call the sampler knows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from segsr_gui.engine.nets.damage import DamageEstimator, strength_from_damage
from segsr_gui.engine.nets.lattice import remove_lattice
from segsr_gui.engine.nets.person_prior import person_probability
from segsr_gui.engine.nets.scene import SceneDistance, gate, scene_features
from segsr_gui.engine.nets.span import SPAN
from segsr_gui.engine.nets.bridge import DualModalityBridge
from segsr_gui.engine.nets import SegDM, SRDM
from segsr_gui.engine.nets.segdm import upsample
from segsr_gui.engine.diffusion.colour_fix import keep_low_frequencies
from segsr_gui.engine.diffusion.precision import autocast
from segsr_gui.engine.diffusion.schedule import ScheduleConfig, scale_state
from segsr_gui.errors import WeightsError


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
        clean_expert: "" = the restorer alone; "x4plus" = a second, *clean* expert (Real-ESRGAN
            x4plus, ``nets/rrdbnet.py``) blended with the restorer (the *faithful* expert) by the
            restoration strength: 0 = faithful, 1 = clean. Its 67 MB of weights are not in the
            model file: ``segsr import-pretrained`` converts them at set-up and the loader
            attaches them (``attach_clean_expert``), checking the sha256 the manifest records.
        damage_estimator: the model carries ``nets/damage.py`` for Auto strength;
            auto_strength: its (low, high) thresholds, chosen on validation.
        lattice_sigma: LR pixels; the blended first estimate loses the 4-pixel lattice the
            experts' upsamplers leave (``nets/lattice.py``; 0 = off).
        tone_sigma: HR pixels; the blended first estimate takes its band below this from the
            bicubic-enlarged photo, so no expert shifts the photo's tones (0 = off).
        refine_image: False = the chain's image estimate is the first estimate at every step
            (an exact identity; SRDM is not run) while SegDM still refines the classes.
        person_prior: "" = none; "selfie" = MediaPipe's selfie net (``nets/selfie.py``) marks
            where people are, and its probability joins the class state at every step
            (``person_prior.fuse_person``) as class ``person_class``. Like the clean expert its
            weights are not in the model file (``segsr import-pretrained --only selfie``; the
            loader attaches them, ``attach_person_prior``). person_window, person_merge: how the
            photo is read (``person_prior.person_probability``); person_weight: how it joins
            (``fuse_person``: 0 = union, > 0 = weighted evidence); person_gate: () = the prior
            always speaks, (street, elsewhere) = only as far as the photo is unlike SegDM's
            street scenes (``nets/scene.py``; the model then carries the fitted ``scene``
            statistics).
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
    clean_expert: str = ""
    damage_estimator: bool = False
    auto_strength: tuple = (0.0, 1.0)
    lattice_sigma: float = 0.0
    tone_sigma: float = 0.0
    refine_image: bool = True
    person_prior: str = ""
    person_class: int = 9
    person_window: int = 256
    person_merge: str = "max"
    person_weight: float = 0.0
    person_gate: tuple = ()

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("sr_mult", "seg_mult", "class_bias", "auto_strength", "person_gate"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("sr_mult", "seg_mult", "class_bias", "auto_strength", "person_gate"):
            if key in known:
                floats = key in ("class_bias", "auto_strength", "person_gate")
                known[key] = tuple(float(v) for v in known[key]) if floats else tuple(known[key])
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
        # without image refinement the chain's image is the first estimate: no SRDM to carry
        self.srdm = SRDM(c.scale, c.sr_width, c.sr_mult, c.sr_blocks, cond, c.sft_hidden) if c.refine_image else None
        if c.restorer not in ("", "span"):
            raise ValueError(f"restorer must be '' (bicubic) or 'span', not {c.restorer!r}")
        self.restorer = SPAN(c.restorer_channels, c.scale, c.restorer_blocks) if c.restorer else None
        if c.clean_expert not in ("", "x4plus") or (c.clean_expert and not c.restorer):
            raise ValueError(f"clean_expert must be '' or 'x4plus' (beside a restorer), not {c.clean_expert!r}")
        self.damage = DamageEstimator() if c.damage_estimator else None
        # a plain dict: nn.Module does not register what it holds, so the clean expert's
        # weights stay out of the model file and its state dict
        self._external: dict[str, nn.Module] = {}
        if c.person_prior not in ("", "selfie") or (c.person_prior and not c.bridge):
            raise ValueError(f"person_prior must be '' or 'selfie' (with SegDM), not {c.person_prior!r}")
        if c.person_gate and c.seg_encoder != "squeezenet":
            raise ValueError("the person prior's scene gate reads the photo with SegDM's SqueezeNet")
        self.scene = SceneDistance() if c.person_gate else None
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
        nets = [net for net in (self.srdm, self.segdm) if net is not None]
        return max([net.stride for net in nets], default=1)

    def attach_clean_expert(self, net: nn.Module) -> None:
        self._external["clean"] = net.eval().requires_grad_(False)

    @property
    def clean_expert(self) -> nn.Module | None:
        return self._external.get("clean")

    def attach_person_prior(self, net: nn.Module) -> None:
        self._external["person"] = net.eval().requires_grad_(False)

    @property
    def person_net(self) -> nn.Module | None:
        return self._external.get("person")

    def scene_gate(self, lr: torch.Tensor) -> tuple[float, float]:
        """(distance from SegDM's street scenes, the prior's gate 0..1) of the LR photo
        (1, 3, H, W) in [-1, 1]; (0, 1) for a model without the gate (or with it switched off)."""
        if self.scene is None or not self.config.person_gate:
            return 0.0, 1.0
        feats = scene_features(self.segdm.encoder.backbone, (lr + 1) / 2)
        distance = float(self.scene(feats)[0])
        return distance, gate(distance, *self.config.person_gate)

    def person_probability(self, lr: torch.Tensor) -> torch.Tensor | None:
        """(1, 1, H, W) person probability of the LR photo (1, 3, H, W) in [-1, 1], scaled by
        the scene gate; None when the model has no person prior, it is not installed, or the
        gate shuts it (a street scene: the classes are then exactly SegDM's own)."""
        if self.person_net is None:
            return None
        weight = self.scene_gate(lr)[1]
        if weight <= 0:
            return None
        c = self.config
        return weight * person_probability(self.person_net, (lr + 1) / 2, c.person_window, c.person_merge)

    @property
    def has_strength(self) -> bool:
        """Whether the restoration strength means anything for this model."""
        return bool(self.config.clean_expert)

    def _apply(self, fn, *args, **kwargs):
        # .to(device) and friends reach the clean expert too
        for net in self._external.values():
            net._apply(fn, *args, **kwargs)
        return super()._apply(fn, *args, **kwargs)

    @torch.inference_mode()
    def damage_of(self, lr: torch.Tensor, chunk: int = 512) -> float:
        """The damage estimate (0..1) of a whole LR photo (1, 3, H, W) in [-1, 1], read in
        chunks so a big photo needs no more memory than a 512x512 one."""
        if self.damage is None:
            raise ValueError("this model has no damage estimator, so no Auto strength")
        total, cells = 0.0, 0
        for top in range(0, lr.shape[-2], chunk):
            for left in range(0, lr.shape[-1], chunk):
                part = (lr[..., top:top + chunk, left:left + chunk] + 1) / 2
                n = max(1, (part.shape[-2] // 8) * (part.shape[-1] // 8))
                total += float(self.damage.damage(part)[0]) * n
                cells += n
        return total / cells

    def strength_for(self, damage: float) -> float:
        """The strength Auto gives a photo of this ``damage`` (the model's thresholds)."""
        low, high = self.config.auto_strength
        return strength_from_damage(damage, low, high)

    def auto_strength(self, lr: torch.Tensor) -> float:
        return self.strength_for(self.damage_of(lr))

    def first_estimate(self, lr: torch.Tensor, strength: float = 0.0, precision: str = "fp32") -> torch.Tensor:
        """The chain's start ``y`` (B, 3, sH, sW) in [-1, 1] from the LR image (B, 3, H, W) in
        [-1, 1]: the experts' output blended by ``strength`` (0 = the restorer alone), so the
        first preview already has their quality, or bicubic for a model without a restorer."""
        return self.finish_estimate(self.expert_blend(lr, strength, precision), lr)

    def expert_blend(self, lr: torch.Tensor, strength: float = 0.0, precision: str = "fp32") -> torch.Tensor:
        """The experts' outputs blended by ``strength``, in [-1, 1] scale, not clamped (what
        ``finish_estimate`` turns into the first estimate); bicubic without a restorer."""
        c = self.config
        if self.restorer is None:
            return bicubic_up(lr, c.scale)
        strength = float(strength) if c.clean_expert else 0.0
        if strength > 0 and self.clean_expert is None:
            raise WeightsError("The clean expert (Real-ESRGAN x4plus) is not installed; run "
                               "`segsr import-pretrained --only x4plus`, or use strength 0.")
        lr01 = (lr + 1) / 2
        with autocast(lr.device, precision):
            out = 0.0
            if strength < 1:
                out = (1 - strength) * self.restorer(lr01).float()
            if strength > 0:
                out = out + strength * self.clean_expert(lr01).float()
        return out * 2 - 1

    def finish_estimate(self, y: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        """The lattice removed, clamped, the photo's tones kept (``lr``: the LR photo of ``y``)."""
        c = self.config
        if self.restorer is None:
            return y
        if c.lattice_sigma > 0:
            y = remove_lattice(y, c.lattice_sigma, c.scale)
        y = y.clamp(-1, 1)
        if c.tone_sigma > 0:
            y = keep_low_frequencies(y, bicubic_up(lr, c.scale), c.tone_sigma)
        return y

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
                cond = self.bridge.class_condition(coarse) if self.srdm is not None else None
                s0_logits = upsample(coarse, c.scale * c.seg_pool)
            else:
                s_scaled = scale_state(s_t - 1.0 / c.num_classes, eta, c.kappa_seg)
                s0_logits = self.segdm(s_scaled, image_feat, level)
                cond = self.bridge.class_condition(s0_logits) if self.srdm is not None else None
        if self.srdm is None:
            return y, s0_logits
        x0_hat = self.srdm(x_scaled, y, x0_prev, level, cond)
        return x0_hat, s0_logits
