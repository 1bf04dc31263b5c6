"""Scores of the repair (``engine/repair``) on synthetic damage with a known truth.

``damaged_set`` paints the recipe of ``training/scratches.py`` on whole images with fixed
seeds; ``detection_counts`` and ``prf`` give precision / recall / F1 with a 1-pixel
tolerance (a marked pixel is right if a true one lies within 1 px, and the other way round
for recall); ``psnr_y_inside`` compares a fill with the undamaged print inside the damage.
Images are float32 (H, W, 3) in [0, 1], masks (H, W) bool.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from segsr_gui.training.metrics import to_y
from segsr_gui.training.scratches import damage_example


@dataclass
class Example:
    name: str
    damaged: np.ndarray
    clean: np.ndarray
    mask: np.ndarray


def damaged_set(images, names, seed: int, crop: tuple[int, int] | None = None) -> list[Example]:
    """Each image (uint8 or float (H, W, 3)) damaged with ``default_rng(seed + i)``;
    ``crop`` (h, w) takes the top-left window first (bounds the cost)."""
    out = []
    for i, (img, name) in enumerate(zip(images, names)):
        a = img.astype(np.float32) / 255 if img.dtype == np.uint8 else img.astype(np.float32)
        if a.ndim == 2:
            a = np.repeat(a[..., None], 3, 2)
        if crop is not None:
            a = a[:crop[0], :crop[1]]
        d, c, m = damage_example(a, np.random.default_rng(seed + i), clean_share=0.0)
        out.append(Example(name, d, c, m))
    return out


def _grow(mask: np.ndarray, px: int = 1) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1,) * 2, np.uint8)) > 0


def detection_counts(pred: np.ndarray, truth: np.ndarray, tol: int = 1) -> np.ndarray:
    """[marked & near truth, marked, truth & near marked, truth] (sum these over images)."""
    return np.array([(pred & _grow(truth, tol)).sum(), pred.sum(), (truth & _grow(pred, tol)).sum(), truth.sum()],
                    dtype=np.int64)


def prf(counts: np.ndarray) -> dict:
    """Precision, recall, F1 from summed ``detection_counts`` (0 where undefined)."""
    p = counts[0] / counts[1] if counts[1] else 0.0
    r = counts[2] / counts[3] if counts[3] else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


def psnr_y_inside(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """PSNR on Y (BT.601, 8-bit scale) over the mask's pixels only; inf if equal."""
    if not mask.any():
        return float("nan")
    d = (to_y(pred) - to_y(target))[mask]
    mse = float(np.mean(d.astype(np.float64) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def to_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None].float()


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).float().cpu().numpy()


def mask_tensor(m: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(m)[None, None]


def damage_probability(model, img: np.ndarray) -> np.ndarray:
    """The detector's damage probability (H, W) in [0, 1] of an image (H, W, 3) in [0, 1]."""
    from segsr_gui.engine.diffusion.precision import autocast

    with torch.inference_mode(), autocast(torch.device("cpu")):
        return torch.sigmoid(model.detector(to_tensor(img)))[0, 0].float().numpy()
