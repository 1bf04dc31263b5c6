"""Joint training of SRDM and SegDM (or SRDM alone for the ablation).

Each iteration draws HR crops with labels from CamVid train, degrades them on
the fly, draws a step ``t`` and trains both nets to predict the clean targets
(L1 on ``x0_hat``, cross-entropy on ``s0_hat`` ignoring unlabelled pixels).

Against chain drift (docs/design.md section 1) the states are the sampler's own:
for ``t < T`` the state ``x_{t+1}`` is drawn from the marginal, the nets make
their estimate there without gradients, and one posterior step (random noise
scale in [0, 1]) gives ``x_t``; that estimate is also the self-conditioning
input. Validation on fixed CamVid val inputs keeps the best EMA weights.
State (weights, EMA, optimiser) is safetensors plus JSON: nothing is pickled.
"""

from __future__ import annotations

import csv
import json
import math
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save

from segsr_gui.classes import IGNORE_ID
from segsr_gui.io.atomic import write_files_atomic
from segsr_gui.training.curves import write_curves
from segsr_gui.training.data import (
    CropSampler, LabelledImages, labels_or_ignore, load_camvid, make_lr, median_frequency_weights,
)
from segsr_gui.training.degrade import DegradationMix
from segsr_gui.training.evaluate import chain_scores
from segsr_gui.engine.nets.model import ModelConfig, SegSRModel
from segsr_gui.engine.diffusion.precision import bf16_supported, describe
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule, marginal, posterior_step
from segsr_gui.engine.nets.weights import save_model, update_manifest


@dataclass
class TrainConfig:
    """Training numbers (a TOML file's ``[train]`` table; ``[model]`` is a ModelConfig)."""

    name: str = "segsr-x4"
    batch: int = 12
    crop: int = 192  # HR pixels; LR crops are crop / scale
    lr: float = 5e-4
    seg_weight: float = 0.2
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
    bf16: bool = True
    seed: int = 0
    bicubic_share: float = 0.2
    old_photo_share: float = 0.2
    photometric: float = 0.0  # share of crops with random exposure and colour (data.photometric_jitter)
    # "median" weighs the cross-entropy by median frequency balancing (data.median_frequency_weights)
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


# --- state -----------------------------------------------------------------


def save_state(folder: Path, model, ema, opt, meta: dict) -> None:
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"ema.{k}": v.detach().contiguous() for k, v in ema.state_dict().items()})
    opt_state = opt.state_dict()
    for idx, st in opt_state["state"].items():
        for key, value in st.items():
            tensors[f"opt.{idx}.{key}"] = value.detach().reshape(-1).contiguous() if value.dim() == 0 else value.contiguous()
    meta = {**meta, "param_groups": opt_state["param_groups"]}
    write_files_atomic([(folder / "state.safetensors", save(tensors)),
                        (folder / "state.json", json.dumps(meta, indent=1).encode("utf-8"))], overwrite=True)


def load_state(folder: Path, model, ema, opt) -> dict:
    tensors = load_file(str(folder / "state.safetensors"))
    meta = json.loads((folder / "state.json").read_text())
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value.reshape(()) if name == "step" else value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta


# --- one iteration -----------------------------------------------------------


def training_states(model, schedule: ResShiftSchedule, hq, y, seg0, t, own_state_prob: float):
    """States ``x_t``, ``s_t`` and self-conditioning inputs for steps ``t`` (B,), 1-based.

    Samples chosen for the own-state path come one posterior step down from a
    marginal ``x_{t+1}`` through the current nets; the rest (and all t = T) are
    drawn from the marginal with ``y`` as the previous estimate."""
    cfg = model.config
    k_img, k_seg = cfg.schedule.kappa, cfg.kappa_seg
    b = hq.shape[0]
    etas = schedule.etas.float()
    eta_t = etas[t - 1][:, None, None, None]
    uniform = torch.full_like(seg0, 1.0 / cfg.num_classes) if seg0 is not None else None
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


