"""Fine-tuning the SRDM's first stage (a pretrained SPAN x4) for real-world and
old-photo damage without forgetting clean photos.

Each iteration draws CamVid train crops and degrades them on the fly (the same
mix as the diffusion training: bicubic, old-photo, Real-ESRGAN second-order).
The target of every crop is the *frozen* pretrained SPAN's output on the clean
bicubic LR of that crop (its tone-changed version for old-photo crops): SPAN is
far sharper than CamVid's soft 480x360 stills, and on bicubic crops the target
is the frozen net's own output on the very same input, which holds what it
knows about clean photos (learning without forgetting; ``docs/design.md``).
Validation on fixed CamVid val inputs (Real-ESRGAN-degraded and bicubic, PSNR
against the HR frames) keeps the weights with the best real-world PSNR among those
that lose at most ``max_clean_loss`` dB on the bicubic inputs (``better``).

    segsr fine-tune-restorer --pretrained pretrained/span_x4_ch48.safetensors --data DIR --out DIR
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save

from segsr_gui.engine.diffusion.precision import bf16_supported
from segsr_gui.engine.nets.span import SPAN
from segsr_gui.io.atomic import write_files_atomic
from segsr_gui.training.data import CropSampler, load_camvid, make_lr
from segsr_gui.training.degrade import DegradationMix, bicubic
from segsr_gui.training.metrics import psnr_y


@dataclass
class RestorerConfig:
    """The fine-tuning numbers (recorded beside the weights)."""

    batch: int = 16
    crop: int = 192  # HR pixels
    lr: float = 1e-4
    lr_final: float = 0.1  # cosine decay to lr * lr_final over max_iters
    max_iters: int = 3000
    val_every: int = 250
    val_images: int = 12
    bicubic_share: float = 0.2
    old_photo_share: float = 0.2
    seed: int = 0
    bf16: bool = True
    pretrained: str = ""  # the imported weights (set by fine_tune)
    # A checkpoint may lose at most this much PSNR on clean (bicubic) val inputs to be kept:
    # the real-world gain is what the app is for, the clean loss what it may cost.
    max_clean_loss: float = 0.5


def better(scores: dict, best: dict, pretrained: dict, max_clean_loss: float) -> bool:
    """Selection: the higher real-world PSNR, among checkpoints whose clean (bicubic LR) PSNR
    stays within ``max_clean_loss`` dB of the pretrained net's (the guard against forgetting)."""
    if scores["bicubic"] < pretrained["bicubic"] - max_clean_loss:
        return False
    return scores["realworld"] > best["realworld"]


def load_span(path: str | Path) -> SPAN:
    """A SPAN x4 (48 channels, 6 blocks) from an imported safetensors file."""
    net = SPAN()
    net.load_state_dict(load_file(str(path)))
    return net


def teacher_targets(teacher: SPAN, hqs: np.ndarray, scale: int = 4) -> torch.Tensor:
    """The frozen net's output (B, 3, H, W) in [0, 1] on the clean bicubic LR of each HQ crop."""
    clean = np.stack([bicubic(h, scale) for h in hqs])
    with torch.no_grad():
        return teacher(torch.from_numpy(clean).permute(0, 3, 1, 2)).clamp(0, 1)


def val_psnr(net: SPAN, lrs, hqs) -> float:
    net.eval()
    scores = []
    with torch.no_grad():
        for lr, hq in zip(lrs, hqs):
            out = net(torch.from_numpy(np.ascontiguousarray(lr)).permute(2, 0, 1)[None]).clamp(0, 1)
            scores.append(psnr_y(out[0].permute(1, 2, 0).numpy(), hq))
    net.train()
    return float(np.mean(scores))


