"""From an LR photo to an x4 photo and class map: padding, tiling and blending
around the sampler. ``iter_upscale`` yields per-step progress; ``upscale``
drains it for callers that only want the result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator, Optional

import numpy as np
import torch
import torch.nn.functional as F

from segsr_gui.engine.diffusion.sampler import StepResult, iter_sample
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule
from segsr_gui.engine.inference.drain import drain
from segsr_gui.engine.inference.repair_step import repair_photo
from segsr_gui.engine.inference.tiling import Box, feather_weight, plan_tiles

# LR pixels along a tile's inner edge used only as context (weight 0). The nets' zero
# padding at a tile border disturbs the chain near it, and a class that flips there moves
# the image by several /255; those pixels come from the neighbour instead. At 64 a tiled
# 512x512 photo stays within about 1/255 of the untiled one (a few isolated pixels);
# benchmarks/speed/speed.py --margins measures the default against others.
DEFAULT_MARGIN = 64


def tile_overlap(margin: int) -> int:
    """LR pixels shared by neighbouring tiles: both margins plus a 16 px blending ramp."""
    return 2 * margin + 16


def min_tile(overlap: int) -> int:
    """LR pixels: a tile must exceed twice the overlap and keep some core of its own."""
    return 2 * overlap + 16


DEFAULT_OVERLAP = tile_overlap(DEFAULT_MARGIN)
MIN_TILE = min_tile(DEFAULT_OVERLAP)  # smaller tiles gain little
# The largest automatic tile: a 1024x1024 photo in 256 px tiles peaked at 1.6 GiB, in 320 px
# tiles at 1.95 GiB (issue 8's bound is 2 GiB). With the 64 px margin MIN_TILE (304) is the cap.
MAX_AUTO_TILE = max(256, MIN_TILE)
# Working memory of one sampler pass per LR pixel (measured by benchmarks/speed/speed.py
# on the shipped full model, fp32 CPU, with headroom); sets the automatic tile size.
BYTES_PER_LR_PIXEL = 12_000


@dataclass(frozen=True)
class Progress:
    """One step of one tile. ``step`` holds tile-sized tensors; ``box`` is the tile in LR pixels.

    Why a second type beside the sampler's ``StepResult``: the sampler knows nothing of
    tiles, and the pipeline adds only where the step belongs. The window turns it into its
    own frame (``ui/frames.py``) because that one holds Qt images, which the engine may not."""

    step: StepResult
    tile_index: int
    tiles: int
    box: Box
    strength: Optional["Strength"] = None
    work_done: int = 0  # the chain's work so far and in all, in LR tile pixels times steps
    work_total: int = 0


@dataclass(frozen=True)
class ExpertsProgress:
    """The experts' blend of one piece of the photo (``iter_upscale(expert_progress=True)``),
    made before the chain's first step: piece ``index`` of ``pieces`` (one per tile, the part
    the tiles before it have not covered), ``box`` in LR pixels, ``estimate`` its blend
    (1, 3, 4h, 4w) on the CPU in [-1, 1] (what the chain starts from, before the tone guard).
    ``work_done``/``work_total``: the experts' work in LR pixels, context included."""

    index: int
    pieces: int
    tiles: int
    box: Box
    estimate: torch.Tensor
    work_done: int
    work_total: int
    strength: Optional["Strength"] = None


@dataclass
class UpscaleResult:
    """``image``: float32 (sH, sW, 3) in [0, 1]; ``class_map``: uint8 (sH, sW) ids, or
    None for a model without segmentation; ``confidence``: uint8 (sH, sW), the winning
    class probability x 255 (None without segmentation); ``damage``: bool (H, W) at the
    photo's own size, what the repair filled (None when no repair ran)."""

    image: np.ndarray
    class_map: Optional[np.ndarray]
    confidence: Optional[np.ndarray] = None
    strength: Optional["Strength"] = None
    damage: Optional[np.ndarray] = None


