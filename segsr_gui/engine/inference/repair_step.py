"""The repair before the experts: the photo's damage found (or given) and filled at its own size."""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
import torch

from segsr_gui.engine.repair.repair import shows_damage

REPAIR_MODES = ("auto", "on", "off")
SOLID = 0.9  # the opacity from which a pixel is the print itself (see repair_photo)


def repair_photo(model, rgb: np.ndarray, repair: str, mask: Optional[np.ndarray], seed: int,
                 precision: str, device, alpha: Optional[np.ndarray] = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(the photo with its damage filled, the bool (H, W) damage map), or (``rgb``, None) when
    the repair is off or the model has none. ``repair`` is one of ``REPAIR_MODES``: "on"
    fills what the detection marks; "auto" fills it only when the photo shows scratches or
    cracks (``shows_damage``), else hands back ``rgb`` with an empty map; "off" fills nothing
    but a given ``mask``, which replaces the detection in every mode. A ``mask`` of another
    size, or one given to a model without a repair stage, is a ``ValueError`` a user can act on.

    ``alpha`` (H, W) in [0, 1], None = opaque, is the photo's opacity. Only pixels at least
    ``SOLID`` opaque are the print: under transparent ones lies leftover colour of a cut-out's
    background, and its half-transparent fringe blends that colour in (light specks around a
    tree's leaves), neither of which is damage. So detection and fill see the photo with the
    other pixels filled in from the solid ones (``behind_transparent``), only solid pixels
    are marked, and the others come back as they were."""
    if mask is not None:
        if not getattr(model, "has_repair", False):
            raise ValueError("this model has no repair stage, so it cannot fill a damage mask")
        if mask.shape != rgb.shape[:2]:
            raise ValueError(f"the damage mask is {mask.shape[1]}x{mask.shape[0]} pixels; the photo is "
                             f"{rgb.shape[1]}x{rgb.shape[0]}")
    if repair not in REPAIR_MODES:
        raise ValueError(f"repair must be one of {REPAIR_MODES}, got {repair!r}")
    if not getattr(model, "has_repair", False) or (repair == "off" and mask is None):
        return rgb, None
    solid = None if alpha is None else np.asarray(alpha) >= SOLID
    seen = rgb if solid is None or solid.all() else behind_transparent(rgb, solid)
    photo = torch.from_numpy(np.ascontiguousarray(seen.transpose(2, 0, 1))).float()[None].to(device)
    given = None if mask is None else torch.from_numpy(np.asarray(mask, bool))[None, None].to(device)
    if given is None:
        given = model.repair.detect(photo, precision)
        if solid is not None:
            given = given & torch.from_numpy(solid)[None, None].to(device)
        config = model.repair.config
        if repair == "auto" and not shows_damage(given[0, 0].cpu().numpy(), config.long_marks, config.long_share):
            return rgb, np.zeros(rgb.shape[:2], bool)
    repaired, found = model.repair.repair(photo, given, seed=seed, precision=precision)
    out = np.ascontiguousarray(repaired[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy())
    if seen is not rgb:
        out[~solid] = rgb[~solid]
    return out, found[0, 0].cpu().numpy()


def behind_transparent(rgb: np.ndarray, solid: np.ndarray) -> np.ndarray:
    """``rgb`` (H, W, 3) float in [0, 1] with its pixels outside ``solid`` filled smoothly
    from the solid ones (OpenCV's Telea inpainting), so that holes in a cut-out do not look
    like specks or edges."""
    if not solid.any():
        return rgb
    rgb8 = (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)
    filled = cv2.inpaint(rgb8, (~solid).astype(np.uint8), 2, cv2.INPAINT_TELEA)
    out = rgb.copy()
    out[~solid] = filled[~solid].astype(np.float32) / 255
    return out
