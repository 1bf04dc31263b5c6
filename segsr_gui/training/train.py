"""Training of the class chain (SegDM, its encoder and the bridge's image side) on the experts'
start; the experts stay frozen.

Each iteration draws HR crops with labels from CamVid train, degrades them on the fly, draws
a step ``t`` and trains SegDM to predict the clean class map (cross-entropy on ``s0_hat``,
ignoring unlabelled pixels).

Against chain drift (docs/design.md section 1) the states are the sampler's own: for
``t < T`` the state ``s_{t+1}`` is drawn from the marginal, the net makes its estimate there
without gradients, and one posterior step (random noise scale in [0, 1]) gives ``s_t``.
Validation on fixed CamVid val inputs keeps the best EMA weights.
State (weights, EMA, optimiser) is safetensors plus JSON: nothing is pickled.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from segsr_gui.classes import IGNORE_ID
from segsr_gui.training.config import TrainConfig, learning_rate, load_config
from segsr_gui.training.curves import write_curves
from segsr_gui.training.records import (
    PRETRAINED_PARTS, initial_weights, load_state, record_unshipped_run, save_state, training_record,
)
from segsr_gui.training.data import (
    CropSampler, LabelledImages, labels_or_ignore, load_camvid, make_lr, median_frequency_weights,
)
from segsr_gui.training.degrade import DegradationMix
from segsr_gui.training.evaluate import chain_scores
from segsr_gui.engine.nets.model import SegSRModel
from segsr_gui.engine.diffusion.precision import bf16_supported
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule, marginal, posterior_step
from segsr_gui.engine.nets.weights import save_model, update_manifest


# --- one iteration -----------------------------------------------------------


def training_states(model, schedule: ResShiftSchedule, hq, y, seg0, t, own_state_prob: float):
    """States ``x_t``, ``s_t`` and self-conditioning inputs for steps ``t`` (B,), 1-based.

    Samples chosen for the own-state path come one posterior step down from a
    marginal ``x_{t+1}`` through the current nets; the rest (and all t = T) are
    drawn from the marginal with ``y`` as the previous estimate."""
    cfg = model.config
    k_img, k_seg = cfg.schedule.kappa, cfg.classes.kappa
    b = hq.shape[0]
    etas = schedule.etas.float()
    eta_t = etas[t - 1][:, None, None, None]
    uniform = torch.full_like(seg0, 1.0 / cfg.classes.num_classes) if seg0 is not None else None
    x_t = marginal(hq, y, eta_t, k_img, torch.randn_like(hq))
    s_t = marginal(seg0, uniform, eta_t, k_seg, torch.randn_like(seg0)) if seg0 is not None else None
    x0_prev = y.clone()
    own = (t < schedule.steps) & (torch.rand(b) < own_state_prob)
    if own.any():
        eta_p = etas[(t + 1).clamp(max=schedule.steps) - 1][:, None, None, None]
        x_p = marginal(hq, y, eta_p, k_img, torch.randn_like(hq))
        s_p = marginal(seg0, uniform, eta_p, k_seg, torch.randn_like(seg0)) if seg0 is not None else None
        with torch.no_grad():
            x0_p, s_logits_p = model(x_p, s_p, y, y, eta_p.reshape(-1))
            x0_p = x0_p.float().clamp(-1, 1)
        # posterior step t+1 -> t, per sample, random noise scale
        scale = torch.rand(b)[:, None, None, None]
        m = own[:, None, None, None]
        x_t = torch.where(m, posterior_step(x_p, x0_p, eta_p, eta_t, k_img, torch.randn_like(x_p), scale), x_t)
        x0_prev = torch.where(m, x0_p, x0_prev)
        if seg0 is not None:
            probs = torch.softmax(s_logits_p.float(), dim=1)
            s_t = torch.where(m, posterior_step(s_p, probs, eta_p, eta_t, k_seg, torch.randn_like(s_p), scale), s_t)
    return x_t, s_t, x0_prev, etas[t - 1]


def one_hot_targets(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot class maps (B, K, H, W); ignored pixels get the uniform prior."""
    valid = labels != IGNORE_ID
    oh = F.one_hot(labels.clamp(max=num_classes - 1).long(), num_classes).permute(0, 3, 1, 2).float()
    return torch.where(valid[:, None], oh, torch.full_like(oh, 1.0 / num_classes))