def validation_inputs(data_root, count: int):
    """(name, LR list, HQ list) for ``realworld`` and ``bicubic`` LR of ``count // 2`` val frames."""
    val = load_camvid(data_root, "val")
    idx = np.linspace(0, len(val.images) - 1, max(1, count // 2)).astype(int)
    hqs = [val.images[i].astype(np.float32) / 255 for i in idx]
    return [(kind, [make_lr(h, kind, seed=1000 + int(i)) for h, i in zip(hqs, idx)], hqs)
            for kind in ("realworld", "bicubic")]


def fine_tune(pretrained, data_root, out_dir, cfg: RestorerConfig = RestorerConfig(),
              minutes: float = 0.0, log=print) -> dict:
    """Fine-tune; writes ``OUT/restorer.safetensors`` (the best on val) and ``restorer.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = replace(cfg, pretrained=str(pretrained))
    torch.manual_seed(cfg.seed)
    teacher = load_span(pretrained).eval().requires_grad_(False)
    student = copy.deepcopy(teacher).train().requires_grad_(True)
    opt = torch.optim.AdamW(student.parameters(), lr=cfg.lr, weight_decay=0.0)
    sampler = CropSampler(load_camvid(data_root, "train"), cfg.crop, 4,
                          DegradationMix(cfg.bicubic_share, cfg.old_photo_share), seed=cfg.seed)
    val = validation_inputs(data_root, cfg.val_images)
    autocast = cfg.bf16 and bf16_supported()

    def score() -> dict:
        return {kind: val_psnr(student, lrs, hqs) for kind, lrs, hqs in val}

    start_scores = score()
    best = {"iteration": 0, **start_scores}
    log(f"pretrained: val {start_scores}")
    history = [best]
    start = time.time()
    it = 0
    while it < cfg.max_iters and not (minutes and time.time() - start > minutes * 60):
        progress = it / max(1, cfg.max_iters)
        rate = cfg.lr * (cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in opt.param_groups:
            group["lr"] = rate
        lq, hq, _ = sampler.batch(cfg.batch)
        target = teacher_targets(teacher, hq)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            pred = student(torch.from_numpy(lq).permute(0, 3, 1, 2))
        loss = F.l1_loss(pred.float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        it += 1
        if it % 50 == 0:
            log(f"it {it} loss {float(loss):.4f} ({time.time() - start:.0f} s)")
        if it % cfg.val_every == 0 or it == cfg.max_iters:
            scores = score()
            history.append({"iteration": it, **scores})
            log(f"val it {it}: {scores}")
            if better(scores, best, start_scores, cfg.max_clean_loss):
                best = {"iteration": it, **scores}
                _save(out, student, cfg, best, history, start_scores, time.time() - start, it)
    # No validation beat the pretrained net under the guard: it is the result, unchanged.
    _save(out, teacher if best["iteration"] == 0 else None, cfg, best, history, start_scores,
          time.time() - start, it)
    return best


def _save(out: Path, net, cfg: RestorerConfig, best: dict, history: list, start_scores: dict,
          seconds: float, iterations: int) -> None:
    """The weights (when ``net`` is given) and the record, written together."""
    record = {"config": asdict(cfg), "best": best, "pretrained_val_psnr": start_scores,
              "pretrained_manifest": str(Path(cfg.pretrained).with_suffix(".json")) if cfg.pretrained else "",
              "history": history, "iterations": iterations, "wall_clock_minutes": round(seconds / 60, 1),
              "threads": torch.get_num_threads(), "torch": torch.__version__,
              "data": "CamVid train crops degraded on the fly; targets: frozen pretrained SPAN on the "
                      "clean bicubic LR; validation: CamVid val (Real-ESRGAN-degraded and bicubic)"}
    items = [(out / "restorer.json", (json.dumps(record, indent=1) + "\n").encode("utf-8"))]
    if net is not None:
        state = {k: v.detach().float().contiguous() for k, v in net.state_dict().items()}
        items.insert(0, (out / "restorer.safetensors", save(state)))
    write_files_atomic(items, overwrite=True)


PROVENANCE_KEYS = ("name", "source_package", "version", "package_file", "package_sha256", "files_inside",
                   "safetensors_sha256", "licence", "licence_source", "upstream", "param_count", "check")


def pretrained_summary(manifest_path) -> dict:
    """An imported net's manifest (``segsr import-pretrained``), cut to what a model's manifest
    repeats of it; {} when the file is missing."""
    path = Path(manifest_path)
    pretrained = json.loads(path.read_text()) if path.is_file() else {}
    return {k: pretrained[k] for k in PROVENANCE_KEYS if k in pretrained}


def restorer_provenance(restorer_weights, pretrained_manifest=None) -> dict:
    """What a model's manifest says of its restorer: the pretrained net (package, version,
    file, sha256, licence, the port's check against ncnn) and its fine-tuning here."""
    record_path = Path(restorer_weights).with_suffix(".json")
    tuning = json.loads(record_path.read_text()) if record_path.is_file() else {}
    pretrained = pretrained_summary(pretrained_manifest or tuning.get("pretrained_manifest")
                                    or "pretrained/span_x4_ch48.json")
    return {
        "architecture": "SPAN x4, 48 channels, 6 blocks (engine/nets/span.py)",
        "pretrained": pretrained,
        "fine_tuning": {k: tuning[k] for k in ("data", "iterations", "wall_clock_minutes", "best",
                                                 "pretrained_val_psnr", "config", "threads", "torch")
                        if k in tuning},
        "licence": pretrained.get("licence", "Apache-2.0") + " (licenses/LICENSE-SPAN, licenses/NOTICE)",
    }


def build_start_model(base, restorer_weights, out_path, log=print, pretrained_manifest=None,
                      overwrite: bool = False):
    """The starting point of a restore-then-refine model: the nets of the shipped model
    ``base`` (name or file), the fine-tuned restorer, and SRDM's output head at zero, so the
    model returns exactly the restorer's output until training moves it (the refinement
    starts from an identity). Saved as a model file for ``segsr train --init``."""
    from segsr_gui.engine.nets.model import ModelConfig, SegSRModel
    from segsr_gui.engine.nets.weights import load_model, save_model

    loaded = load_model(base)
    config = ModelConfig.from_dict({**loaded.model.config.to_dict(), "restorer": "span"})
    model = SegSRModel(config)
    missing, unexpected = model.load_state_dict(loaded.model.state_dict(), strict=False)
    if unexpected or any(not k.startswith("restorer.") for k in missing):
        raise ValueError(f"{base} does not fit the new model: {unexpected or missing}")
    model.restorer.load_state_dict(load_file(str(restorer_weights)))
    torch.nn.init.zeros_(model.srdm.unet.head.weight)
    torch.nn.init.zeros_(model.srdm.unet.head.bias)
    log(f"start model from {loaded.name} + {Path(restorer_weights).name}, SRDM head at zero")
    earlier = loaded.manifest.get("training", {})
    return save_model(model, out_path, overwrite=overwrite, training={
        # the nets' own history: the start continues it
        "iterations": int(earlier.get("iterations", 0)),
        "wall_clock_minutes": float(earlier.get("wall_clock_minutes", 0.0)),
        "precision": earlier.get("precision", "fp32"),
        "data": f"{loaded.name}'s nets (sha256 {loaded.manifest['sha256'][:12]}: {earlier.get('data', '')}), "
                f"restorer {Path(restorer_weights).name}; SRDM head zeroed"},
        restorer=restorer_provenance(restorer_weights, pretrained_manifest))


def ship_start(run_dir, ship, log=print) -> dict:
    """Ship a refinement run's start model when no checkpoint of the run beat it on val:
    the restorer with an identity refinement is then the best this budget found. The
    manifest says so, with the run's budget and the start's validation scores."""
    from segsr_gui.engine.nets.weights import load_model, save_model

    meta = json.loads((Path(run_dir) / "state.json").read_text())
    if meta.get("best"):
        raise ValueError(f"{run_dir}: a checkpoint beat the start (iteration {meta['best']['iteration']}); "
                         "it was shipped already")
    init = meta["init"]
    start = load_model(Path(run_dir).parent / f"{init['name']}.safetensors")
    training = dict(start.manifest.get("training", {}))
    training["refinement_run"] = (f"{meta['iteration']} iterations, {meta['seconds'] / 60:.1f} min: no validation "
                                  f"score beat the start's, so the start is shipped (SRDM head at zero)")
    validation = {"iteration": 0, "val_psnr": init["val_psnr"], "val_miou": init.get("val_miou"),
                  "val_psnr_steps": init.get("val_psnr_steps", [])}
    log(f"shipping the start {init['name']} as {ship}")
    return save_model(start.model, ship, overwrite=True, training=training, validation=validation,
                      restorer=start.manifest["restorer"])