def batch_losses(model, schedule, batch, own_state_prob: float, autocast: bool,
                 class_weight: torch.Tensor | None = None):
    """(image loss, class loss) of one batch of crops on the training's own states, at
    random steps; the class loss is unweighted by ``seg_weight`` and 0 without SegDM."""
    lq, hq, labels = batch
    hq_t = torch.from_numpy(hq).permute(0, 3, 1, 2) * 2 - 1
    lq_t = torch.from_numpy(lq).permute(0, 3, 1, 2) * 2 - 1
    with torch.no_grad():  # the restorer is fine-tuned on its own (training/restorer.py), then frozen
        y = model.first_estimate(lq_t)
    lab = torch.from_numpy(labels_or_ignore(labels, model.config.num_classes)).long()
    seg0 = one_hot_targets(lab, model.config.num_classes) if model.has_segmentation else None
    t = torch.randint(1, schedule.steps + 1, (hq_t.shape[0],))
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        x_t, s_t, x0_prev, eta = training_states(model, schedule, hq_t, y, seg0, t, own_state_prob)
        x0_hat, s_logits = model(x_t, s_t, y, x0_prev, eta)
    img_loss = F.l1_loss(x0_hat.float(), hq_t)
    seg_loss = torch.zeros(())
    if s_logits is not None:
        seg_loss = F.cross_entropy(s_logits.float(), lab, weight=class_weight, ignore_index=IGNORE_ID)
    return img_loss, seg_loss


def train_step(model, opt, schedule, batch, cfg: TrainConfig, autocast: bool,
               class_weight: torch.Tensor | None = None):
    img_loss, seg_loss = batch_losses(model, schedule, batch, cfg.own_state_prob, autocast, class_weight)
    loss = img_loss + cfg.seg_weight * seg_loss if model.has_segmentation else img_loss
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return float(img_loss.detach()), float(seg_loss.detach())


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


def initial_weights(model, ema, spec: str) -> dict:
    """Start both the net and its EMA from a shipped model (continued training); returns
    what the manifest records of it. The architectures must match exactly."""
    from segsr_gui.engine.nets.weights import load_model

    loaded = load_model(spec)
    sampler_defaults = ("noise_scale", "colour_sigma", "class_bias")  # chosen after training, not architecture
    ours, theirs = model.config.to_dict(), loaded.model.config.to_dict()
    differ = sorted(k for k, v in ours.items() if k not in sampler_defaults and theirs.get(k) != v)
    if differ:
        from segsr_gui.errors import WeightsError
        raise WeightsError(f"{loaded.path.name} has another architecture than the config "
                           f"({', '.join(differ)} differ); --init needs the same one.")
    model.load_state_dict(loaded.model.state_dict())
    ema.load_state_dict(loaded.model.state_dict())
    earlier = loaded.manifest.get("training", {})
    return {"name": loaded.name, "sha256": loaded.manifest["sha256"],
            "iterations": int(earlier.get("iterations", 0)),
            "wall_clock_minutes": float(earlier.get("wall_clock_minutes", 0.0)),
            "precision": earlier.get("precision", "")}


def seg_class_weights(cfg: TrainConfig, train: LabelledImages) -> torch.Tensor | None:
    """The cross-entropy weights ``cfg.class_balance`` asks for (None = unweighted)."""
    if cfg.class_balance == "none" or not cfg.model.bridge:
        return None
    if cfg.class_balance != "median":
        raise ValueError(f"class_balance must be 'none' or 'median', not {cfg.class_balance!r}")
    return torch.from_numpy(median_frequency_weights(train.labels, cfg.model.num_classes))


def parameter_groups(model, seg_lr_scale: float) -> list[dict]:
    """The optimiser's groups: the segmentation side (SegDM and the bridge's image features,
    which the class loss trains nearly alone: the image loss's gradient there is a few per
    cent of the class loss's, benchmarks/seg_fit.py)
    apart, at its own rate (``seg_lr_scale``)."""
    seg = set()
    if model.segdm is not None:
        seg = {id(p) for p in (*model.segdm.parameters(), *model.bridge.image_to_seg.parameters())}
    rest = [p for p in model.parameters() if id(p) not in seg and p.requires_grad]
    groups = [{"params": rest, "lr_scale": 1.0}]
    if seg:
        groups.append({"params": [p for p in model.parameters() if id(p) in seg], "lr_scale": seg_lr_scale})
    return groups


