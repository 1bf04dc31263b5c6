"""The class chain: SegDM refines the class state step by step, reading the image through the
bridge and a pretrained SqueezeNet; the person prior joins it where the photo is no street.

SegDM (``nets/segdm.py``) predicts class logits at LR/``pool`` from the pooled class state, the
bridge's features of the image state and the SqueezeNet encoder's reading of the latest clean
estimate; the logits are enlarged bilinearly to the output size. The person prior (MediaPipe's
selfie net, ``nets/selfie.py``, 4 MB, converted at set-up and attached by the loader) marks
people; ``nets/scene.py`` scores whether the photo is a street scene like SegDM's and gates
the prior (a street scene keeps SegDM's own classes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import torch
from torch import nn

from segsr_gui.classes import STREET_IDS
from segsr_gui.engine.diffusion.schedule import scale_state
from segsr_gui.engine.nets.bridge import ImageBridge
from segsr_gui.engine.nets.person_prior import person_probability
from segsr_gui.engine.nets.scene import SceneClassifier, gate, scene_features
from segsr_gui.engine.nets.segdm import SegDM, upsample


@dataclass(frozen=True)
class PersonConfig:
    """The person prior (the manifest's ``config.classes.person``).

    Args:
        class_id: the class it fills (9, "person").
        window: photo pixels of the overlapping windows it also reads a large photo in
            (``person_prior.person_probability``).
        gate: (street, elsewhere) scene scores between which the prior opens
            (``nets/scene.py``; the model then carries the fitted classifier); () = it always
            speaks.
    """

    class_id: int = 9
    window: int = 256
    gate: tuple = ()

    def to_dict(self) -> dict:
        return {**asdict(self), "gate": list(self.gate)}

    @classmethod
    def from_dict(cls, data: dict) -> "PersonConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "gate" in known:
            known["gate"] = tuple(float(v) for v in known["gate"])
        return cls(**known)


@dataclass(frozen=True)
class ClassChainConfig:
    """SegDM's size and the class state's noise (the manifest's ``config.classes``).

    Args:
        num_classes: K. width, mult, blocks: SegDM's UNet (``nets/blocks.py``).
        image_channels: channels of the bridge's image features.
        pool: SegDM works at LR/pool on the pooled class state (segmentation wants context more
            than resolution; the logits are enlarged bilinearly).
        encoder_channels: width of the SqueezeNet encoder's map (0 = no encoder).
        kappa: noise scale of the class state (the image state's is the schedule's).
        person: the person prior, or None.
        background: the shown classes gain "background" (id ``num_classes``) on photos that
            are no street scene (``with_background``); needs the person prior's gate.
    """

    num_classes: int = 11
    width: int = 32
    mult: tuple = (1, 2, 2)
    blocks: int = 2
    image_channels: int = 32
    pool: int = 1
    encoder_channels: int = 64
    kappa: float = 0.5
    person: Optional[PersonConfig] = None
    background: bool = False

    @property
    def shown_classes(self) -> int:
        """The classes a class map holds: SegDM's, plus background when there is one."""
        return self.num_classes + int(self.background)

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "person"}
        data["mult"] = list(self.mult)
        data["person"] = self.person.to_dict() if self.person else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ClassChainConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "mult" in known:
            known["mult"] = tuple(known["mult"])
        if known.get("person") is not None:
            known["person"] = PersonConfig.from_dict(known["person"])
        return cls(**known)


class ClassChain(nn.Module):
    """``forward(x_t, s_t, x0_prev, eta, kappa_image) -> s0 logits`` (B, K, sH, sW)."""

    def __init__(self, config: ClassChainConfig = ClassChainConfig(), scale: int = 4):
        super().__init__()
        c = config
        if c.pool < 1:
            raise ValueError(f"SegDM works on the pooled class state: pool must be >= 1, not {c.pool}")
        if c.person and c.person.gate and not c.encoder_channels:
            raise ValueError("the person prior's scene gate reads the photo with SegDM's SqueezeNet")
        if c.background and not (c.person and c.person.gate):
            raise ValueError("the background class follows the scene gate of the person prior")
        self.config, self.scale = config, scale
        self.bridge = ImageBridge(scale, c.image_channels, c.pool)
        self.segdm = SegDM(c.num_classes, scale, c.width, c.mult, c.blocks, c.image_channels, c.pool,
                           c.encoder_channels)
        self.scene = SceneClassifier() if c.person and c.person.gate else None
        self._external: dict[str, nn.Module] = {}  # the person net: not in the model file

    @property
    def stride(self) -> int:
        return self.segdm.stride

    def attach_person(self, net: nn.Module) -> None:
        self._external["person"] = net.eval().requires_grad_(False)

    @property
    def person_net(self) -> nn.Module | None:
        return self._external.get("person")

    def _apply(self, fn, *args, **kwargs):
        for net in self._external.values():
            net._apply(fn, *args, **kwargs)
        return super()._apply(fn, *args, **kwargs)

    def scene_gate(self, lr: torch.Tensor) -> tuple[float, float]:
        """(scene score: below 0 a street scene; the prior's gate 0..1) of the LR photo
        (1, 3, H, W) in [-1, 1]; (0, 1) for a chain without the gate."""
        if self.scene is None:
            return 0.0, 1.0
        feats = scene_features(self.segdm.encoder.backbone, (lr + 1) / 2)
        score = float(self.scene(feats)[0])
        return score, gate(score, *self.config.person.gate)

    def person_probability(self, lr: torch.Tensor, gate: float | None = None) -> torch.Tensor | None:
        """(1, 1, H, W) person probability of the LR photo (1, 3, H, W) in [-1, 1], scaled by
        the scene gate (``gate``, read from the photo when not given); None when there is no
        prior, it is not installed, or the gate shuts it (a street scene: the classes are then
        exactly SegDM's own)."""
        if self.person_net is None:
            return None
        weight = self.scene_gate(lr)[1] if gate is None else gate
        if weight <= 0:
            return None
        return weight * person_probability(self.person_net, (lr + 1) / 2, self.config.person.window, "max")

    def with_background(self, logits: torch.Tensor, elsewhere: float, people: bool) -> torch.Tensor:
        """Class log-probabilities (B, K, ...) -> (B, K+1, ...) with background last. The moved
        classes keep ``1 - elsewhere`` of their probability and background takes the rest, where
        ``elsewhere`` is the scene gate (0 = a street scene: the classes stay SegDM's own). On a
        photo with ``people`` (a portrait, a group) every class but the person moves, so person
        and background cover the photo; on one without (a landscape) only the classes that only
        a street has (``STREET_IDS``: road, car, ...), and sky, building and tree stay."""
        probs = torch.softmax(logits.float(), dim=1)
        person = self.config.person.class_id
        street = probs.clone()
        if people:
            street[:, person:person + 1] = 0
        else:
            keep = [k for k in range(probs.shape[1]) if k not in STREET_IDS]
            street[:, keep] = 0
        out = torch.cat([probs - elsewhere * street, elsewhere * street.sum(1, keepdim=True)], dim=1)
        return out.clamp_min(1e-6).log()

    def forward(self, x_t, s_t, x0_prev, eta, kappa_image: float) -> torch.Tensor:
        c = self.config
        level = eta.sqrt()
        image_feat = self.bridge.image_features(scale_state(x_t, eta, kappa_image), x0_prev)
        # pool first, then scale: the same numbers, 1/(s p)^2 of the arithmetic
        s_scaled = scale_state(self.segdm.pool_state(s_t) - 1.0 / c.num_classes, eta, c.kappa)
        coarse = self.segdm.forward_coarse(s_scaled, image_feat, level, x0_prev)
        return upsample(coarse, self.scale * c.pool)
