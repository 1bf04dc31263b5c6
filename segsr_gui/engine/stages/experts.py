"""The first stage: two pretrained experts enlarge the photo, blended by the restoration strength.

The *faithful* expert (SPAN x4 as shipped: sharp, grain kept) is part of the model file; the
*clean* expert (Real-ESRGAN x4plus: grain, noise and JPEG blocks removed) is 67 MB, converted at
set-up by ``segsr import-pretrained`` and attached by the loader, which checks the sha256 the
manifest records. Strength 0 is the faithful expert alone, 1 the clean one; Auto reads the
photo's damage with a small estimator (``nets/damage.py``) and maps it through two thresholds
chosen on validation; a toned monochrome print (sepia and the like, ``nets/print_tone.py``)
gets the clean look whatever its damage reads. The blend loses the experts' faint 4-pixel lattice (``nets/lattice.py``)
and takes its band below ``tone_sigma`` from the bicubic-enlarged photo, so no expert shifts
the photo's tones (``diffusion/low_frequencies.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from segsr_gui.engine.diffusion.low_frequencies import keep_low_frequencies
from segsr_gui.engine.diffusion.precision import autocast
from segsr_gui.engine.nets.damage import DamageEstimator, strength_from_damage
from segsr_gui.engine.nets.lattice import remove_lattice
from segsr_gui.engine.nets.print_tone import read_tone
from segsr_gui.engine.nets.span import SPAN
from segsr_gui.errors import WeightsError


# Strength s moves a pixel by s x |clean - faithful|; on the validation photos of
# benchmarks/quality/visible_strength.py the 99.9th percentile of that reaches 2 grey levels
# at s = 2.9 % (median photo)
SMALLEST_VISIBLE = 0.03


def bicubic_up(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic upsampling of an LR tensor in [-1, 1], clamped."""
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


@dataclass(frozen=True)
class ExpertsConfig:
    """The first stage's numbers (the manifest's ``config.experts``).

    Args:
        faithful_channels, faithful_blocks: the SPAN x4's size (48, 6 as shipped).
        clean: "x4plus" = a clean expert (Real-ESRGAN x4plus) blended in by the strength;
            "" = the faithful expert alone (strength means nothing).
        auto_strength: (low, high) damage thresholds of Auto, chosen on validation: 0 below
            low, 1 from high, linear between; the shipped models step (high = low, see
            ``training.damage.thresholds``); () = no damage estimator, so Auto means 0.
        toned_print: (min chroma, max off-hue share, lowest hue, highest hue) of a toned
            print, which Auto gives strength 1 (``nets/print_tone.py``); () = no such rule.
        lattice_sigma: LR pixels of the lattice removal (0 = off).
        tone_sigma: HR pixels; the band below it comes from the bicubic photo (0 = off).
    """

    faithful_channels: int = 48
    faithful_blocks: int = 6
    clean: str = "x4plus"
    auto_strength: tuple = (0.271, 0.271)
    toned_print: tuple = (12.0, 0.06, 100.0, 170.0)
    lattice_sigma: float = 4.0
    tone_sigma: float = 16.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["auto_strength"] = list(self.auto_strength)
        data["toned_print"] = list(self.toned_print)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ExpertsConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("auto_strength", "toned_print"):
            if key in known:
                known[key] = tuple(float(v) for v in known[key])
        return cls(**known)


class Experts(nn.Module):
    """``first_estimate(lr, strength) -> y``: the chain's start (B, 3, sH, sW) in [-1, 1]."""

    def __init__(self, config: ExpertsConfig = ExpertsConfig(), scale: int = 4):
        super().__init__()
        if config.clean not in ("", "x4plus"):
            raise ValueError(f"the clean expert must be '' or 'x4plus', not {config.clean!r}")
        if config.auto_strength and len(config.auto_strength) != 2:
            raise ValueError("auto_strength holds two thresholds (low, high) or none")
        if config.toned_print and len(config.toned_print) != 4:
            raise ValueError("toned_print holds four numbers (min chroma, max off-hue share, hue range) or none")
        self.config, self.scale = config, scale
        self.faithful = SPAN(config.faithful_channels, scale, config.faithful_blocks)
        self.damage = DamageEstimator() if config.auto_strength else None
        # a plain dict: nn.Module does not register what it holds, so the clean expert's
        # weights stay out of the model file and its state dict
        self._external: dict[str, nn.Module] = {}

    def attach_clean(self, net: nn.Module) -> None:
        self._external["clean"] = net.eval().requires_grad_(False)

    @property
    def clean(self) -> nn.Module | None:
        return self._external.get("clean")

    @property
    def has_strength(self) -> bool:
        return bool(self.config.clean)

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

    def toned_print(self, lr: torch.Tensor) -> bool:
        """Whether Auto reads the LR photo (1, 3, H, W) in [-1, 1] as a toned print."""
        return bool(self.config.toned_print) and read_tone(lr).toned(*self.config.toned_print)

    def strength_for(self, damage: float, toned: bool = False) -> float:
        """The strength Auto gives a photo of this ``damage`` (the model's thresholds), 1 for a
        toned print; one too small to see is 0, which spares the clean expert's pass."""
        if toned:
            return 1.0
        strength = strength_from_damage(damage, *self.config.auto_strength)
        return 0.0 if strength < SMALLEST_VISIBLE else strength

    def blend(self, lr: torch.Tensor, strength: float = 0.0, precision: str = "fp32") -> torch.Tensor:
        """The experts' outputs blended by ``strength``, in [-1, 1] scale, not clamped (what
        ``finish`` turns into the first estimate). At strength 0 the clean expert does not
        run, at 1 the faithful one does not."""
        strength = float(strength) if self.config.clean else 0.0
        if strength > 0 and self.clean is None:
            raise WeightsError("The clean expert (Real-ESRGAN x4plus) is not installed; run "
                               "`segsr import-pretrained --only x4plus`, or use strength 0.")
        lr01 = (lr + 1) / 2
        with autocast(lr.device, precision):
            out = 0.0
            if strength < 1:
                out = (1 - strength) * self.faithful(lr01).float()
            if strength > 0:
                out = out + strength * self.clean(lr01).float()
        return out * 2 - 1

    def finish(self, y: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        """The lattice removed, clamped, the photo's tones kept (``lr``: the LR photo of ``y``)."""
        c = self.config
        if c.lattice_sigma > 0:
            y = remove_lattice(y, c.lattice_sigma, self.scale)
        y = y.clamp(-1, 1)
        if c.tone_sigma > 0:
            y = keep_low_frequencies(y, bicubic_up(lr, self.scale), c.tone_sigma)
        return y

    def first_estimate(self, lr: torch.Tensor, strength: float = 0.0, precision: str = "fp32") -> torch.Tensor:
        return self.finish(self.blend(lr, strength, precision), lr)
