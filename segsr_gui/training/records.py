"""What a training run keeps and says: its resumable state (safetensors plus JSON,
nothing pickled), the shipped model it starts from, and the manifest's record of it."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save

from segsr_gui.engine.diffusion.precision import describe
from segsr_gui.engine.nets.weights import update_manifest
from segsr_gui.io.atomic import write_files_atomic
from segsr_gui.training.config import TrainConfig


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


# the pretrained parts a model file's manifest describes (provenance), carried to the models trained from it
PRETRAINED_PARTS = ("restorer", "seg_encoder")


def initial_weights(model, ema, spec: str) -> dict:
    """Start both the net and its EMA from a shipped model (continued training); returns
    what the manifest records of it. The architectures must match exactly."""
    from segsr_gui.engine.nets.weights import load_model

    loaded = load_model(spec)
    sampler_defaults = ("noise_scale",)  # chosen after training, not architecture
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
            "precision": earlier.get("precision", ""),
            **{k: loaded.manifest[k] for k in PRETRAINED_PARTS if k in loaded.manifest}}


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
    if cfg.seg_lr_scale != 1.0:
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
        "lr": cfg.lr if cfg.lr_final == 1.0 else f"{cfg.lr:g}, cosine to {cfg.lr * cfg.lr_final:g} "
                                                   f"over {cfg.max_iters} iterations (warm-up {cfg.warmup})",
    }
    if cfg.seg_lr_scale != 1.0:
        record["seg_lr_scale"] = f"x{cfg.seg_lr_scale:g} for SegDM" + (" (this run only)" if init else "")
    if cfg.encoder_lr_scale != 1.0 and cfg.model.classes.encoder_channels:
        record["encoder_lr_scale"] = f"x{cfg.encoder_lr_scale:g} of SegDM's rate for the pretrained encoder"
    if cfg.scale_jitter:
        record["scale_jitter"] = f"crops resized by a factor in [1/{1 + cfg.scale_jitter:g}, {1 + cfg.scale_jitter:g}]"
    if cfg.photometric:
        record["photometric_jitter"] = (f"{cfg.photometric:.0%} of crops: random gamma, gain, saturation, "
                                        "white balance" + (" (this run only)" if init else ""))
    if cfg.class_balance != "none":
        kind = {"median": "median frequency balancing", "sqrt_median": "square root of median frequency balancing"}
        record["seg_class_weights"] = kind[cfg.class_balance] + (" (this run only)" if init else "")
    if init:
        record["continued_from"] = (f"{init['name']} (sha256 {init['sha256'][:12]}, {init['iterations']} "
                                    f"iterations, {init['wall_clock_minutes']} min, {init['precision']})")
        record["iterations"] += init["iterations"]
        record["wall_clock_minutes"] = round(record["wall_clock_minutes"] + init["wall_clock_minutes"], 1)
        if init["precision"] and not init["precision"].endswith(record["precision"]):
            record["precision"] = f"{init['precision']}, then {record['precision']}"
        elif init["precision"]:
            record["precision"] = init["precision"]
    return record


# what a model's manifest repeats of an imported net's manifest (segsr import-pretrained)
PROVENANCE_KEYS = ("name", "source_package", "version", "package_file", "package_sha256", "files_inside",
                   "safetensors_sha256", "licence", "licence_source", "upstream", "param_count", "check")


def pretrained_summary(manifest_path) -> dict:
    """An imported net's manifest, cut to what a model's manifest repeats of it; {} when the
    file is missing."""
    path = Path(manifest_path)
    pretrained = json.loads(path.read_text()) if path.is_file() else {}
    return {k: pretrained[k] for k in PROVENANCE_KEYS if k in pretrained}
