"""A training run's numbers: the TOML file (``[train]``, ``[model]``, ``[schedule]``
tables, with ``base = "OTHER.toml"`` inheritance) and the learning-rate schedule."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from segsr_gui.engine.nets.model import ModelConfig


@dataclass
class TrainConfig:
    """Training numbers (a TOML file's ``[train]`` table; ``[model]`` with its ``[model.experts]``
    and ``[model.classes]`` tables is a ModelConfig)."""

    name: str = "segsr-x4"
    batch: int = 12
    crop: int = 192  # HR pixels; LR crops are crop / scale
    lr: float = 5e-4
    own_state_prob: float = 0.75  # share of the batch trained on the sampler's own states
    ema: float = 0.999
    val_every: int = 400
    val_images: int = 16
    max_iters: int = 0  # 0 = until --minutes runs out
    # Cosine decay of the learning rate to lr * lr_final over max_iters (after a short linear
    # warm-up); needs max_iters. 1.0 = the constant rate of the first models.
    lr_final: float = 1.0
    warmup: int = 0
    # SegDM and the bridge's image-to-SegDM half learn at lr * seg_lr_scale (1 = one rate for all)
    seg_lr_scale: float = 1.0
    # a pretrained SegDM encoder's backbone learns at a further encoder_lr_scale of that
    encoder_lr_scale: float = 1.0
    bf16: bool = True
    seed: int = 0
    bicubic_share: float = 0.2
    old_photo_share: float = 0.2
    photometric: float = 0.0  # share of crops with random exposure and colour (data.photometric_jitter)
    scale_jitter: float = 0.0  # crops are resized by a factor in [1/(1+j), 1+j] (data.CropSampler)
    # "median" weighs the cross-entropy by median frequency balancing (data.median_frequency_weights)
    # "sqrt_median" by its square root
    class_balance: str = "none"
    model: ModelConfig = field(default_factory=ModelConfig)


def read_config_tables(path: str | Path) -> dict:
    """A config file's tables. ``base = "OTHER.toml"`` (relative to the file) starts from
    that file's tables and overrides them key by key, so a continued run's config states
    only what changes and cannot drift from the architecture it continues."""
    path = Path(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    base = data.pop("base", None)
    if base is None:
        return data
    merged = read_config_tables(path.parent / base)
    for table, values in data.items():
        merged[table] = {**merged.get(table, {}), **values}
    return merged


def load_config(path: str | Path) -> TrainConfig:
    data = read_config_tables(path)
    train = dict(data.get("train", {}))
    model = dict(data.get("model", {}))
    if "schedule" in data:
        model["schedule"] = data["schedule"]
    return TrainConfig(**train, model=ModelConfig.from_dict(model))


def learning_rate(cfg: TrainConfig, iteration: int) -> float:
    """The rate for 0-based ``iteration``: linear warm-up, then cosine from ``lr`` to
    ``lr * lr_final`` at ``max_iters`` (constant when ``lr_final`` is 1 or no end is set)."""
    if cfg.warmup and iteration < cfg.warmup:
        return cfg.lr * (iteration + 1) / cfg.warmup
    if cfg.lr_final == 1.0 or not cfg.max_iters:
        return cfg.lr
    span = max(1, cfg.max_iters - cfg.warmup)
    progress = min(1.0, (iteration - cfg.warmup) / span)
    return cfg.lr * (cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress)))
