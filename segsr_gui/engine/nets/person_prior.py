"""The person prior: where a photo shows people, from MediaPipe's selfie net (``selfie.py``),
and how it enters the class state.

The net sees 256x256 pixels. Squashing a whole photo to that finds a face that fills the
frame but not a figure in a landscape or the people of a large group, so a photo where the
whole view finds (almost) nobody is also read in square windows (``window`` photo pixels,
overlapping by a quarter) resized to the net's size, and the views are merged (``merge``:
"max" keeps a person any view saw; "mean" averages the windows and then takes the larger of
that and the whole view). Where the whole view already finds people (more than
``PEOPLE_SHARE`` of the photo: a portrait, a group), the windows are not read: a window of
curtain or coat makes the selfie net see a person in it, the spill of issue 39.
benchmarks/people/person.py measures the choices.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from segsr_gui.engine.nets.selfie import SIZE

# a photo shows people (a portrait, a group) when the prior marks more than this share of it
PEOPLE_SHARE = 0.05


def _windows(length: int, side: int) -> list[int]:
    """Start offsets of windows of ``side`` covering ``length`` with a quarter's overlap."""
    if length <= side:
        return [0]
    step = side * 3 // 4
    starts = list(range(0, length - side, step))
    return starts + [length - side]


def _view(net, rgb: torch.Tensor) -> torch.Tensor:
    """The net's probability for ``rgb`` (1, 3, h, w) in [0, 1], at (1, 1, h, w)."""
    squashed = F.interpolate(rgb, size=(SIZE, SIZE), mode="bilinear", align_corners=False, antialias=True)
    prob = net(squashed.clamp(0, 1))
    return F.interpolate(prob, size=rgb.shape[-2:], mode="bilinear", align_corners=False)


@torch.inference_mode()
def person_probability(net, rgb: torch.Tensor, window: int = 0, merge: str = "max") -> torch.Tensor:
    """(1, 1, H, W) person probability of a photo ``rgb`` (1, 3, H, W) in [0, 1]: the whole
    photo squashed, plus (``window`` > 0, photos larger than it where the whole view finds
    no people) overlapping windows."""
    rgb = rgb.float()
    whole = _view(net, rgb)
    h, w = rgb.shape[-2:]
    if window <= 0 or max(h, w) <= window * 1.25 or float((whole > 0.5).float().mean()) > PEOPLE_SHARE:
        return whole
    side = min(window, h, w)
    total = torch.zeros_like(whole)
    count = torch.zeros_like(whole)
    for top in _windows(h, side):
        for left in _windows(w, side):
            part = _view(net, rgb[..., top:top + side, left:left + side])
            region = (..., slice(top, top + side), slice(left, left + side))
            if merge == "max":
                total[region] = torch.maximum(total[region], part)
                count[region] = 1
            else:
                total[region] += part
                count[region] += 1
    return torch.maximum(whole, total / count.clamp(min=1))


def fuse_person(logits: torch.Tensor, prob: torch.Tensor, person: int) -> torch.Tensor:
    """Class logits (B, K, H, W) with the prior ``prob`` (B, 1, H, W) joined in as a union: a
    pixel is a person if SegDM or the prior says so (P' = P + p (1 - P) for the person class;
    the other classes share what is left, P'_k = P_k (1 - p)), so a prior above 0.5 always
    wins. Returned as log-probabilities."""
    probs = torch.softmax(logits.float(), dim=1)
    p = prob.to(probs.dtype).clamp(0, 1)
    fused = probs * (1 - p)
    fused[:, person:person + 1] = probs[:, person:person + 1] + p * (1 - probs[:, person:person + 1])
    return fused.clamp_min(1e-6).log()
