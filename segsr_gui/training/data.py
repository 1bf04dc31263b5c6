"""CamVid and SR-benchmark data: images held in memory, crops and fixed evaluation sets.

Folders follow ``../shared/data`` (see its README): ``camvid/{train,val,test}``
with ``...annot`` label folders, ``sr_bench/{Set5,Set14,BSD68,Urban100}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from segsr_gui.classes import IGNORE_ID
from segsr_gui.training.degrade import DegradationMix, bicubic, degrade_pair, realesrgan


@dataclass
class LabelledImages:
    images: list[np.ndarray]  # uint8 (H, W, 3)
    labels: list[np.ndarray]  # uint8 (H, W), IGNORE_ID = unlabelled
    names: list[str]


def load_camvid(data_root: str | Path, split: str) -> LabelledImages:
    root = Path(data_root) / "camvid"
    files = sorted((root / split).glob("*.png"))
    if not files:
        raise FileNotFoundError(f"no CamVid images in {root / split}")
    images, labels = [], []
    for f in files:
        images.append(np.asarray(Image.open(f).convert("RGB")))
        labels.append(np.asarray(Image.open(root / f"{split}annot" / f.name)))
    return LabelledImages(images, labels, [f.stem for f in files])


def load_sr_set(data_root: str | Path, name: str, scale: int = 4) -> tuple[list[np.ndarray], list[str]]:
    """HR images of a benchmark set as float32 RGB in [0, 1], cropped to a multiple of ``scale``."""
    files = sorted(p for p in (Path(data_root) / "sr_bench" / name).iterdir()
                   if p.suffix.lower() in (".png", ".jpg", ".bmp"))
    out = []
    for f in files:
        a = np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255
        h, w = a.shape[0] // scale * scale, a.shape[1] // scale * scale
        out.append(a[:h, :w])
    return out, [f.stem for f in files]


def make_lr(hq: np.ndarray, kind: str, seed: int, scale: int = 4) -> np.ndarray:
    """A fixed LR input for evaluation: ``bicubic`` or ``realworld`` (Real-ESRGAN's pipeline,
    seeded, so every run sees the same inputs)."""
    if kind == "bicubic":
        return bicubic(hq, scale)
    if kind == "realworld":
        return realesrgan(hq, np.random.default_rng(seed), scale)
    raise ValueError(f"unknown LR kind {kind!r}")


def photometric_jitter(hq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same scene under another exposure and camera: gamma, gain, saturation and white
    balance drawn at random, clipped to [0, 1]. Applied to the HQ crop before it is degraded,
    so the SR target moves with it; the labels do not change.

    Why: CamVid's sequences differ mostly in light. Mean brightness is 0.23 in 0001TP and
    0.54 in 0006R0 (train), 0.46 in Seq05VD, which is three quarters of the test frames and
    in no training split; val (0016E5) is a training sequence. The ranges cover that spread."""
    gamma = float(np.exp(rng.uniform(-0.4, 0.4)))
    gain = float(np.exp(rng.uniform(-0.3, 0.3)))
    saturation = float(rng.uniform(0.5, 1.5))
    balance = np.exp(rng.uniform(-0.05, 0.05, size=3)).astype(np.float32)
    out = np.power(np.clip(hq, 0.0, 1.0), gamma) * gain
    gray = out @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    out = gray[..., None] + saturation * (out - gray[..., None])
    return np.clip(out * balance, 0.0, 1.0).astype(np.float32)


