"""Synthetic degradations that turn an HQ crop into a realistic LQ input.

- ``realesrgan``: Real-ESRGAN's second-order pipeline (Wang et al., ICCVW 2021),
  with its published parameter ranges (options file ``train_realesrnet_x4plus.yml``):
  blur (isotropic / anisotropic / generalised / plateau Gaussian, sinc),
  resize (up / down / keep with area, bilinear or bicubic), Gaussian or Poisson
  noise (partly gray), JPEG; twice; then the final resize, sinc and JPEG.
- ``old_photo``: grayscale or sepia, faded contrast and lifted black point,
  film grain, dust and scratches, slight blur.
- ``bicubic``: plain bicubic downsampling.

Images are float32 (H, W, 3) RGB in [0, 1]. Every function takes a
``numpy.random.Generator`` so a given seed always gives the same output.
Tone changes (grayscale, sepia) are returned as a transform that the caller
applies to the HQ target too: a model cannot be asked to invent colour.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
from PIL import Image

cv2.setNumThreads(1)  # the training loop already uses both cores for torch

# --- kernels ---------------------------------------------------------------


def _grid(size: int):
    r = np.arange(size) - size // 2
    return np.meshgrid(r, r, indexing="xy")


def gaussian_kernel(size: int, sigma_x: float, sigma_y: float, theta: float,
                    beta: float = 2.0, plateau: bool = False) -> np.ndarray:
    """Anisotropic (generalised / plateau) Gaussian kernel, normalised to sum 1.

    ``beta`` = 2 is the ordinary Gaussian; other betas give the generalised
    shape exp(-q^(beta/2)) and the plateau shape 1 / (1 + q^(beta/2))."""
    xx, yy = _grid(size)
    c, s = math.cos(theta), math.sin(theta)
    u, v = c * xx + s * yy, -s * xx + c * yy
    q = (u / sigma_x) ** 2 + (v / sigma_y) ** 2
    k = 1.0 / (1.0 + q ** (beta / 2)) if plateau else np.exp(-0.5 * q ** (beta / 2))
    return (k / k.sum()).astype(np.float32)


def sinc_kernel(size: int, cutoff: float) -> np.ndarray:
    """2-D circular low-pass (sinc) kernel with cutoff in radians, for ringing artefacts."""
    from scipy.special import j1

    xx, yy = _grid(size)
    r = np.hypot(xx, yy)
    safe_r = np.where(r == 0, 1.0, r)
    k = np.where(r == 0, cutoff**2 / (4 * np.pi), cutoff * j1(cutoff * safe_r) / (2 * np.pi * safe_r))
    return (k / k.sum()).astype(np.float32)


def random_blur_kernel(rng: np.random.Generator, sigma_range=(0.2, 3.0), sinc_prob=0.1,
                       beta_g=(0.5, 4.0), beta_p=(1.0, 2.0)) -> np.ndarray:
    """A kernel drawn as Real-ESRGAN does: size 7-21, one of six Gaussian shapes or sinc."""
    size = int(rng.choice(np.arange(7, 22, 2)))
    if rng.random() < sinc_prob:
        cutoff = rng.uniform(np.pi / 3, np.pi) if size < 13 else rng.uniform(np.pi / 5, np.pi)
        return sinc_kernel(size, cutoff)
    kind = str(rng.choice(["iso", "aniso", "gen_iso", "gen_aniso", "plat_iso", "plat_aniso"],
                          p=[0.45, 0.25, 0.12, 0.03, 0.12, 0.03]))
    iso = not kind.endswith("aniso")
    sx = rng.uniform(*sigma_range)
    sy = sx if iso else rng.uniform(*sigma_range)
    theta = 0.0 if iso else rng.uniform(-np.pi, np.pi)
    if kind.startswith("gen"):
        return gaussian_kernel(size, sx, sy, theta, rng.uniform(*beta_g))
    if kind.startswith("plat"):
        return gaussian_kernel(size, sx, sy, theta, rng.uniform(*beta_p), plateau=True)
    return gaussian_kernel(size, sx, sy, theta)


# --- primitive operations --------------------------------------------------


def blur(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT101)


_INTERP = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}


def resize(img: np.ndarray, width: int, height: int, mode: str) -> np.ndarray:
    out = cv2.resize(img, (max(1, width), max(1, height)), interpolation=_INTERP[mode])
    return np.clip(out, 0, 1)


def gaussian_noise(img, rng, sigma: float, gray: bool) -> np.ndarray:
    shape = img.shape[:2] + ((1,) if gray else (img.shape[2],))
    return np.clip(img + rng.normal(0, sigma, shape).astype(np.float32), 0, 1)


def poisson_noise(img, rng, scale: float, gray: bool) -> np.ndarray:
    """Shot noise: photon counts drawn at 8-bit-like intensity levels, times ``scale``."""
    base = img.mean(axis=2, keepdims=True) if gray else img
    levels = 255.0
    noisy = rng.poisson(np.clip(base, 0, 1) * levels) / levels
    return np.clip(img + (noisy - base).astype(np.float32) * scale, 0, 1)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(np.round(img * 255).astype(np.uint8)).save(buf, "JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.float32) / 255


def random_noise(img, rng, gaussian_sigma, poisson_scale, gray_prob=0.4, gaussian_prob=0.5):
    gray = rng.random() < gray_prob
    if rng.random() < gaussian_prob:
        return gaussian_noise(img, rng, rng.uniform(*gaussian_sigma) / 255, gray)
    return poisson_noise(img, rng, rng.uniform(*poisson_scale), gray)


def random_resize(img, rng, scale_range, probs=(0.2, 0.7, 0.1)):
    kind = rng.choice(["up", "down", "keep"], p=list(probs))
    factor = {"up": lambda: rng.uniform(1, scale_range[1]),
              "down": lambda: rng.uniform(scale_range[0], 1), "keep": lambda: 1.0}[kind]()
    h, w = img.shape[:2]
    mode = str(rng.choice(["area", "bilinear", "bicubic"]))
    return resize(img, int(round(w * factor)), int(round(h * factor)), mode)


# --- pipelines ---------------------------------------------------------------


def realesrgan(hq: np.ndarray, rng: np.random.Generator, scale: int = 4) -> np.ndarray:
    """Real-ESRGAN's second-order degradation of ``hq`` to ``1/scale`` of its size."""
    h, w = hq.shape[:2]
    img = blur(hq, random_blur_kernel(rng, (0.2, 3.0), 0.1))
    img = random_resize(img, rng, (0.15, 1.5))
    img = random_noise(img, rng, (1, 30), (0.05, 3))
    img = jpeg(img, rng.integers(30, 96))
    if rng.random() < 0.8:
        img = blur(img, random_blur_kernel(rng, (0.2, 1.5), 0.1))
    img = random_resize(img, rng, (0.3, 1.2), (0.3, 0.4, 0.3))
    img = random_noise(img, rng, (1, 25), (0.05, 2.5))
    target = (w // scale, h // scale)
    mode = str(rng.choice(["area", "bilinear", "bicubic"]))
    final_sinc = sinc_kernel(int(rng.choice(np.arange(7, 22, 2))), rng.uniform(np.pi / 3, np.pi))
    if rng.random() < 0.5:  # resize + sinc, then JPEG
        img = resize(img, *target, mode)
        if rng.random() < 0.8:
            img = blur(img, final_sinc)
        img = jpeg(np.clip(img, 0, 1), rng.integers(30, 96))
    else:  # JPEG, then resize + sinc
        img = jpeg(img, rng.integers(30, 96))
        img = resize(img, *target, mode)
        if rng.random() < 0.8:
            img = blur(img, final_sinc)
    return np.clip(img, 0, 1).astype(np.float32)


def to_gray(img: np.ndarray) -> np.ndarray:
    y = img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(y[..., None], 3, axis=2)


def to_sepia(img: np.ndarray) -> np.ndarray:
    y = to_gray(img)[..., :1]
    return np.clip(y * np.array([1.07, 0.74, 0.43], dtype=np.float32) + 0.04, 0, 1).astype(np.float32)


def dust_and_scratches(img: np.ndarray, rng: np.random.Generator, specks: int, scratches: int):
    out = img.copy()
    h, w = img.shape[:2]
    for _ in range(specks):
        colour = float(rng.choice([rng.uniform(0.85, 1.0), rng.uniform(0.0, 0.15)]))
        cv2.circle(out, (int(rng.integers(w)), int(rng.integers(h))),
                   int(rng.integers(0, 3)), (colour,) * 3, -1, cv2.LINE_AA)
    for _ in range(scratches):
        x0, y0 = int(rng.integers(w)), int(rng.integers(h))
        angle = rng.uniform(-0.3, 0.3) + np.pi / 2 * rng.integers(2)
        length = rng.uniform(0.2, 0.9) * max(h, w)
        x1, y1 = int(x0 + length * math.cos(angle)), int(y0 + length * math.sin(angle))
        colour = float(rng.uniform(0.8, 1.0))
        cv2.line(out, (x0, y0), (x1, y1), (colour,) * 3, 1, cv2.LINE_AA)
    return out


def old_photo(hq: np.ndarray, rng: np.random.Generator, scale: int = 4, painted: list | None = None):
    """Old-photo degradation. Returns (lq, tone) where ``tone`` maps the HQ target to
    the same tone (grayscale, sepia or unchanged). ``painted``, where given, receives the
    print just before and just after its dust and scratches (where the damage is)."""
    h, w = hq.shape[:2]
    tone: Callable[[np.ndarray], np.ndarray] = {
        0: to_gray, 1: to_sepia, 2: lambda x: x}[int(rng.choice(3, p=[0.45, 0.35, 0.2]))]
    img = tone(hq)
    img = blur(img, gaussian_kernel(9, rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0), rng.uniform(-np.pi, np.pi)))
    img = resize(img, w // scale, h // scale, str(rng.choice(["area", "bilinear", "bicubic"])))
    contrast, black = rng.uniform(0.55, 0.95), rng.uniform(0.0, 0.15)
    img = black + contrast * img + (1 - contrast - black) * 0.5 * rng.uniform(0, 1)
    img = img + rng.normal(0, rng.uniform(0.01, 0.05), img.shape[:2] + (1,)).astype(np.float32)
    before = np.clip(img, 0, 1).astype(np.float32)
    img = dust_and_scratches(before, rng, int(rng.integers(0, 12)), int(rng.integers(0, 3)))
    if painted is not None:
        painted[:] = [before, img]
    if rng.random() < 0.5:
        img = jpeg(img, rng.integers(40, 96))
    return np.clip(img, 0, 1).astype(np.float32), tone


def bicubic(hq: np.ndarray, scale: int = 4) -> np.ndarray:
    """Pillow bicubic downsampling, as the SR literature makes its LR images."""
    h, w = hq.shape[:2]
    im = Image.fromarray(np.round(hq * 255).astype(np.uint8))
    return np.asarray(im.resize((w // scale, h // scale), Image.BICUBIC), dtype=np.float32) / 255


@dataclass(frozen=True)
class DegradationMix:
    """Shares of each pipeline in training pairs (the rest is Real-ESRGAN's)."""

    bicubic: float = 0.2
    old_photo: float = 0.2


def degrade_pair(hq: np.ndarray, rng: np.random.Generator, mix: DegradationMix = DegradationMix(),
                 scale: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """One training pair (lq, target) from an HQ crop whose sides are multiples of ``scale``."""
    r = rng.random()
    if r < mix.bicubic:
        return bicubic(hq, scale), hq
    if r < mix.bicubic + mix.old_photo:
        lq, tone = old_photo(hq, rng, scale)
        return lq, tone(hq).astype(np.float32)
    return realesrgan(hq, rng, scale), hq
