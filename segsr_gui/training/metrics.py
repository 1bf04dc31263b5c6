"""Image and segmentation metrics as plain functions returning floats.

Images are float arrays (H, W, 3) RGB in [0, 1] (or (H, W) grayscale). PSNR and
SSIM follow the SR literature: Y channel of ITU-R BT.601 (as MATLAB's
``rgb2ycbcr``), a ``shave``-pixel border removed.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def to_y(img: np.ndarray) -> np.ndarray:
    """Y channel in [16, 235] of an RGB image in [0, 1]; grayscale is taken as Y-equivalent RGB."""
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) or (H, W), got {img.shape}")
    img = img.astype(np.float64)
    return 16.0 + 65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2]


def _shave(a: np.ndarray, shave: int) -> np.ndarray:
    return a[shave:-shave, shave:-shave] if shave else a


def psnr_y(pred: np.ndarray, target: np.ndarray, shave: int = 4) -> float:
    """PSNR (dB) on the Y channel, 8-bit rounding as the benchmarks' reference code."""
    if pred.shape != target.shape:
        raise ValueError(f"shape mismatch {pred.shape} vs {target.shape}")
    a = _shave(np.round(to_y(np.round(pred * 255) / 255)), shave)
    b = _shave(np.round(to_y(np.round(target * 255) / 255)), shave)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim_y(pred: np.ndarray, target: np.ndarray, shave: int = 4) -> float:
    """SSIM (Wang et al. 2004; Gaussian window sigma 1.5) on the Y channel."""
    a = _shave(np.round(to_y(np.round(pred * 255) / 255)), shave)
    b = _shave(np.round(to_y(np.round(target * 255) / 255)), shave)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: gaussian_filter(x, 1.5, truncate=3.5)  # 11x11 window as the reference
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(ssim_map[5:-5, 5:-5].mean())


def confusion(pred: np.ndarray, label: np.ndarray, num_classes: int, ignore: int) -> np.ndarray:
    """(K, K + 1) counts: rows true class, columns predicted; the last column counts the
    predictions that are none of the K classes (a model's background), which are errors for
    the true class; ``ignore`` pixels are skipped."""
    keep = label != ignore
    predicted = np.minimum(pred[keep].astype(np.int64), num_classes)
    idx = label[keep].astype(np.int64) * (num_classes + 1) + predicted
    return np.bincount(idx, minlength=num_classes * (num_classes + 1)).reshape(num_classes, num_classes + 1)


def class_iou(conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class: intersection over union (0 where the class is nowhere), and whether it is
    present in labels or predictions."""
    k = conf.shape[0]
    inter = np.diag(conf[:, :k]).astype(np.float64)
    union = conf[:, :k].sum(0) + conf.sum(1) - inter
    return inter / np.maximum(union, 1), union > 0


def miou(conf: np.ndarray) -> float:
    """Mean intersection over union of the classes present in labels or predictions."""
    iou, present = class_iou(conf)
    return float(iou[present].mean()) if present.any() else 0.0