def run_training(config_path, data_root, out_dir, minutes: float, resume: bool, ship: str | None,
                 log=print, max_iters: int | None = None, init: str | None = None) -> dict:
    cfg = load_config(config_path)
    if max_iters is not None:
        cfg.max_iters = max_iters
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    model = SegSRModel(cfg.model)
    if model.restorer is not None:
        model.restorer.requires_grad_(False)
    ema = SegSRModel(cfg.model)
    ema.load_state_dict(model.state_dict())
    ema.eval()
    opt = torch.optim.AdamW(parameter_groups(model, cfg.seg_lr_scale), lr=cfg.lr, weight_decay=0.0)
    meta = {"iteration": 0, "seconds": 0.0, "best_score": -math.inf, "best": None, "init": None}
    if resume and (out / "state.safetensors").is_file():
        meta = load_state(out, model, ema, opt)
        log(f"resumed at iteration {meta['iteration']}")
    elif init:
        meta["init"] = initial_weights(model, ema, init)
        log(f"starting from {meta['init']['name']} ({meta['init']['iterations']} iterations)")
    train = load_camvid(data_root, "train")
    sampler = CropSampler(train, cfg.crop, cfg.model.scale,
                          DegradationMix(cfg.bicubic_share, cfg.old_photo_share), seed=cfg.seed + meta["iteration"],
                          photometric=cfg.photometric)
    class_weight = seg_class_weights(cfg, train)
    val = validation_set(data_root, cfg.val_images, cfg.model.scale)
    if meta["init"] is not None and meta["best"] is None and not math.isfinite(meta["best_score"]):
        # The shipped model is replaced only by a better one: the starting point sets the bar.
        start_scores = chain_scores(ema, *val)
        meta["best_score"] = score_of(start_scores)
        meta["init"]["val_psnr"] = start_scores.final_psnr
        meta["init"]["val_miou"] = start_scores.final_miou if start_scores.miou else None  # JSON has no NaN
        log(f"starting point: val psnr {start_scores.final_psnr:.3f} miou {start_scores.final_miou:.4f}")
    train_schedule = ResShiftSchedule(cfg.model.schedule)
    autocast = cfg.bf16 and bf16_supported()
    log_path = out / "log.csv"
    new_log = not log_path.exists()
    log_file = open(log_path, "a", newline="")
    writer = csv.writer(log_file)
    if new_log:
        writer.writerow(["iteration", "seconds", "img_loss", "seg_loss", "val_psnr", "val_miou", "val_psnr_steps"])
    start = time.time()
    base_seconds = meta["seconds"]
    losses = []
    last_log = time.time()
    try:
        while True:
            elapsed = time.time() - start
            if minutes and elapsed > minutes * 60:
                break
            if cfg.max_iters and meta["iteration"] >= cfg.max_iters:
                break
            model.train()
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg, meta["iteration"]) * group.get("lr_scale", 1.0)
            losses.append(train_step(model, opt, train_schedule, sampler.batch(cfg.batch), cfg, autocast,
                                     class_weight))
            meta["iteration"] += 1
            decay = min(cfg.ema, (1 + meta["iteration"]) / (10 + meta["iteration"]))
            update_ema(ema, model, decay)
            it = meta["iteration"]
            if it % 50 == 0:
                il, sl = np.mean(losses, axis=0)
                rate = cfg.batch * 50 / max(1e-6, time.time() - last_log)
                last_log = time.time()
                log(f"it {it} img {il:.4f} seg {sl:.3f} {rate:.1f} crops/s")
            if it % cfg.val_every == 0 or (cfg.max_iters and it >= cfg.max_iters):
                il, sl = np.mean(losses, axis=0)
                losses = []
                scores = chain_scores(ema, *val)
                meta["seconds"] = base_seconds + time.time() - start
                writer.writerow([it, round(meta["seconds"]), f"{il:.5f}", f"{sl:.4f}", f"{scores.final_psnr:.3f}",
                                 f"{scores.final_miou:.4f}", " ".join(f"{p:.3f}" for p in scores.psnr)])
                log_file.flush()
                write_curves(log_path, out / "curves.png")
                log(f"val it {it}: psnr/step {[round(p, 2) for p in scores.psnr]} miou/step "
                    f"{[round(m, 3) for m in scores.miou]}")
                if score_of(scores) > meta["best_score"]:
                    meta["best_score"] = score_of(scores)
                    meta["best"] = {"iteration": it, "val_psnr": scores.final_psnr,
                                    "val_miou": scores.final_miou if scores.miou else None,
                                    "val_psnr_steps": scores.psnr, "val_miou_steps": scores.miou}
                    save_model(ema, out / "best", training=training_record(cfg, meta, len(train.images)))
                    if ship:
                        save_model(ema, ship, training=training_record(cfg, meta, len(train.images)),
                                   validation=meta["best"])
                        log(f"shipped {ship}")
                save_state(out, model, ema, opt, meta)
    finally:
        log_file.close()
    meta["seconds"] = base_seconds + time.time() - start
    save_state(out, model, ema, opt, meta)
    if ship and meta["init"] is not None and not meta["best"] and Path(ship).with_suffix(".json").is_file():
        record_unshipped_run(ship, cfg, meta, config_path)
    if ship and meta["best"] and Path(ship).with_suffix(".json").is_file():
        # The run's totals are known only now; the shipped weights stay as they are.
        update_manifest(ship, training={"run_iterations": meta["iteration"],
                                        "run_wall_clock_minutes": round(meta["seconds"] / 60, 1),
                                        "selected_at_iteration": meta["best"]["iteration"],
                                        "val_every": cfg.val_every})
    return meta


