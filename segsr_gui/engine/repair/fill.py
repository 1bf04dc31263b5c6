"""The fill: a residual-shifting diffusion at the photo's own size, inside the damage only.

Start ``y`` is the photo with the damaged pixels (the mask) replaced by OpenCV's Telea
fill; the chain shifts from ``y`` towards the net's estimate of the undamaged
photo ``x0`` with the project's ResShift schedule (``diffusion/schedule.py``), noise drawn
only where the fill may change the photo. The net (``FillNet``) reads the scaled state
``x_t``, ``y`` (in both of its photo inputs), the fill region and ``eta_t``, and predicts
``x0`` as a residual on ``y``. It never reads the damaged pixels themselves: an opaque
scratch or speck then leaked into the fill as a pale trace (CamVid val aged like the sample:
22.16 dB inside the damage reading them, 29.89 without; the recipe's half-transparent damage:
29.13 against 28.97; ``benchmarks/results/fill_reads.md``).

The result is composed with a feathered weight: 1 on the mask grown by ``CORE`` px, falling
over ``FEATHER`` more px, 0 beyond; where the weight is 0 the output is the input photo, bit
for bit. The fill reads no class information: at the photo's own size no class map exists
yet (SegDM runs on the enlarged image).

Images here are (B, 3, H, W) float in [0, 1] at the API, [-1, 1] inside the chain;
masks (B, 1, H, W) bool or {0, 1} float.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from segsr_gui.engine.diffusion.schedule import ResShiftSchedule, scale_state
from segsr_gui.engine.repair.unet import SmallUNet, pad_to_stride

CORE, FEATHER = 1, 2  # px: the output is the fill on the mask grown by CORE, fading out over FEATHER more
MARGIN = 32  # px of context around the damage the net sees (about half its receptive field)


def grow(mask: torch.Tensor, px: int) -> torch.Tensor:
    """A {0, 1} float mask (B, 1, H, W) grown by ``px`` pixels (a square neighbourhood)."""
    m = mask.float()
    return m if px <= 0 else F.max_pool2d(m, 2 * px + 1, stride=1, padding=px)


def blend_weight(mask: torch.Tensor) -> torch.Tensor:
    """The composition weight (B, 1, H, W) in [0, 1]: 1 on ``grow(mask, CORE)``, then
    steps of 1/(FEATHER+1) down to exactly 0 outside ``grow(mask, CORE + FEATHER)``."""
    rings = [grow(mask, CORE + k) for k in range(FEATHER + 1)]
    return torch.stack(rings).mean(0)


def cheap_fill(photo: torch.Tensor, region: torch.Tensor, radius: int = 3) -> torch.Tensor:
    """OpenCV Telea fill of ``region`` (B, 1, H, W) in ``photo`` (B, 3, H, W) in [0, 1]."""
    out = photo.clone()
    for i in range(photo.shape[0]):
        m = (region[i, 0] > 0.5).cpu().numpy().astype(np.uint8)
        if not m.any():
            continue
        img = np.round(photo[i].permute(1, 2, 0).float().cpu().numpy() * 255).astype(np.uint8)
        filled = cv2.inpaint(np.ascontiguousarray(img), m, radius, cv2.INPAINT_TELEA)
        out[i] = torch.from_numpy(filled.astype(np.float32) / 255).permute(2, 0, 1).to(photo)
    return out


class FillNet(nn.Module):
    """Predicts the undamaged photo inside the region; ``x0_hat = y + net(...)``.

    Inputs (all (B, C, H, W), H and W multiples of 4 or padded here): ``x_t`` the chain's
    state in [-1, 1] plus noise, ``y`` the cheap-filled start in [-1, 1], ``photo`` the photo
    it reads in [-1, 1] (``y`` again: the damaged pixels stay hidden), ``region`` {0, 1},
    ``eta`` (B,) the step's eta.
    Output x0_hat (B, 3, H, W), float32, unclamped."""

    def __init__(self, kappa: float, widths: tuple[int, int, int] = (24, 48, 96)):
        super().__init__()
        self.kappa = kappa
        self.net = SmallUNet(11, 3, widths)
        nn.init.zeros_(self.net.out.weight)  # starts as the cheap fill
        nn.init.zeros_(self.net.out.bias)

    def forward(self, x_t, y, photo, region, eta):
        level = eta.view(-1, 1, 1, 1).expand(-1, 1, *y.shape[-2:]).to(y.dtype)
        inp = torch.cat([scale_state(x_t, eta, self.kappa), y, photo, region.to(y.dtype), level], 1)
        inp, h, w = pad_to_stride(inp)
        return y + self.net(inp)[..., :h, :w].float()


@dataclass(frozen=True)
class FillStep:
    """One step of the fill: ``image`` the composed estimate (B, 3, H, W) in [0, 1]."""

    index: int
    total: int
    t: int
    image: torch.Tensor


def start_state(photo: torch.Tensor, mask: torch.Tensor):
    """(y, region, noise_region) of a photo in [0, 1] and its damage mask: ``y`` in
    [-1, 1] with the mask Telea-filled, the region (the mask as {0, 1} float: its edge
    pixels hold the undamaged neighbours that Telea and the net read), and where the
    chain may draw noise (the whole blend support, where the net's estimate is used)."""
    region = mask.float()
    y = cheap_fill(photo, region) * 2 - 1
    return y, region, grow(mask, CORE + FEATHER)


def compose(photo: torch.Tensor, x0: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``photo`` with ``x0`` (both [0, 1]) blended in by ``blend_weight(mask)``; exactly
    ``photo`` where the weight is 0."""
    w = blend_weight(mask)
    mixed = photo + w * (x0.clamp(0, 1) - photo)
    return torch.where(w > 0, mixed, photo)


@torch.inference_mode()
def iter_fill(net: FillNet, photo: torch.Tensor, mask: torch.Tensor, schedule: ResShiftSchedule, *,
              noise_scale: float = 0.0, seed: int = 0) -> Iterator[FillStep]:
    """Yield the composed estimate at each step, t = T down to 1 (the last is the result).

    ``photo`` (B, 3, H, W) in [0, 1]; ``mask`` (B, 1, H, W) the damage. ``noise_scale`` 0 is
    the deterministic posterior mean (also the start carries no noise then)."""
    gen = torch.Generator().manual_seed(seed)
    y, region, noise_region = start_state(photo, mask)
    kappa = net.kappa

    def noise():
        return torch.randn(y.shape, generator=gen).to(y) * noise_region

    x = schedule.prior_sample(y, noise(), kappa=kappa) if noise_scale > 0 else y
    if noise_scale > 0:
        x = y + noise_scale * (x - y)
    for index, t in enumerate(schedule.timesteps):
        eta = torch.full((y.shape[0],), schedule.eta(t), dtype=y.dtype, device=y.device)
        x0 = net(x, y, y, region, eta).clamp(-1, 1)
        yield FillStep(index, schedule.steps, t, compose(photo, (x0 + 1) / 2, mask))
        if t == 1:
            break
        x = schedule.step(x0, t, x, noise() if noise_scale > 0 else None, kappa=kappa,
                          noise_scale=noise_scale).prev_sample


def damage_box(mask: torch.Tensor, margin: int = MARGIN) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) around every damaged pixel of a (B, 1, H, W) mask plus
    ``margin`` px of context, clipped to the photo; None if nothing is damaged."""
    any_rows = mask.any(dim=(0, 1, 3))
    any_cols = mask.any(dim=(0, 1, 2))
    if not bool(any_rows.any()):
        return None
    rows, cols = torch.nonzero(any_rows).flatten(), torch.nonzero(any_cols).flatten()
    h, w = mask.shape[-2:]
    return (max(0, int(rows[0]) - margin), min(h, int(rows[-1]) + 1 + margin),
            max(0, int(cols[0]) - margin), min(w, int(cols[-1]) + 1 + margin))


def fill(net: FillNet, photo: torch.Tensor, mask: torch.Tensor, schedule: ResShiftSchedule, *,
         noise_scale: float = 0.0, seed: int = 0) -> torch.Tensor:
    """The repaired photo (B, 3, H, W) in [0, 1]: ``iter_fill`` run on the box around the
    damage (``damage_box``) and pasted back; the input itself when the mask is empty."""
    mask = mask.bool()
    box = damage_box(mask)
    if box is None:
        return photo.clone()
    t0, t1, l0, l1 = box
    last = None
    for last in iter_fill(net, photo[..., t0:t1, l0:l1], mask[..., t0:t1, l0:l1], schedule,
                          noise_scale=noise_scale, seed=seed):
        pass
    out = photo.clone()
    out[..., t0:t1, l0:l1] = last.image
    return out
