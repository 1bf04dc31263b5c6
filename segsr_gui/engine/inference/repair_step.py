"""The repair before the experts: the photo's damage found (or given) and filled at its own size."""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch


def repair_photo(model, rgb: np.ndarray, repair: bool, mask: Optional[np.ndarray], seed: int,
                 precision: str, device, opaque: Optional[np.ndarray] = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(the photo with its damage filled, the bool (H, W) damage map), or (``rgb``, None) when
    the repair is off or the model has none. A ``mask`` of another size, or one given to a
    model without a repair stage, is a ``ValueError`` a user can act on. Detection marks only
    ``opaque`` pixels (bool (H, W), None = all): what lies under transparent ones is not the photo."""
    if mask is not None:
        if not getattr(model, "has_repair", False):
            raise ValueError("this model has no repair stage, so it cannot fill a damage mask")
        if mask.shape != rgb.shape[:2]:
            raise ValueError(f"the damage mask is {mask.shape[1]}x{mask.shape[0]} pixels; the photo is "
                             f"{rgb.shape[1]}x{rgb.shape[0]}")
    if not getattr(model, "has_repair", False) or not (repair or mask is not None):
        return rgb, None
    photo = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float()[None].to(device)
    given = None if mask is None else torch.from_numpy(np.asarray(mask, bool))[None, None].to(device)
    if given is None and opaque is not None:
        given = model.repair.detect(photo, precision) & torch.from_numpy(opaque)[None, None].to(device)
    repaired, found = model.repair.repair(photo, given, seed=seed, precision=precision)
    out = np.ascontiguousarray(repaired[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy())
    return out, found[0, 0].cpu().numpy()

