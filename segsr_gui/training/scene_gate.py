"""Fit the scene gate (``engine/nets/scene.py``) and read its thresholds.

A logistic regression on SegDM's SqueezeNet features: CamVid's training frames (street) against
the wallpapers of ``training/wallpapers.py`` (other photos: landscapes, plants, animals, rooms;
training-only). Every photo is read several ways, as the app may meet it: CamVid frames as the
HR frame, its bicubic x4 LR and its real-world-degraded LR; wallpapers as they are and
real-world-degraded; and each reading again in grey, so that colour, grain and blur do not tell
the two apart. The classes are weighted to count equally.

The threshold ``street`` comes from data the fit never saw: the highest score of CamVid's
validation frames (read the same ways); ``elsewhere`` is the classifier's own boundary, 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from segsr_gui.engine.nets.scene import SceneClassifier, scene_features

WALLPAPER_SIDE = 960  # wallpapers are shrunk to this long side first (the features read 360)
DEGRADED = 3  # real-world-degraded readings of each training photo: grain and JPEG vary a lot


def grey(rgb: np.ndarray) -> np.ndarray:
    return np.repeat(rgb.mean(axis=2, keepdims=True), 3, axis=2)


def camvid_readings(split_images, seed0: int = 0, degraded: int = 1):
    """Each frame as HR, bicubic LR and ``degraded`` real-world LRs (seeded by its index), each
    in colour and in grey."""
    from segsr_gui.training.data import make_lr

    for i, image in enumerate(split_images):
        hq = image.astype(np.float32) / 255
        lrs = [make_lr(hq, "realworld", seed0 + j * 100_000 + i) for j in range(degraded)]
        for reading in (hq, make_lr(hq, "bicubic", seed0 + i), *lrs):
            yield reading
            yield grey(reading)


def wallpaper_readings(photos, seed0: int = 50_000, degraded: int = 1):
    """Each photo as it is and ``degraded`` times real-world-degraded, each in colour and in grey."""
    from segsr_gui.training.data import make_lr

    for i, photo in enumerate(photos):
        lrs = [make_lr(photo, "realworld", seed0 + j * 100_000 + i) for j in range(degraded)]
        for reading in (photo, *lrs):
            yield reading
            yield grey(reading)


def features_of(backbone, images) -> torch.Tensor:
    rows = [scene_features(backbone, torch.from_numpy(np.ascontiguousarray(im.transpose(2, 0, 1)))[None])
            for im in images]
    return torch.cat(rows)


def fit_scene(street: torch.Tensor, other: torch.Tensor, l2: float = 1e-3, iterations: int = 3000) -> SceneClassifier:
    """A logistic regression of ``other`` (score > 0) against ``street`` (< 0) on standardised
    features, the two classes weighted equally, by full-batch gradient descent."""
    x = torch.cat([street, other]).double()
    y = torch.cat([torch.zeros(len(street)), torch.ones(len(other))]).double()
    mean, scale = x.mean(0), x.std(0) + 1e-6
    xn = (x - mean) / scale
    weight_of = torch.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    w = torch.zeros(x.shape[1], dtype=torch.float64)
    b = torch.zeros((), dtype=torch.float64)
    for _ in range(iterations):
        err = weight_of * (torch.sigmoid(xn @ w + b) - y)
        w -= 0.5 * (xn.T @ err / len(y) + l2 * w)
        b -= 0.5 * err.mean()
    scene = SceneClassifier(x.shape[1])
    for name, value in (("mean", mean), ("scale", scale), ("weight", w), ("bias", b)):
        getattr(scene, name).copy_(value.float())
    return scene


def wallpaper_images(folder, side: int = WALLPAPER_SIDE) -> list[np.ndarray]:
    from PIL import Image

    images = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
            with Image.open(path) as im:
                im = im.convert("RGB")
                im.thumbnail((side, side), Image.LANCZOS)
                images.append(np.asarray(im, np.float32) / 255)
    return images


def fit_gate(backbone, data, wallpapers, log=print) -> tuple[SceneClassifier, dict]:
    """(fitted SceneClassifier, record with the thresholds and the scores they came from)."""
    from segsr_gui.training.data import load_camvid

    train = load_camvid(Path(data), "train")
    val = load_camvid(Path(data), "val")
    photos = wallpaper_images(wallpapers)
    if not photos:
        raise FileNotFoundError(f"no photos in {wallpapers} (python -m segsr_gui.training.wallpapers)")
    street_feats = features_of(backbone, camvid_readings(train.images, degraded=DEGRADED))
    other_feats = features_of(backbone, wallpaper_readings(photos, degraded=DEGRADED))
    scene = fit_scene(street_feats, other_feats)
    with torch.inference_mode():
        s_train, s_other = scene(street_feats), scene(other_feats)
        s_val = scene(features_of(backbone, camvid_readings(val.images, seed0=10_000)))
    street, elsewhere = float(s_val.max()), 0.0
    record = {
        "kind": "logistic regression on SqueezeNet features (engine/nets/scene.py)",
        "fit": f"CamVid train, {len(train.images)} frames x {2 * (2 + DEGRADED)} readings (HR, bicubic LR, "
               f"{DEGRADED} real-world LRs; colour and grey) against {len(photos)} photos of {Path(wallpapers).name} "
               f"x {2 * (1 + DEGRADED)} readings (as they are, {DEGRADED} real-world LRs; colour and grey), weighted equally",
        "street": street, "elsewhere": elsewhere,
        "street_from": f"the highest score of CamVid val ({len(val.images)} frames x 6 readings)",
        "elsewhere_from": "the classifier's boundary",
        "scores": {"camvid_train_max": float(s_train.max()), "camvid_val_p50_max": [float(s_val.median()), street],
                   "other_min_p50": [float(s_other.min()), float(s_other.median())]},
    }
    log(f"scene gate: CamVid val up to {street:.2f}, open from {elsewhere:.2f}")
    return scene, record