def batch_loss(model, schedule, batch, own_state_prob: float, autocast: bool,
               class_weight: torch.Tensor | None = None):
    """The class loss of one batch of crops on the training's own states, at random steps."""
    lq, hq, labels = batch
    hq_t = torch.from_numpy(hq).permute(0, 3, 1, 2) * 2 - 1
    lq_t = torch.from_numpy(lq).permute(0, 3, 1, 2) * 2 - 1
    with torch.no_grad():  # the experts are pretrained and frozen
        y = model.first_estimate(lq_t)
    k = model.config.classes.num_classes
    lab = torch.from_numpy(labels_or_ignore(labels, k)).long()
    seg0 = one_hot_targets(lab, k)
    t = torch.randint(1, schedule.steps + 1, (hq_t.shape[0],))
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        x_t, s_t, x0_prev, eta = training_states(model, schedule, hq_t, y, seg0, t, own_state_prob)
        s_logits = model(x_t, s_t, y, x0_prev, eta)[1]
    return F.cross_entropy(s_logits.float(), lab, weight=class_weight, ignore_index=IGNORE_ID)


def train_step(model, opt, schedule, batch, cfg: TrainConfig, autocast: bool,
               class_weight: torch.Tensor | None = None) -> float:
    loss = batch_loss(model, schedule, batch, cfg.own_state_prob, autocast, class_weight)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return float(loss.detach())


@torch.no_grad()
def update_ema(ema, model, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p.detach(), 1 - decay)


# --- loop ---------------------------------------------------------------


def validation_set(data_root, count: int, scale: int):
    """Fixed CamVid val inputs: ``count // 2`` images, each as seeded Real-ESRGAN-degraded LR
    and as plain bicubic LR, so selection also punishes a model that harms clean inputs."""
    val = load_camvid(data_root, "val")
    idx = np.linspace(0, len(val.images) - 1, max(1, count // 2)).astype(int)
    lrs, hqs, labels = [], [], []
    for kind in ("realworld", "bicubic"):
        for i in idx:
            hq = val.images[i].astype(np.float32) / 255
            lrs.append(make_lr(hq, kind, seed=1000 + int(i), scale=scale))
            hqs.append(hq)
            labels.append(labels_or_ignore(val.labels[i], 11))
    return lrs, hqs, labels


def score_of(scores) -> float:
    """One number to select on: final PSNR plus 10 dB per unit of final mIoU."""
    return scores.final_psnr + (10 * scores.final_miou if scores.miou else 0.0)


def seg_class_weights(cfg: TrainConfig, train: LabelledImages) -> torch.Tensor | None:
    """The cross-entropy weights ``cfg.class_balance`` asks for (None = unweighted)."""
    if cfg.class_balance == "none":
        return None
    if cfg.class_balance not in ("median", "sqrt_median"):
        raise ValueError(f"class_balance must be 'none', 'median' or 'sqrt_median', not {cfg.class_balance!r}")
    weights = median_frequency_weights(train.labels, cfg.model.classes.num_classes)
    # the square root halves the weights' spread on a log scale (0.15..8.9 -> 0.39..3.0 on CamVid):
    # thin classes count more without the full weights' flood of false positives
    return torch.from_numpy(np.sqrt(weights) if cfg.class_balance == "sqrt_median" else weights)


def parameter_groups(model, seg_lr_scale: float, encoder_lr_scale: float = 1.0) -> list[dict]:
    """The optimiser's groups: the class chain at ``seg_lr_scale`` of the rate, and a
    pretrained encoder's backbone at a further ``encoder_lr_scale`` of that, so fine-tuning
    does not wash out what it knows. The experts are frozen."""
    segdm = model.classes.segdm
    backbone = {id(p) for p in segdm.encoder.backbone.parameters()} if segdm.encoder is not None else set()
    trainable = [p for p in model.classes.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if id(p) not in backbone], "lr_scale": seg_lr_scale},
              {"params": [p for p in trainable if id(p) in backbone], "lr_scale": seg_lr_scale * encoder_lr_scale}]
    return [g for g in groups if g["params"]]


