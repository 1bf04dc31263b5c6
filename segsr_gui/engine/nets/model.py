"""SegSR as stages: the repair mends the photo, the experts enlarge it, the class chain labels it.

The repair (``engine/repair``: a damage detector and a residual-shifting fill, at the photo's
own size) runs once before the experts; the experts make the chain's start; the sampler sees
one call:

``SegSRModel.forward(x_t, s_t, y, x0_prev, eta) -> (x0_hat, s0 logits or None)``: the image
estimate is the experts' ``y`` (the chain's image side is an identity in the shipped models:
docs/experts.md says why), the class logits come from the class chain. The stages live in
``engine/stages``; each has its own section in the manifest's ``config``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

import torch
from torch import nn

from segsr_gui.engine.diffusion.schedule import ScheduleConfig
from segsr_gui.engine.nets.person_prior import PEOPLE_SHARE
from segsr_gui.engine.repair.repair import RepairConfig, RepairModel
from segsr_gui.engine.stages.class_chain import ClassChain, ClassChainConfig
from segsr_gui.engine.stages.experts import Experts, ExpertsConfig



@dataclass(frozen=True)
class ModelConfig:
    """A SegSR model's stages and the chain's defaults (the manifest's ``config``).

    Args:
        scale: SR factor (4).
        schedule: the ResShift schedule the chain steps with (its ``steps`` is the default).
        noise_scale: default sampler noise (0 = posterior mean, 1 = ResShift's full noise).
        experts: the first stage (``stages/experts.py``).
        classes: the class chain (``stages/class_chain.py``), or None: the experts alone.
        repair: the damage repair before the experts (``engine/repair``), or None.
    """

    scale: int = 4
    schedule: ScheduleConfig = field(default_factory=lambda: ScheduleConfig(steps=3))
    noise_scale: float = 0.0
    experts: ExpertsConfig = field(default_factory=ExpertsConfig)
    classes: Optional[ClassChainConfig] = field(default_factory=ClassChainConfig)
    repair: Optional[RepairConfig] = None

    @property
    def num_classes(self) -> int:
        """The classes of the model's class maps (SegDM's, plus background when it has one)."""
        return self.classes.shown_classes if self.classes else 0

    def to_dict(self) -> dict:
        return {"scale": self.scale, "schedule": dict(self.schedule.__dict__), "noise_scale": self.noise_scale,
                "experts": self.experts.to_dict(),
                "classes": self.classes.to_dict() if self.classes else None,
                "repair": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.repair).items()}
                if self.repair else None}

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        known = dict(data)
        if "schedule" in known:
            known["schedule"] = ScheduleConfig.from_dict(known["schedule"])
        if "experts" in known:
            known["experts"] = ExpertsConfig.from_dict(known["experts"])
        if known.get("classes") is not None:
            known["classes"] = ClassChainConfig.from_dict(known["classes"])
        if known.get("repair") is not None:
            known["repair"] = RepairConfig.from_dict(known["repair"])
        return cls(**known)


class SegSRModel(nn.Module):
    """The stages composed. All image tensors are HR-sized (B, 3, sH, sW) in [-1, 1]; ``s_t``
    is (B, K, sH, sW) class probabilities; ``eta`` holds eta_t per sample. The LR size must be
    a multiple of ``self.stride``."""

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        self.experts = Experts(config.experts, config.scale)
        self.classes = ClassChain(config.classes, config.scale) if config.classes else None
        self.repair = RepairModel(config.repair) if config.repair else None

    # ---- what the pipeline, the CLI and the window ask ---------------------------------
    @property
    def has_segmentation(self) -> bool:
        return self.classes is not None

    @property
    def has_repair(self) -> bool:
        return self.repair is not None

    @property
    def has_strength(self) -> bool:
        """Whether the restoration strength means anything for this model."""
        return self.experts.has_strength

    @property
    def stride(self) -> int:
        return self.classes.stride if self.classes is not None else 1

    @property
    def clean_expert(self) -> nn.Module | None:
        return self.experts.clean

    @property
    def person_net(self) -> nn.Module | None:
        return self.classes.person_net if self.classes is not None else None

    @property
    def damage(self) -> nn.Module | None:
        return self.experts.damage

    def damage_of(self, lr: torch.Tensor) -> float:
        return self.experts.damage_of(lr)

    def toned_print(self, lr: torch.Tensor) -> bool:
        return self.experts.toned_print(lr)

    def strength_for(self, damage: float, toned: bool = False) -> float:
        return self.experts.strength_for(damage, toned)

    def first_estimate(self, lr: torch.Tensor, strength: float = 0.0, precision: str = "fp32") -> torch.Tensor:
        """The chain's start ``y`` from the LR image (B, 3, H, W) in [-1, 1]."""
        return self.experts.first_estimate(lr, strength, precision)

    def expert_blend(self, lr: torch.Tensor, strength: float = 0.0, precision: str = "fp32") -> torch.Tensor:
        return self.experts.blend(lr, strength, precision)

    def finish_estimate(self, y: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        return self.experts.finish(y, lr)

    def scene_gate(self, lr: torch.Tensor) -> tuple[float, float]:
        return self.classes.scene_gate(lr) if self.classes is not None else (0.0, 1.0)

    def person_probability(self, lr: torch.Tensor, gate: float | None = None) -> torch.Tensor | None:
        return self.classes.person_probability(lr, gate) if self.classes is not None else None

    def background_for(self, gate: float, person: torch.Tensor | None) -> tuple[float, bool] | None:
        """(how far the photo is no street scene, 0..1: its scene ``gate``; whether it shows
        people) for a model with the background class, from the person prior's reading
        ``person`` (1, 1, H, W); None without the class. A photo shows people when the prior
        marks more than ``PEOPLE_SHARE`` of it."""
        if self.classes is None or not self.classes.config.background:
            return None
        people = person is not None and float((person > 0.5).float().mean()) > PEOPLE_SHARE
        return gate, people

    def forward(self, x_t, s_t, y, x0_prev, eta):
        if self.classes is None:
            return y, None
        eta = eta.to(x_t.dtype).reshape(-1)
        return y, self.classes(x_t, s_t, x0_prev, eta, self.config.schedule.kappa)
