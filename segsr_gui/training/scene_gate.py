"""Fit the person prior's scene gate (``engine/nets/scene.py``) and read its thresholds.

The statistics come from CamVid's training frames, each read three ways (the HR frame, its
bicubic x4 LR and its real-world-degraded LR, as the app may meet them). The thresholds come
from data the fit never saw: ``street`` is the largest distance of CamVid's validation frames
(read the same three ways), ``elsewhere`` the smallest of the sharp non-street photos of
``training/wallpapers.py`` (training-only photos; none shows a street scene like CamVid's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from segsr_gui.engine.nets.scene import SceneDistance, scene_features


def camvid_readings(split_images, seed0: int = 0):
    """Each frame three ways: HR, bicubic LR, real-world LR (seeded by its index)."""
    from segsr_gui.training.data import make_lr

    for i, image in enumerate(split_images):
        hq = image.astype(np.float32) / 255
        yield hq
        yield make_lr(hq, "bicubic", seed0 + i)
        yield make_lr(hq, "realworld", seed0 + i)


def features_of(backbone, images) -> torch.Tensor:
    rows = [scene_features(backbone, torch.from_numpy(np.ascontiguousarray(im.transpose(2, 0, 1)))[None])
            for im in images]
    return torch.cat(rows)


def fit_scene(feats: torch.Tensor, components: int = 16) -> SceneDistance:
    """The main directions and variances of ``feats`` (N, C)."""
    mean = feats.mean(0)
    centred = feats - mean
    _, singular, vt = torch.linalg.svd(centred, full_matrices=False)
    basis = vt[:components]
    variance = singular[:components] ** 2 / len(feats)
    rest = centred - centred @ basis.T @ basis
    scene = SceneDistance(components, feats.shape[1])
    scene.mean.copy_(mean)
    scene.basis.copy_(basis)
    scene.variance.copy_(variance)
    scene.residual_variance.copy_((rest ** 2).sum(1).mean())
    return scene


def wallpaper_images(folder) -> list[np.ndarray]:
    from PIL import Image

    images = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
            with Image.open(path) as im:
                images.append(np.asarray(im.convert("RGB"), np.float32) / 255)
    return images


def fit_gate(backbone, data, wallpapers, log=print) -> tuple[SceneDistance, dict]:
    """(fitted SceneDistance, record with the thresholds and the distances they came from)."""
    from segsr_gui.training.data import load_camvid

    train = load_camvid(Path(data), "train")
    val = load_camvid(Path(data), "val")
    train_feats = features_of(backbone, camvid_readings(train.images))
    scene = fit_scene(train_feats)
    with torch.inference_mode():
        d_train = scene(train_feats)
        d_val = scene(features_of(backbone, camvid_readings(val.images, seed0=10_000)))
        photos = wallpaper_images(wallpapers)
        if not photos:
            raise FileNotFoundError(f"no photos in {wallpapers} (python -m segsr_gui.training.wallpapers)")
        d_else = scene(features_of(backbone, photos))
    street, elsewhere = float(d_val.max()), float(d_else.min())
    record = {
        "fit": f"CamVid train, {len(train.images)} frames x 3 readings (HR, bicubic LR, real-world LR)",
        "components": int(scene.basis.shape[0]),
        "street": street, "elsewhere": elsewhere,
        "street_from": f"the largest distance of CamVid val ({len(val.images)} frames x 3 readings)",
        "elsewhere_from": f"the smallest distance of {len(photos)} non-street photos ({Path(wallpapers).name})",
        "distances": {"camvid_train_p50_max": [float(d_train.median()), float(d_train.max())],
                      "camvid_val_p50_max": [float(d_val.median()), street],
                      "elsewhere_min_p50": [elsewhere, float(d_else.median())]},
    }
    log(f"scene gate: CamVid val up to {street:.2f}, other photos from {elsewhere:.2f}")
    return scene, record