def run_training(config_path, data_root, out_dir, minutes: float, resume: bool, ship: str | None,
                 log=print, max_iters: int | None = None, init: str | None = None) -> dict:
    """Train (or resume) to ``max_iters`` or ``minutes``; validate every ``val_every``
    iterations, keep the best EMA weights in OUT/best and, with ``ship``, as the shipped model."""
    cfg = load_config(config_path)
    if max_iters is not None:
        cfg.max_iters = max_iters
    run = _Run(cfg, Path(out_dir), data_root, ship, log)
    run.start(resume, init)
    start = time.time()
    losses = []
    last_log = time.time()
    try:
        while not (minutes and time.time() - start > minutes * 60) and not (
                cfg.max_iters and run.meta["iteration"] >= cfg.max_iters):
            losses.append(run.step())
            it = run.meta["iteration"]
            if it % 50 == 0:
                rate = cfg.batch * 50 / max(1e-6, time.time() - last_log)
                last_log = time.time()
                log(f"it {it} seg {np.mean(losses):.3f} {rate:.1f} crops/s")
            if it % cfg.val_every == 0 or (cfg.max_iters and it >= cfg.max_iters):
                run.validate(float(np.mean(losses)), time.time() - start)
                losses = []
    finally:
        run.log_file.close()
    run.finish(time.time() - start, config_path)
    return run.meta


