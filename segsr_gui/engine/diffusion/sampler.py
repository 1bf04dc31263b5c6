"""The SegSR sampler: a plain generator that yields every step.

Call order of one step (docs/design.md section 1):

    SegDM(s_t, bridge(x_t, x0_prev)) -> s0_hat
    SRDM(x_t, y, t, bridge(softmax(s0_hat))) -> x0_hat
    yield StepResult(index, total, t, x_t, x0_hat, s0_hat)
    x_t, s_t -> x_{t-1}, s_{t-1}      (closed-form posterior)

The final output is the last yielded ``x0_hat``. Stop iterating to cancel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import torch

from segsr_gui.engine.diffusion.noise import NoiseField
from segsr_gui.engine.diffusion.precision import autocast
from segsr_gui.engine.nets.person_prior import fuse_person
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule


@dataclass(frozen=True)
class StepResult:
    """One sampler step: ``x0_hat`` the image estimate (B, 3, sH, sW) in [-1, 1], the live
    preview; ``logits`` the class estimate (B, K, sH, sW), or None for a model without the
    class chain; ``x_t`` the noisy state the estimates were made from."""

    index: int
    total: int
    t: int
    x_t: torch.Tensor
    x0_hat: torch.Tensor
    logits: Optional[torch.Tensor]

    @property
    def s0_hat(self) -> Optional[torch.Tensor]:
        return self.logits


def _noise(field: NoiseField, stream: int, like: torch.Tensor, origin: tuple[int, int]):
    b, c, h, w = like.shape
    n = field.window(stream, c, origin[0], origin[1], h, w)
    return n.expand(b, -1, -1, -1).to(device=like.device, dtype=like.dtype)


def iter_sample(model, y: torch.Tensor, schedule: ResShiftSchedule, *, seed: int = 0,
                noise_scale: float = 1.0, origin: tuple[int, int] = (0, 0),
                precision: str = "auto", mirror: bool = False, person: torch.Tensor | None = None,
                background: tuple[float, bool] | None = None,
                callback: Callable[[StepResult], None] | None = None) -> Iterator[StepResult]:
    """Yield one ``StepResult`` per step, from ``t = T`` down to 1.

    Args:
        model: a ``SegSRModel`` (or anything with its call signature).
        y: the chain's start (B, 3, sH, sW) in [-1, 1]: the model's first estimate
            (``SegSRModel.first_estimate``); its LR size must be a multiple of ``model.stride``.
        schedule: the ResShift schedule (its ``steps`` is the step count).
        seed: seeds the position-keyed noise, so the same seed gives the same output.
        noise_scale: 0 = deterministic posterior mean, 1 = ResShift's full noise.
        origin: HR position of ``y``'s top-left corner in the whole image (tiling).
        precision: "auto" = fp16 on a GPU, bf16 on a CPU with native bf16, else fp32;
            "fp32" = always full precision (``precision.py``). The chain's arithmetic
            between the nets' calls stays fp32 either way.
        mirror: also run the chain on the left-right mirror of ``y`` and yield the mean of
            both chains' estimates (``_mirror_mean``): twice the time, and less than twice
            the peak memory, because the nets see one chain at a time (1.44x for a 512x512
            photo with the first models, docs/first-models-results/mirror_cost.md; the rest is the second chain's states).
        person: (B, 1, sH, sW) person probability (the model's person prior), joined into the
            class estimate at every step (``person_prior.fuse_person``); None = none.
        background: (the scene gate 0..1, whether the photo shows people) for a model with the
            background class: the shown logits gain it (``ClassChain.with_background``); the
            chain's state keeps SegDM's classes. None = no background class.
    """
    net = _InPrecision(model, y.device, precision)
    kw = dict(seed=seed, noise_scale=noise_scale, origin=origin, background=background)
    if mirror:
        both = iter_chain(_OneChainAtATime(net, 2), torch.cat([y, y.flip(-1)]), schedule, **kw,
                          person=None if person is None else torch.cat([person, person.flip(-1)]))
        steps = _mirrored(both)
    else:
        steps = iter_chain(net, y, schedule, **kw, person=person)
    for result in steps:
        if callback is not None:
            callback(result)
        yield result


@torch.inference_mode()
def iter_chain(model, y: torch.Tensor, schedule: ResShiftSchedule, *, seed: int = 0, noise_scale: float = 1.0,
               origin: tuple[int, int] = (0, 0),
               person: torch.Tensor | None = None,
               background: tuple[float, bool] | None = None) -> Iterator[StepResult]:
    """The chain itself (``iter_sample``'s arguments): the nets' estimate at each step is
    yielded, then both states take the closed-form posterior step. The person prior joins
    the class estimate before both, so the class state carries it into the next step."""
    cfg = model.config
    field = NoiseField(seed)
    x = schedule.prior_sample(y, _noise(field, 0, y, origin))
    s = None
    if model.has_segmentation:
        k = cfg.classes.num_classes
        prior = torch.full((y.shape[0], k, y.shape[2], y.shape[3]), 1.0 / k, dtype=y.dtype, device=y.device)
        s = schedule.prior_sample(prior, _noise(field, 1, prior, origin), kappa=cfg.classes.kappa)
    x0_prev = y
    for index, t in enumerate(schedule.timesteps):
        eta = torch.full((y.shape[0],), schedule.eta(t), device=y.device, dtype=y.dtype)
        x0_hat, s0_hat = model(x, s, y, x0_prev, eta)
        x0_hat = x0_hat.float().clamp(-1, 1)
        s0_hat = None if s0_hat is None else s0_hat.float()
        if s0_hat is not None and person is not None:
            s0_hat = fuse_person(s0_hat, person, cfg.classes.person.class_id)
        shown = s0_hat if s0_hat is None or background is None else model.classes.with_background(s0_hat, *background)
        yield StepResult(index, schedule.steps, t, x, x0_hat, shown)
        if t == 1:
            break
        stream = 2 * (index + 1)
        # noise 0 is the posterior mean: no draw needed (the stream numbers stay the same)
        noisy = noise_scale > 0
        x = schedule.step(x0_hat, t, x, _noise(field, stream, x, origin) if noisy else None,
                          noise_scale=noise_scale).prev_sample
        if s is not None:
            probs = torch.softmax(s0_hat, dim=1)
            s = schedule.step(probs, t, s, _noise(field, stream + 1, s, origin) if noisy else None,
                              kappa=cfg.classes.kappa, noise_scale=noise_scale).prev_sample
        x0_prev = x0_hat


class _Wrapped:
    """A model seen through a wrapper: the call changes, everything else is the model's."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)


class _InPrecision(_Wrapped):
    """The nets' calls under the run's autocast (``precision.py``); the chain stays fp32."""

    def __init__(self, model, device, precision: str):
        super().__init__(model)
        self.device, self.precision = device, precision

    def __call__(self, *inputs):
        with autocast(self.device, self.precision):
            return self.model(*inputs)


class _OneChainAtATime(_Wrapped):
    """The nets on ``chains`` equal slices of the batch, one after the other, so the
    activations of one slice are freed before the next (the nets' working memory stays
    that of one chain)."""

    def __init__(self, model, chains: int):
        super().__init__(model)
        self.chains = chains

    def __call__(self, *inputs):
        b = inputs[0].shape[0] // self.chains
        outs = [self.model(*(t if t is None else t[i * b:(i + 1) * b] for t in inputs))
                for i in range(self.chains)]
        x0 = torch.cat([o[0] for o in outs])
        return x0, None if outs[0][1] is None else torch.cat([o[1] for o in outs])


def _mirrored(steps: Iterator[StepResult]) -> Iterator[StepResult]:
    """A two-chain run (the photo, then its mirror) as one: each step's estimates are the
    mean of both (``_mirror_mean``)."""
    for step in steps:
        half = step.x_t.shape[0] // 2
        logits = None if step.logits is None else _mirror_mean(step.logits)
        yield StepResult(step.index, step.total, step.t, step.x_t[:half], _mirror_mean(step.x0_hat), logits)


def _mirror_mean(both: torch.Tensor) -> torch.Tensor:
    """The mean of a mirrored run's two halves, the mirrored half flipped back.

    Why two whole chains rather than one chain fed the mean: the mirror chain starts from
    the same position-keyed noise in its own coordinates, so it is a second sample of the
    photo with errors of its own. Averaging only the nets' outputs inside one chain gained
    nothing in a trial (CamVid val, 12 frames: mIoU 39.8% -> 39.7%; that variant was not
    kept), because both views are then anchored to the same class state; two chains gain
    1.7-1.9 points on the same frames (docs/first-models-results/chain.md).
    It is EDSR's geometric self-ensemble (Lim et al. 2017) restricted to the one flip that
    keeps the sky up; the class logits are averaged, i.e. the probabilities' geometric mean."""
    half = both.shape[0] // 2
    return (both[:half] + both[half:].flip(-1)) / 2


def sample(model, y, schedule, **kwargs) -> StepResult:
    """Drain ``iter_sample`` and return the last step (its ``x0_hat`` is the output)."""
    last = None
    for last in iter_sample(model, y, schedule, **kwargs):
        pass
    return last
