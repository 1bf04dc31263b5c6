"""ResShift's residual-shifting schedule: data plus a pure ``step``.

Residual shifting (Yue et al., "ResShift", NeurIPS 2023) moves the state from
the clean target ``x0`` towards the degraded start ``y`` instead of towards
pure noise, so sampling starts from the upsampled photo and needs few steps:

    x_t = x0 + eta_t (y - x0) + kappa sqrt(eta_t) eps               (marginal)
    x_{t-1} ~ N(eta_{t-1}/eta_t x_t + alpha_t/eta_t x0_hat,
                kappa^2 eta_{t-1}/eta_t alpha_t)         alpha_t = eta_t - eta_{t-1}

The segmentation state uses the same etas, shifting class probabilities from
the uniform prior ``1/K`` towards one-hot labels, with its own kappa.
Timesteps are 1-based as in the paper: ``t = T`` is the start, ``t = 1`` the last.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace

import torch


@dataclass(frozen=True)
class ScheduleConfig:
    """Numbers that define a schedule.

    Args:
        steps: number of sampling steps ``T`` (>= 1).
        kappa: noise scale of the image state (ResShift: 2.0).
        power: ``p`` of the timestep warping (ResShift: 0.3).
        min_noise: sets ``sqrt(eta_1) = min(min_noise / kappa, min_noise)``.
        eta_end: ``sqrt(eta_T)`` (ResShift: 0.99).
    """

    steps: int = 4
    kappa: float = 2.0
    power: float = 0.3
    min_noise: float = 0.2
    eta_end: float = 0.99

    def with_steps(self, steps: int | None) -> "ScheduleConfig":
        """The same schedule with another step count (None keeps this one)."""
        return self if steps is None else replace(self, steps=int(steps))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "ScheduleConfig":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def eta_values(config: ScheduleConfig) -> list[float]:
    """ResShift's etas for ``t = 1..T`` (eq. 10 of the paper), as plain floats."""
    if config.steps < 1:
        raise ValueError(f"steps must be >= 1, got {config.steps}")
    sqrt_eta_1 = min(config.min_noise / config.kappa, config.min_noise)
    if config.steps == 1:
        return [config.eta_end**2]
    b0 = math.exp(math.log(config.eta_end / sqrt_eta_1) / (config.steps - 1))
    etas = []
    for t in range(1, config.steps + 1):
        beta = ((t - 1) / (config.steps - 1)) ** config.power * (config.steps - 1)
        etas.append((sqrt_eta_1 * b0**beta) ** 2)
    return etas


@dataclass(frozen=True)
class StepOutput:
    """What one posterior step returns: the new state and the clean estimate."""

    prev_sample: torch.Tensor
    pred_x0: torch.Tensor


class ResShiftSchedule:
    """A residual-shifting schedule turned into tensors once.

    ``etas[t-1]`` is eta_t; ``etas_prev[t-1]`` is eta_{t-1} (0 for t = 1).
    """

    def __init__(self, config: ScheduleConfig = ScheduleConfig()):
        self.config = config
        self.etas = torch.tensor(eta_values(config), dtype=torch.float64)
        self.etas_prev = torch.cat([torch.zeros(1, dtype=torch.float64), self.etas[:-1]])
        self.timesteps = list(range(config.steps, 0, -1))

    @property
    def steps(self) -> int:
        return self.config.steps

    def eta(self, t: int) -> float:
        return float(self.etas[t - 1])

    def q_sample(self, x0, y, t: int, noise, kappa: float | None = None):
        """Forward marginal ``x_t`` for ``t`` in 1..T; the caller passes the noise."""
        k = self.config.kappa if kappa is None else kappa
        eta = torch.tensor(self.eta(t), dtype=x0.dtype)
        return marginal(x0, y, eta, k, noise)

    def prior_sample(self, y, noise, kappa: float | None = None):
        """The start state ``x_T = y + kappa sqrt(eta_T) eps``."""
        k = self.config.kappa if kappa is None else kappa
        return y + k * math.sqrt(self.eta(self.steps)) * noise

    def step(self, pred_x0, t: int, x_t, noise=None, kappa: float | None = None,
             noise_scale: float = 1.0) -> StepOutput:
        """One posterior step from ``x_t`` to ``x_{t-1}`` given the estimate ``pred_x0``.

        ``noise_scale`` multiplies the posterior standard deviation (0 gives the
        deterministic posterior mean). No noise is added on the last step
        (t = 1, where the posterior variance is 0 anyway).
        """
        if not 1 <= t <= self.steps:
            raise ValueError(f"t must be in 1..{self.steps}, got {t}")
        k = self.config.kappa if kappa is None else kappa
        i = t - 1
        noisy = t > 1 and noise is not None and noise_scale > 0  # no noise on the last step
        prev = posterior_step(x_t, pred_x0, float(self.etas[i]), float(self.etas_prev[i]), k,
                              noise if noisy else None, noise_scale)
        return StepOutput(prev_sample=prev, pred_x0=pred_x0)


def marginal(x0, y, eta, kappa: float, noise):
    """ResShift's forward marginal ``x_t = x0 + eta (y - x0) + kappa sqrt(eta) noise``.

    ``eta`` is a tensor that broadcasts against the states: one value, or one per sample
    (training draws a batch of different ``t`` at once)."""
    return x0 + eta * (y - x0) + kappa * eta.sqrt() * noise


def scale_state(x_t, eta, kappa: float):
    """The nets' input ``x_t / sqrt(kappa^2 eta + 1)``, near unit variance at every step
    (``eta`` holds one value per sample, shape (B,))."""
    return x_t / torch.sqrt(kappa**2 * eta + 1)[:, None, None, None]


def posterior_step(x_t, pred_x0, eta, eta_prev, kappa: float, noise=None, noise_scale=1.0):
    """ResShift eq. 7: ``x_{t-1}`` from ``x_t`` and the estimate ``pred_x0``.

    ``eta``, ``eta_prev`` (and ``noise_scale``) are numbers, or per-sample tensors that
    broadcast against the states (training steps a batch of different ``t`` at once).
    ``noise=None`` gives the posterior mean.
    """
    alpha = eta - eta_prev
    # eta_prev/eta * x_t + alpha/eta * pred_x0, and the two weights sum to one: one lerp
    # instead of three full-size temporaries (the class state has 11 channels at output size)
    weight = alpha / eta
    if torch.is_tensor(weight):
        weight = weight.to(x_t.dtype)
    mean = torch.lerp(x_t, pred_x0.to(x_t.dtype), weight)
    if noise is None:
        return mean
    return mean + noise_scale * (kappa * (eta_prev / eta * alpha) ** 0.5) * noise