class _Run:
    """One training run's moving parts: model, EMA, optimiser, data, log and the bar a
    checkpoint must clear to be kept (``meta`` is what the state file holds)."""

    def __init__(self, cfg: TrainConfig, out: Path, data_root, ship: str | None, log):
        self.cfg, self.out, self.ship, self.log = cfg, out, ship, log
        out.mkdir(parents=True, exist_ok=True)
        if cfg.model.classes is None:
            raise ValueError("the config has no class chain ([model.classes]): nothing to train")
        torch.manual_seed(cfg.seed)
        self.model = SegSRModel(cfg.model)
        self.model.experts.requires_grad_(False)
        self.ema = SegSRModel(cfg.model)
        self.ema.load_state_dict(self.model.state_dict())
        self.ema.eval()
        self.opt = torch.optim.AdamW(parameter_groups(self.model, cfg.seg_lr_scale, cfg.encoder_lr_scale), lr=cfg.lr, weight_decay=0.0)
        self.meta = {"iteration": 0, "seconds": 0.0, "best_score": -math.inf, "best": None, "init": None}
        self.data_root = data_root
        self.schedule = ResShiftSchedule(cfg.model.schedule)
        self.autocast = cfg.bf16 and bf16_supported()

    def start(self, resume: bool, init: str | None) -> None:
        cfg, meta = self.cfg, self.meta
        if resume and (self.out / "state.safetensors").is_file():
            self.meta = meta = load_state(self.out, self.model, self.ema, self.opt)
            self.log(f"resumed at iteration {meta['iteration']}")
        elif init:
            meta["init"] = initial_weights(self.model, self.ema, init)
            self.log(f"starting from {meta['init']['name']} ({meta['init']['iterations']} iterations)")
        self.train = load_camvid(self.data_root, "train")
        self.sampler = CropSampler(self.train, cfg.crop, cfg.model.scale,
                                   DegradationMix(cfg.bicubic_share, cfg.old_photo_share),
                                   seed=cfg.seed + meta["iteration"], photometric=cfg.photometric,
                                   scale_jitter=cfg.scale_jitter)
        self.class_weight = seg_class_weights(cfg, self.train)
        self.val = validation_set(self.data_root, cfg.val_images, cfg.model.scale)
        if meta["init"] is not None and meta["best"] is None and not math.isfinite(meta["best_score"]):
            # The shipped model is replaced only by a better one: the starting point sets the bar.
            scores = chain_scores(self.ema, *self.val)
            meta["best_score"] = score_of(scores)
            meta["init"]["val_psnr"] = scores.final_psnr
            meta["init"]["val_psnr_steps"] = scores.psnr
            meta["init"]["val_miou"] = scores.final_miou if scores.miou else None  # JSON has no NaN
            self.log(f"starting point: val psnr/step {[round(p, 3) for p in scores.psnr]} "
                     f"miou {scores.final_miou:.4f}")
        log_path = self.out / "log.csv"
        new_log = not log_path.exists()
        self.log_file = open(log_path, "a", newline="")
        self.writer = csv.writer(self.log_file)
        if new_log:
            self.writer.writerow(["iteration", "seconds", "seg_loss", "val_psnr", "val_miou", "val_psnr_steps"])
        self.base_seconds = meta["seconds"]

    def step(self) -> float:
        cfg, meta = self.cfg, self.meta
        self.model.train()
        for group in self.opt.param_groups:
            group["lr"] = learning_rate(cfg, meta["iteration"]) * group.get("lr_scale", 1.0)
        losses = train_step(self.model, self.opt, self.schedule, self.sampler.batch(cfg.batch), cfg,
                            self.autocast, self.class_weight)
        meta["iteration"] += 1
        update_ema(self.ema, self.model, min(cfg.ema, (1 + meta["iteration"]) / (10 + meta["iteration"])))
        return losses

    def validate(self, mean_loss: float, seconds: float) -> None:
        meta, it = self.meta, self.meta["iteration"]
        scores = chain_scores(self.ema, *self.val)
        meta["seconds"] = self.base_seconds + seconds
        self.writer.writerow([it, round(meta["seconds"]), f"{mean_loss:.4f}", f"{scores.final_psnr:.3f}",
                              f"{scores.final_miou:.4f}", " ".join(f"{p:.3f}" for p in scores.psnr)])
        self.log_file.flush()
        write_curves(self.out / "log.csv", self.out / "curves.png")
        self.log(f"val it {it}: psnr/step {[round(p, 3) for p in scores.psnr]} miou/step "
                 f"{[round(m, 3) for m in scores.miou]}")
        if score_of(scores) > meta["best_score"]:
            meta["best_score"] = score_of(scores)
            meta["best"] = {"iteration": it, "val_psnr": scores.final_psnr,
                            "val_miou": scores.final_miou if scores.miou else None,
                            "val_psnr_steps": scores.psnr, "val_miou_steps": scores.miou}
            record = training_record(self.cfg, meta, len(self.train.images))
            extra = {k: meta["init"][k] for k in PRETRAINED_PARTS if (meta["init"] or {}).get(k)}
            # the run's own best checkpoint, and the model it was asked to --ship: both are
            # replaced by every better checkpoint
            save_model(self.ema, self.out / "best", overwrite=True, training=record, **extra)
            if self.ship:
                save_model(self.ema, self.ship, overwrite=True, training=record, validation=meta["best"], **extra)
                self.log(f"shipped {self.ship}")
        save_state(self.out, self.model, self.ema, self.opt, meta)

    def finish(self, seconds: float, config_path) -> None:
        meta, ship = self.meta, self.ship
        meta["seconds"] = self.base_seconds + seconds
        save_state(self.out, self.model, self.ema, self.opt, meta)
        if ship and meta["init"] is not None and not meta["best"] and Path(ship).with_suffix(".json").is_file():
            record_unshipped_run(ship, self.cfg, meta, config_path)
        if ship and meta["best"] and Path(ship).with_suffix(".json").is_file():
            # The run's totals are known only now; the shipped weights stay as they are.
            update_manifest(ship, training={"run_iterations": meta["iteration"],
                                            "run_wall_clock_minutes": round(meta["seconds"] / 60, 1),
                                            "selected_at_iteration": meta["best"]["iteration"],
                                            "val_every": self.cfg.val_every})
