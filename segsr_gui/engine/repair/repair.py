"""Detector and fill as one model: configuration, loading, and the repair call.

Weights: one safetensors file with keys ``detector.*`` and ``fill.*``; its metadata field
``config`` holds ``RepairConfig`` as JSON (also written to the run's ``repair.json``).

    model = RepairModel.load("runs/repair/repair.safetensors")
    repaired, mask = model.repair(photo)             # photo (B, 3, H, W) in [0, 1]
    repaired, mask = model.repair(photo, user_mask)  # a given mask replaces detection
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors.torch import load_file, safe_open, save_file

from segsr_gui.engine.diffusion.precision import autocast
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule, ScheduleConfig
from segsr_gui.engine.repair.detector import DamageDetector
from segsr_gui.engine.repair.fill import FillNet, fill
from segsr_gui.engine.repair.lines import straight_scratches


@dataclass(frozen=True)
class RepairConfig:
    """``widths``, ``fill_widths``: the detector's and the fill's U-Net widths; ``threshold``: damage probability above which a pixel is marked; ``min_pixels``:
    marked groups (8-connected) smaller than this are dropped; ``steps``, ``kappa``,
    ``min_noise``: the fill's ResShift schedule; ``noise_scale``: 0 = posterior mean;
    ``long_marks``, ``long_share``: the Auto repair fills a photo whose marked groups at least
    ``long_marks`` px long cover at least ``long_share`` of it (``shows_damage``)."""

    widths: tuple[int, int, int] = (24, 48, 96)
    fill_widths: tuple[int, int, int] = (16, 32, 64)
    threshold: float = 0.5
    min_pixels: int = 1
    steps: int = 4
    kappa: float = 1.0
    min_noise: float = 0.2
    noise_scale: float = 0.0
    long_marks: int = 24
    long_share: float = 0.001

    def schedule(self) -> ResShiftSchedule:
        return ResShiftSchedule(ScheduleConfig(steps=self.steps, kappa=self.kappa, min_noise=self.min_noise))

    @classmethod
    def from_dict(cls, data: dict) -> "RepairConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("widths", "fill_widths"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


class RepairModel(torch.nn.Module):
    def __init__(self, config: RepairConfig = RepairConfig()):
        super().__init__()
        self.config = config
        self.detector = DamageDetector(config.widths)
        self.fill = FillNet(config.kappa, config.fill_widths)

    def save(self, path, extra: dict | None = None) -> None:
        meta = {"config": json.dumps(asdict(self.config)), **(extra or {})}
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(path), metadata=meta)

    @classmethod
    def load(cls, path) -> "RepairModel":
        """Load a repair model; a file that is not one gives a ValueError naming it."""
        path = Path(path)
        try:
            with safe_open(str(path), "pt") as f:
                meta = f.metadata() or {}
            config = RepairConfig.from_dict(json.loads(meta["config"]))
            model = cls(config)
            model.load_state_dict(load_file(str(path)))
        except Exception as exc:  # safetensors, json and torch each raise their own kinds
            raise ValueError(f"{path}: not a repair model ({exc})") from exc
        return model.eval()

    @torch.inference_mode()
    def detect(self, photo: torch.Tensor, precision: str = "auto") -> torch.Tensor:
        """Damage mask (B, 1, H, W) bool of a photo (B, 3, H, W) in [0, 1]."""
        with autocast(photo.device, precision):
            prob = torch.sigmoid(self.detector(photo))
        return damage_mask(prob.float(), self.config.threshold, self.config.min_pixels)

    @torch.inference_mode()
    def repair(self, photo: torch.Tensor, mask: torch.Tensor | None = None, *, seed: int = 0,
               precision: str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
        """(repaired (B, 3, H, W) in [0, 1], mask (B, 1, H, W) bool). ``mask`` None =
        detect; pixels outside the mask grown by 3 px are the input's exactly."""
        if mask is None:
            mask = self.detect(photo, precision)
        mask = mask.bool()
        with autocast(photo.device, precision):
            out = fill(self.fill, photo, mask, self.config.schedule(),
                       noise_scale=self.config.noise_scale, seed=seed)
        return out.float(), mask


def damage_mask(prob: torch.Tensor, threshold: float, min_pixels: int) -> torch.Tensor:
    """The damage mask (B, 1, H, W) bool from the detector's probability (B, 1, H, W): above
    ``threshold``, plus long straight scratches along the photo's sides (``lines.py``),
    without groups under ``min_pixels``."""
    mask = prob > threshold
    for i in range(prob.shape[0]):
        lines = straight_scratches(prob[i, 0].cpu().numpy())
        if lines.any():
            mask[i, 0] |= torch.from_numpy(lines).to(mask.device)
    return drop_small(mask, min_pixels)


def shows_damage(mask: np.ndarray, long_marks: int, long_share: float) -> bool:
    """Whether a photo's damage mask (H, W) bool shows scratches or cracks: marked groups
    (8-connected) whose bounding box is at least ``long_marks`` px long cover at least
    ``long_share`` of the photo. What the detector wrongly marks in an undamaged photo (a
    catchlight, a tooth, a speck of sky in leaves) is short; scratches and cracks are long
    (``benchmarks/repair/auto_gate.py``)."""
    return long_mark_share(mask, long_marks) >= long_share


def long_mark_share(mask: np.ndarray, long_marks: int) -> float:
    """The share of the photo in marked groups (8-connected) whose bounding box is at least
    ``long_marks`` px long."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    longest = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    return float(stats[1:, cv2.CC_STAT_AREA][longest >= long_marks].sum()) / mask.size


def drop_small(mask: torch.Tensor, min_pixels: int) -> torch.Tensor:
    """``mask`` (B, 1, H, W) bool without its 8-connected groups under ``min_pixels``."""
    if min_pixels <= 1:
        return mask
    out = mask.clone()
    for i in range(mask.shape[0]):
        m = mask[i, 0].cpu().numpy().astype(np.uint8)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_pixels)
        small = small[small > 0]
        if small.size:
            out[i, 0] = torch.from_numpy(~np.isin(lab, small) & (m > 0))
    return out