@dataclass(frozen=True)
class Strength:
    """The restoration strength a run used: ``value`` 0 (faithful) .. 1 (clean), and whether
    Auto chose it (from ``damage``, the photo's estimated damage, or from the photo being a
    toned print, ``toned``)."""

    value: float
    auto: bool
    damage: Optional[float] = None
    toned: bool = False

    def describe(self) -> str:
        percent = f"{round(self.value * 100)} %"
        if not self.auto:
            return percent
        return f"Auto ({percent}, toned print)" if self.toned else f"Auto ({percent})"


def parse_strength(text) -> Optional[float]:
    """``"auto"`` -> None, a number in 0..1 -> that float; anything else raises ValueError
    with a sentence a user can act on."""
    if text is None or (isinstance(text, str) and text.strip().lower() == "auto"):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"strength must be 'auto' or a number from 0 to 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"strength must be from 0 (faithful) to 1 (clean), not {value:g}")
    return value


def resolve_strength(model, lr: torch.Tensor, strength: Optional[float]) -> Strength:
    """The strength of a run: ``strength`` as given, or (None = Auto) the model's estimate
    from the whole photo ``lr`` (1, 3, H, W) in [-1, 1], so every tile uses the same one: its
    damage, or 1 for a toned print.
    A model without a clean expert has only the faithful one: 0."""
    if not getattr(model, "has_strength", False):
        return Strength(0.0, False)
    if strength is not None:
        return Strength(float(strength), False)
    if model.damage is None:
        return Strength(0.0, True)
    damage = model.damage_of(lr)
    toned = model.toned_print(lr)
    return Strength(model.strength_for(damage, toned), True, damage, toned)