class CropSampler:
    """Random HR crops (with labels) and their degraded LR inputs, for training.

    ``photometric``: the share of crops given ``photometric_jitter`` (0 = none, as the
    first models were trained). ``scale_jitter`` j: each crop is cut at ``crop * f`` and
    resized to ``crop`` for a log-uniform f in [1/(1+j), 1+j] (bicubic image, nearest
    labels), so objects appear at more sizes than CamVid's one camera gives (0 = none)."""

    def __init__(self, data: LabelledImages, crop: int, scale: int = 4,
                 mix: DegradationMix = DegradationMix(), seed: int = 0, photometric: float = 0.0,
                 scale_jitter: float = 0.0):
        self.data, self.crop, self.scale, self.mix = data, crop, scale, mix
        self.photometric = photometric
        self.scale_jitter = scale_jitter
        self.rng = np.random.default_rng(seed)
        # Its own stream: with the jitter on or off, a seed gives the same crops and degradations.
        self.jitter_rng = np.random.default_rng([seed, 1])

    def batch(self, size: int):
        """(lq (B, h, w, 3), hq (B, H, W, 3)) float32 in [0, 1], labels (B, H, W) uint8."""
        lqs, hqs, labels = [], [], []
        for _ in range(size):
            i = int(self.rng.integers(len(self.data.images)))
            img, lab = self.data.images[i], self.data.labels[i]
            side = self.crop  # of the cut, before any resize to ``crop``
            if self.scale_jitter:
                f = float(np.exp(self.jitter_rng.uniform(-1, 1) * np.log1p(self.scale_jitter)))
                side = min(int(round(self.crop * f)), *img.shape[:2])
            top = int(self.rng.integers(img.shape[0] - side + 1)) // self.scale * self.scale
            left = int(self.rng.integers(img.shape[1] - side + 1)) // self.scale * self.scale
            img, lab = img[top:top + side, left:left + side], lab[top:top + side, left:left + side]
            if side != self.crop:
                img, lab = resized_crop(img, lab, self.crop)
            hq = img.astype(np.float32) / 255
            if self.rng.random() < 0.5:
                hq, lab = hq[:, ::-1], lab[:, ::-1]
            if self.photometric and self.jitter_rng.random() < self.photometric:
                hq = photometric_jitter(hq, self.jitter_rng)
            lq, target = degrade_pair(np.ascontiguousarray(hq), self.rng, self.mix, self.scale)
            lqs.append(lq)
            hqs.append(target)
            labels.append(np.ascontiguousarray(lab))
        return np.stack(lqs), np.stack(hqs), np.stack(labels)


def resized_crop(img: np.ndarray, lab: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """An image crop (bicubic) and its labels (nearest, so no class is invented) at size x size."""
    image = Image.fromarray(img).resize((size, size), Image.Resampling.BICUBIC)
    labels = Image.fromarray(lab).resize((size, size), Image.Resampling.NEAREST)
    return np.asarray(image), np.asarray(labels)


def _class_pixels(labels: list[np.ndarray], num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per class id 0..K-1: its pixel count, and the pixel count of the images it appears in."""
    counts = np.zeros(num_classes)
    present = np.zeros(num_classes)
    for lab in labels:
        c = np.bincount(lab.ravel(), minlength=num_classes + 1)[:num_classes]
        counts += c
        present += (c > 0) * lab.size
    return counts, present


def median_frequency_weights(labels: list[np.ndarray], num_classes: int) -> np.ndarray:
    """Cross-entropy class weights by median frequency balancing (Eigen & Fergus 2015, used
    by SegNet on CamVid): ``median(f) / f_c``, where ``f_c`` is class c's pixel count over
    the pixels of the images it appears in. Rare classes (pole, sign, bicyclist) weigh most,
    which is what a mean over classes (mIoU) rewards. A class absent from every image gets 0."""
    counts, present = _class_pixels(labels, num_classes)
    seen = counts > 0
    freq = np.where(seen, counts / np.maximum(present, 1), 0.0)
    weights = np.zeros(num_classes)
    weights[seen] = np.median(freq[seen]) / freq[seen]
    return weights.astype(np.float32)


def labels_or_ignore(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Any id outside 0..K-1 becomes the ignore id."""
    out = labels.copy()
    out[out >= num_classes] = IGNORE_ID
    return out