def record_unshipped_run(ship: str, cfg: TrainConfig, meta: dict, config_path) -> dict:
    """A continued run in which no validation beat the shipped model leaves the weights as
    they are, but the manifest says it was tried: an ablation's equal budget includes the
    runs that did not help it."""
    from segsr_gui.engine.nets.weights import read_manifest

    manifest = read_manifest(Path(ship).with_suffix(".safetensors"))
    runs = list(manifest.get("training", {}).get("runs_not_shipped", []))
    run = {"config": Path(config_path).name, "run_iterations": meta["iteration"],
           "crop_hr": cfg.crop, "batch": cfg.batch, "lr": cfg.lr,
           "run_wall_clock_minutes": round(meta["seconds"] / 60, 1),
           "val_psnr_to_beat": meta["init"].get("val_psnr"),
           **({"val_miou_to_beat": meta["init"]["val_miou"]} if meta["init"].get("val_miou") is not None else {}),
           "result": "no validation score beat the shipped model's; weights unchanged"}
    if cfg.photometric:
        run["photometric"] = cfg.photometric
    if cfg.seg_lr_scale != 1.0 and cfg.model.bridge:
        run["seg_lr_scale"] = cfg.seg_lr_scale
    runs.append(run)
    return update_manifest(ship, training={"runs_not_shipped": runs})


def training_record(cfg: TrainConfig, meta: dict, train_images: int) -> dict:
    """What the manifest says of the training. With ``init`` (continued training) the
    iteration and minute totals include the earlier model's, which is named."""
    import platform
    init = meta.get("init")
    record = {
        "data": f"CamVid train ({train_images} images), crops degraded on the fly: "
                f"{cfg.bicubic_share:.0%} bicubic, {cfg.old_photo_share:.0%} old-photo, rest Real-ESRGAN second-order",
        "validation": f"CamVid val, {cfg.val_images // 2} fixed images, each Real-ESRGAN-degraded and bicubic",
        "iterations": meta["iteration"],
        "batch": cfg.batch,
        "crop_hr": cfg.crop,
        "wall_clock_minutes": round(meta["seconds"] / 60, 1),
        "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "precision": describe(torch.device("cpu")) if cfg.bf16 else "fp32",
        "own_state_prob": cfg.own_state_prob,
        "seg_weight": cfg.seg_weight,
        "lr": cfg.lr if cfg.lr_final == 1.0 else f"{cfg.lr:g}, cosine to {cfg.lr * cfg.lr_final:g} "
                                                   f"over {cfg.max_iters} iterations (warm-up {cfg.warmup})",
    }
    if cfg.seg_lr_scale != 1.0 and cfg.model.bridge:
        record["seg_lr_scale"] = f"x{cfg.seg_lr_scale:g} for SegDM" + (" (this run only)" if init else "")
    if cfg.photometric:
        record["photometric_jitter"] = (f"{cfg.photometric:.0%} of crops: random gamma, gain, saturation, "
                                        "white balance" + (" (this run only)" if init else ""))
    if cfg.class_balance != "none" and cfg.model.bridge:
        record["seg_class_weights"] = "median frequency balancing" + (" (this run only)" if init else "")
    if init:
        record["continued_from"] = (f"{init['name']} (sha256 {init['sha256'][:12]}, {init['iterations']} "
                                    f"iterations, {init['wall_clock_minutes']} min, {init['precision']})")
        record["iterations"] += init["iterations"]
        record["wall_clock_minutes"] = round(record["wall_clock_minutes"] + init["wall_clock_minutes"], 1)
        if not init["precision"].endswith(record["precision"]):
            record["precision"] = f"{init['precision']}, then {record['precision']}"
        else:
            record["precision"] = init["precision"]
    return record