def available_memory() -> int:
    """Bytes of memory free for the run (``MemAvailable``; a safe guess elsewhere)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30


def auto_tile_size(height: int, width: int, stride: int, budget: int | None = None) -> int:
    """LR tile side that keeps one pass within a quarter of free memory (0 = no tiling)."""
    budget = available_memory() // 4 if budget is None else budget
    side = int((budget / BYTES_PER_LR_PIXEL) ** 0.5)
    side = max(MIN_TILE, min(side, MAX_AUTO_TILE)) // stride * stride
    return 0 if height * width <= side * side and max(height, width) <= side * 1.5 else side


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        from segsr_gui.errors import SegSRError
        raise SegSRError("CUDA was requested but no CUDA GPU is available; use --device cpu.")
    return torch.device(device)


def pad_to_multiple(lr: torch.Tensor, multiple: int) -> torch.Tensor:
    h, w = lr.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not (ph or pw):
        return lr
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(lr, (0, pw, 0, ph), mode=mode)


@torch.inference_mode()
def sampler_input(model, lr: torch.Tensor, strength: float = 0.0, precision: str = "fp32") -> torch.Tensor:
    """The sampler's ``y`` for an LR image or tile (B, 3, H, W) in [-1, 1]: padded to the
    model's stride, then its first estimate (the experts' blend, or bicubic)."""
    return model.first_estimate(pad_to_multiple(lr, model.stride), strength, precision)


class _ExpertCanvas:
    """The experts' blend for a whole photo, made as the tiles ask for it: every pixel once,
    with a ring of context around each piece, so the wide overlaps the chain's
    tiles need (``DEFAULT_OVERLAP``) do not make the experts (x4plus: most of a run's time)
    run twice over the same pixels. In raster order what a tile still lacks is one rectangle
    (its lower right), so each tile computes at most one piece."""

    # LR pixels around a piece. The faithful expert (SPAN) sees little beyond 16. Near the edge
    # of its input x4plus draws texture it does not draw inside, so with 16 a piece's edge
    # differs from an untiled run by up to 86 grey levels, a visible seam; with 64, 3.5
    # (benchmarks/results/expert_context.md). x4plus then runs on 2.0-2.8 times a tiled photo's
    # pixels instead of 1.2-1.4 times.
    CONTEXT, CLEAN_CONTEXT = 16, 64

    def __init__(self, model, lr_all: torch.Tensor, strength: float, precision: str):
        self.model, self.lr, self.strength, self.precision = model, lr_all, strength, precision
        self.context = self.CLEAN_CONTEXT if strength > 0 else self.CONTEXT
        h, w = lr_all.shape[-2:]
        self.scale = model.config.scale
        self.y = torch.zeros(1, 3, h * self.scale, w * self.scale)
        self.done = torch.zeros(h, w, dtype=torch.bool)

    def plan(self, boxes: list[Box]) -> list[Box]:
        """The pieces the tiles ask for, in tile order (each one the part of its tile the
        earlier ones did not cover), without computing them."""
        done, pieces = self.done.clone(), []
        for box in boxes:
            piece = self._missing(box, done)
            if piece is not None:
                pieces.append(piece)
                done[piece.top:piece.top + piece.height, piece.left:piece.left + piece.width] = True
        return pieces

    def cost(self, piece: Box) -> int:
        """LR pixels the experts run on for ``piece``: with its ring of context."""
        h, w = self.lr.shape[-2:]
        c = self.context
        rows = min(h, piece.top + piece.height + c) - max(0, piece.top - c)
        cols = min(w, piece.left + piece.width + c) - max(0, piece.left - c)
        return rows * cols

    @staticmethod
    def _missing(box: Box, done: torch.Tensor) -> Optional[Box]:
        todo = ~done[box.top:box.top + box.height, box.left:box.left + box.width]
        if not todo.any():
            return None
        r, c = todo.any(1).nonzero()[:, 0], todo.any(0).nonzero()[:, 0]
        return Box(box.top + int(r[0]), box.left + int(c[0]), int(r[-1] - r[0]) + 1, int(c[-1] - c[0]) + 1)

    @torch.inference_mode()
    def piece(self, piece: Box, device) -> torch.Tensor:
        """Compute ``piece``; returns its blend (CPU, [-1, 1], 4x the piece's size)."""
        self._compute(piece.top, piece.top + piece.height, piece.left, piece.left + piece.width, device)
        s = self.scale
        return self.y[..., piece.top * s:(piece.top + piece.height) * s, piece.left * s:(piece.left + piece.width) * s]

    @torch.inference_mode()
    def tile(self, box: Box, device) -> torch.Tensor:
        """The sampler's ``y`` for ``box``: the blend, padded to the model's stride, finished."""
        rows, cols = slice(box.top, box.top + box.height), slice(box.left, box.left + box.width)
        missing = self._missing(box, self.done)
        if missing is not None:
            self.piece(missing, device)
        s = self.scale
        lr = pad_to_multiple(self.lr[..., rows, cols].to(device), self.model.stride)
        y = self.y[..., box.top * s:(box.top + box.height) * s, box.left * s:(box.left + box.width) * s].to(device)
        ph, pw = lr.shape[-2] * s - y.shape[-2], lr.shape[-1] * s - y.shape[-1]
        if ph or pw:
            y = F.pad(y, (0, pw, 0, ph), mode="reflect" if ph < y.shape[-2] and pw < y.shape[-1] else "replicate")
        return self.model.finish_estimate(y, lr)

    def _compute(self, top: int, bottom: int, left: int, right: int, device) -> None:
        h, w = self.lr.shape[-2:]
        ct, cb = max(0, top - self.context), min(h, bottom + self.context)
        cl, cr = max(0, left - self.context), min(w, right + self.context)
        s = self.scale
        out = self.model.expert_blend(self.lr[..., ct:cb, cl:cr].to(device), self.strength, self.precision)
        self.y[..., top * s:bottom * s, left * s:right * s] = out[
            ..., (top - ct) * s:(bottom - ct) * s, (left - cl) * s:(right - cl) * s].float().cpu()
        self.done[top:bottom, left:right] = True


def opaque_pixels(alpha: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """Where a photo with opacity ``alpha`` (H, W) in [0, 1] holds its subject: bool (H, W),
    alpha at least one half; None for a photo without alpha (all of it)."""
    return None if alpha is None else np.asarray(alpha) >= 0.5


def iter_upscale(rgb: np.ndarray, model, *, steps: int | None = None, seed: int = 0,
                 tile: int | None = None, noise_scale: float | None = None,
                 device: str = "cpu", precision: str = "auto",
                 mirror: bool = False, overlap: int = DEFAULT_OVERLAP, margin: int = DEFAULT_MARGIN,
                 strength: Optional[float] = None, expert_progress: bool = False,
                 repair: str = "off", repair_mask: Optional[np.ndarray] = None,
                 alpha: Optional[np.ndarray] = None) -> Generator[Progress, None, UpscaleResult]:
    """Upscale ``rgb`` (float32 (H, W, 3) in [0, 1]); yields ``Progress`` per step and tile,
    returns an ``UpscaleResult`` (``StopIteration.value``).

    The experts (most of a run's time on a CPU) run first, piece by piece in tile order, so the
    chain's steps that follow take an even time each; with ``expert_progress`` each piece is
    yielded as an ``ExpertsProgress`` before the first ``Progress`` (the output is the same).

    Args:
        steps: sampling steps (default: the model's).
        tile: LR tile side; None = chosen from free memory, 0 = one tile; at least ``MIN_TILE``.
        noise_scale: sampler noise (default: the model's).
        precision: "auto" (reduced where the hardware has it) or "fp32"; see ``precision.py``.
        mirror: average with a second chain on the mirrored photo (twice the time;
            ``sampler.iter_sample``).
        strength: restoration strength 0 (faithful) .. 1 (clean); None = Auto, from the
            photo's estimated damage (``resolve_strength``).
        repair: "on" finds and fills scratches, cracks, dust and torn paper first (a model
            with a repair stage), "auto" only in a photo that shows scratches or cracks, "off"
            not at all; ``repair_mask``: bool (H, W), the damage to fill instead of the
            detected one (``repair_photo``).
        alpha: the photo's opacity (H, W) in [0, 1], or None. Transparent pixels (below 0.5)
            hold no subject: the repair marks none (nor the half-transparent fringe, see
            ``repair_photo``), the person prior is silent there and, in a model with the
            background class, they are background in the class map.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) array, got shape {rgb.shape}")
    opaque = opaque_pixels(alpha)
    rgb, damage = repair_photo(model, rgb, repair, repair_mask, seed, precision, resolve_device(device), alpha)
    cfg = model.config
    schedule = ResShiftSchedule(cfg.schedule.with_steps(steps))
    noise_scale = cfg.noise_scale if noise_scale is None else noise_scale
    dev = resolve_device(device)
    scale, k = cfg.scale, cfg.num_classes
    h, w = rgb.shape[:2]
    if tile is None:
        tile = auto_tile_size(h, w, model.stride)
    elif 0 < tile < MIN_TILE:
        tile = MIN_TILE  # a smaller tile could not hold the overlap
    boxes = plan_tiles(h, w, tile, overlap, align=model.stride)
    lr_all = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float()[None] * 2 - 1
    lr_dev = lr_all.to(dev)  # the whole photo, read once for the strength and the person prior
    used = resolve_strength(model, lr_dev, strength)
    blend = _Blend(h, w, scale, k if model.has_segmentation else 0)
    experts = _ExpertCanvas(model, lr_all, used.value, precision)
    scene = model.scene_gate(lr_dev)[1] if model.has_segmentation else 0.0  # read once: prior and background
    person_lr = model.person_probability(lr_dev, scene) if model.has_segmentation else None
    if person_lr is not None and opaque is not None:
        person_lr = person_lr * torch.from_numpy(opaque).to(person_lr)[None, None]
    background = model.background_for(scene, person_lr) if model.has_segmentation else None
    pieces = experts.plan(boxes)
    costs = [experts.cost(piece) for piece in pieces]
    for index, piece in enumerate(pieces):
        estimate = experts.piece(piece, dev)
        if expert_progress:
            yield ExpertsProgress(index, len(pieces), len(boxes), piece, estimate, sum(costs[:index + 1]),
                                  sum(costs), used)
    areas = [box.height * box.width for box in boxes]
    work = 0
    for tile_index, box in enumerate(boxes):
        y = experts.tile(box, dev)
        last = None
        for last in iter_sample(model, y, schedule, seed=seed, noise_scale=noise_scale,
                                origin=(box.top * scale, box.left * scale),
                                precision=precision, mirror=mirror,
                                person=_person_tile(person_lr, box, y, scale, model.stride),
                                background=background):
            yield Progress(last, tile_index, len(boxes), box, used, work + areas[tile_index] * (last.index + 1),
                           sum(areas) * last.total)
        work += areas[tile_index] * last.total
        blend.add(last, box, feather_weight(box, h, w, overlap, scale, margin)[0])
    result = blend.result()
    result.strength, result.damage = used, damage
    if opaque is not None and background is not None and result.class_map is not None:
        transparent = np.kron(~opaque, np.ones((scale, scale), bool))
        result.class_map[transparent] = model.config.classes.num_classes  # background's id
    return result


def _person_tile(person_lr: torch.Tensor | None, box: Box, y: torch.Tensor, scale: int,
                 stride: int) -> torch.Tensor | None:
    """The person prior for one tile at ``y``'s size: cropped at LR, padded like the tile,
    enlarged bilinearly."""
    if person_lr is None:
        return None
    part = pad_to_multiple(person_lr[..., box.top:box.top + box.height, box.left:box.left + box.width], stride)
    return F.interpolate(part, size=y.shape[-2:], mode="bilinear", align_corners=False).to(y.device)


class _Blend:
    """The whole photo's sums of feathered tile outputs: image and class probabilities.
    Probabilities are blended in half precision: enough to pick the argmax, and it halves
    the largest buffer of a big run (K channels at output size)."""

    def __init__(self, h: int, w: int, scale: int, num_classes: int):
        self.scale = scale
        self.image = torch.zeros(3, h * scale, w * scale)
        self.probs = torch.zeros(num_classes, h * scale, w * scale, dtype=torch.float16) if num_classes else None
        self.weight = torch.zeros(1, h * scale, w * scale)

    def add(self, last: StepResult, box: Box, weight: torch.Tensor) -> None:
        hr = box.scaled(self.scale)
        rows = slice(hr.top, hr.top + hr.height)
        cols = slice(hr.left, hr.left + hr.width)
        self.image[:, rows, cols] += last.x0_hat[0, :, :hr.height, :hr.width].cpu() * weight
        if self.probs is not None:
            probs = torch.softmax(last.s0_hat[0, :, :hr.height, :hr.width], dim=0).cpu()
            self.probs[:, rows, cols] += (probs * weight).half()
        self.weight[:, rows, cols] += weight

    def result(self) -> UpscaleResult:
        self.image /= self.weight
        image = ((self.image + 1) / 2).clamp_(0, 1).permute(1, 2, 0).contiguous().numpy()
        self.image = None
        class_map = confidence = None
        if self.probs is not None:
            best, ids = self.probs.max(0)
            class_map = ids.to(torch.uint8).numpy()
            confidence = (best.float() / self.weight[0] * 255).round_().clamp_(0, 255).to(torch.uint8).numpy()
        return UpscaleResult(image, class_map, confidence)


def upscale(rgb: np.ndarray, model, steps: int | None = None, seed: int = 0,
            tile: int | None = None, **kwargs) -> UpscaleResult:
    """Run ``iter_upscale`` to the end and return its result."""
    return drain(iter_upscale(rgb, model, steps=steps, seed=seed, tile=tile, **kwargs))
