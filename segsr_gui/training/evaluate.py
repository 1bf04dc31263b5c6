"""Evaluation shared by training (validation) and benchmarks: per-step PSNR and mIoU
of the sampler chain on fixed LR inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from segsr_gui.classes import IGNORE_ID
from segsr_gui.io.masks import class_ids
from segsr_gui.training.metrics import confusion, miou, psnr_y, ssim_y
from segsr_gui.engine.inference.pipeline import sampler_input as pipeline_input
from segsr_gui.engine.diffusion.sampler import iter_sample
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule


@dataclass
class ChainScores:
    """PSNR (Y, 4-px shave) and mIoU of ``x0_hat`` at every step, averaged over images."""

    psnr: list[float]
    ssim: list[float]
    miou: list[float] = field(default_factory=list)

    @property
    def final_psnr(self) -> float:
        return self.psnr[-1]

    @property
    def final_miou(self) -> float:
        return self.miou[-1] if self.miou else float("nan")


def sampler_input(model, lr: np.ndarray) -> torch.Tensor:
    """The sampler's ``y`` for a whole LR image (float32 (H, W, 3) in [0, 1]), untiled."""
    x = torch.from_numpy(np.ascontiguousarray(lr.transpose(2, 0, 1)))[None] * 2 - 1
    return pipeline_input(model, x)


def chain_scores(model, lrs: list[np.ndarray], hqs: list[np.ndarray], labels: list[np.ndarray] | None,
                 steps: int | None = None, noise_scale: float | None = None, seed: int = 0,
                 with_ssim: bool = False,
                 precision: str = "auto", mirror: bool = False) -> ChainScores:
    """Run the whole-image chain on each LR input and score every step against its HQ image."""
    cfg = model.config
    schedule = ResShiftSchedule(cfg.schedule.with_steps(steps))
    noise_scale = cfg.noise_scale if noise_scale is None else noise_scale
    n = schedule.steps
    psnr = np.zeros(n)
    ssim = np.zeros(n)
    k = cfg.classes.num_classes if cfg.classes else 0
    confs = [np.zeros((k, k + 1), np.int64) for _ in range(n)]
    for i, (lr, hq) in enumerate(zip(lrs, hqs)):
        h, w = hq.shape[:2]
        for step in iter_sample(model, sampler_input(model, lr), schedule, seed=seed + i, noise_scale=noise_scale,
                                precision=precision, mirror=mirror):
            img = ((step.x0_hat[0, :, :h, :w] + 1) / 2).permute(1, 2, 0).numpy()
            psnr[step.index] += psnr_y(img, hq)
            if with_ssim:
                ssim[step.index] += ssim_y(img, hq)
            if labels is not None and step.s0_hat is not None:
                pred = class_ids(step.s0_hat[0, :, :h, :w].numpy())
                confs[step.index] += confusion(pred, labels[i], k, IGNORE_ID)
    count = max(1, len(lrs))
    has_seg = labels is not None and model.has_segmentation
    return ChainScores([float(v) for v in psnr / count], [float(v) for v in ssim / count],
                       [miou(c) for c in confs] if has_seg else [])
