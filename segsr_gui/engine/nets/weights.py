"""Find, verify, load and save model weights: safetensors plus a JSON manifest.

A model ``NAME`` is ``NAME.safetensors`` beside ``NAME.json``. The manifest
holds the architecture config, classes, palette, schedule, training budget,
measured metrics and the sha256 of the weights; loading checks the hash before
reading a byte of tensor data. Nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from segsr_gui.io.atomic import write_files_atomic, write_json_atomic
from segsr_gui.classes import CAMVID_CLASSES, CAMVID_PALETTE
from segsr_gui.errors import WeightsError
from segsr_gui.engine.nets.manifest_upgrade import (
    MANIFEST_VERSION, OUTDATED_GATE, OutdatedModel, upgrade_manifest, upgrade_state,
)
from segsr_gui.engine.nets.model import ModelConfig, SegSRModel

DEFAULT_MODEL = "segsr-x4"
ABLATION_MODEL = "srdm-only-x4"


def models_dir() -> Path:
    """The folder of shipped models: package data when installed, ``models/`` in a checkout."""
    try:
        from importlib.resources import files
        packaged = Path(str(files("segsr_gui.models")))
        if packaged.is_dir():
            return packaged
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[3] / "models"


@dataclass
class LoadedModel:
    model: SegSRModel
    manifest: dict
    path: Path
    missing_expert: str = ""  # why the clean expert is not attached ("" = it is, or none is needed)
    missing_prior: str = ""  # why the person prior is not attached ("" = it is, or none is needed)

    @property
    def name(self) -> str:
        return self.manifest.get("name", self.path.stem)

    @property
    def classes(self) -> list[str]:
        return self.manifest.get("classes", CAMVID_CLASSES)

    @property
    def palette(self) -> list[tuple[int, int, int]]:
        return [tuple(c) for c in self.manifest.get("palette", CAMVID_PALETTE)]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_model_path(spec: str | os.PathLike | None) -> Path:
    """A model name (``segsr-x4``), a ``.safetensors`` or ``.json`` path -> the weights path."""
    spec = DEFAULT_MODEL if spec is None else str(spec)
    path = Path(spec)
    if path.suffix in (".safetensors", ".json"):
        return path.with_suffix(".safetensors")
    if path.parent == Path(".") and not path.exists():
        return models_dir() / f"{spec}.safetensors"
    return path.with_suffix(".safetensors")


def read_manifest(weights_path: Path) -> dict:
    manifest_path = weights_path.with_suffix(".json")
    if not manifest_path.is_file():
        raise WeightsError(f"Model manifest not found: {manifest_path}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"Model manifest {manifest_path} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or "config" not in manifest or "sha256" not in manifest:
        raise WeightsError(f"Model manifest {manifest_path} lacks 'config' or 'sha256'.")
    return manifest


CLEAN_EXPERT_FILE = "realesrgan_x4plus.safetensors"
PERSON_PRIOR_FILE = "selfie_segmentation.safetensors"


def pretrained_dirs() -> list[Path]:
    """Where ``segsr import-pretrained`` output is looked for, in order: ``$SEGSR_PRETRAINED``,
    ``pretrained/`` of a source checkout, the user's data folder (``platformdirs``)."""
    import platformdirs

    dirs = [Path(os.environ["SEGSR_PRETRAINED"])] if os.environ.get("SEGSR_PRETRAINED") else []
    dirs.append(Path(__file__).resolve().parents[3] / "pretrained")
    dirs.append(Path(platformdirs.user_data_dir("segsr-studio", appauthor=False)) / "pretrained")
    return dirs


def find_pretrained(filename: str, expected_sha256: str | None, what: str, only: str) -> tuple[Path | None, str]:
    """(path, "") of the first ``filename`` in ``pretrained_dirs()`` whose sha256 is the
    expected one, or (None, why not) when none is installed or none matches."""
    seen = []
    for folder in pretrained_dirs():
        path = folder / filename
        if path.is_file():
            if expected_sha256 is None or sha256_of(path) == expected_sha256:
                return path, ""
            seen.append(str(path))
    if seen:
        return None, f"{seen[0]} does not match the model's manifest (sha256); run segsr import-pretrained again"
    return None, f"{what} is not installed; run `segsr import-pretrained --only {only}`"


def find_clean_expert(expected_sha256: str | None) -> tuple[Path | None, str]:
    return find_pretrained(CLEAN_EXPERT_FILE, expected_sha256, "the clean expert (Real-ESRGAN x4plus)", "x4plus")


def attach_clean_expert(model: SegSRModel, manifest: dict) -> str:
    """Load and attach the clean expert a model's manifest names; "" or why it is missing."""
    from segsr_gui.engine.nets.rrdbnet import RRDBNet

    recorded = manifest.get("clean_expert", {})
    path, why = find_clean_expert(recorded.get("safetensors_sha256"))
    if path is None:
        return why
    try:
        net = RRDBNet(**recorded.get("config", {}))
        net.load_state_dict(load_file(str(path)))
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as exc:
        return f"{path} cannot be loaded as the clean expert ({exc})"
    model.experts.attach_clean(net)
    return ""


def load_selfie_net(path: Path):
    """The selfie net of an imported file: its op list from the metadata, its weights."""
    from safetensors import safe_open

    from segsr_gui.engine.nets.selfie import SelfieNet

    with safe_open(str(path), "pt") as f:
        graph = json.loads((f.metadata() or {})["import"])["graph"]
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    return SelfieNet.from_graph(graph, tensors)


def attach_person_prior(model: SegSRModel, manifest: dict) -> str:
    """Load and attach the person prior a model's manifest names; "" or why it is missing."""
    recorded = manifest.get("person_prior", {})
    path, why = find_pretrained(PERSON_PRIOR_FILE, recorded.get("safetensors_sha256"),
                                "the person prior (MediaPipe selfie segmentation)", "selfie")
    if path is None:
        return why
    try:
        net = load_selfie_net(path)
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError, KeyError, json.JSONDecodeError) as exc:
        return f"{path} cannot be loaded as the person prior ({exc})"
    model.classes.attach_person(net)
    return ""


def load_model(spec: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> LoadedModel:
    """Verify and load a model; every failure is a ``WeightsError`` with one clear message."""
    path = resolve_model_path(spec)
    if not path.is_file():
        raise WeightsError(f"Model weights not found: {path}")
    manifest = read_manifest(path)
    actual = sha256_of(path)
    if actual != manifest["sha256"]:
        raise WeightsError(f"Model weights {path.name} are damaged or do not match their manifest "
                           f"(sha256 {actual[:12]}... expected {str(manifest['sha256'])[:12]}...).")
    version = manifest.get("manifest_version", 1)
    if not isinstance(version, int) or version > MANIFEST_VERSION:
        raise WeightsError(f"Model {path.name} was made by a newer SegSR Studio (manifest version {version}); "
                           "update the app to use it.")
    try:
        if version < MANIFEST_VERSION:
            manifest = upgrade_manifest(manifest)
        config = ModelConfig.from_dict(manifest["config"])
        model = SegSRModel(config)
    except OutdatedModel as exc:
        raise WeightsError(f"Model {path.name} cannot be used: {exc}.") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise WeightsError(f"Model manifest {path.with_suffix('.json').name} has an invalid config ({exc}).") from None
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"Model weights {path.name} cannot be read as safetensors ({exc}).") from None
    if version < MANIFEST_VERSION:
        state = upgrade_state(state)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        detail = (missing or unexpected or wrong)[0]
        raise WeightsError(f"Model weights {path.name} do not fit the SegSR architecture of their "
                           f"manifest ({len(missing)} missing, {len(unexpected)} unexpected, "
                           f"{len(wrong)} mis-shaped tensors, e.g. {detail}).")
    model.load_state_dict(state)
    missing_expert = attach_clean_expert(model, manifest) if config.experts.clean else ""
    missing_prior = attach_person_prior(model, manifest) if config.classes and config.classes.person else ""
    if manifest.get(OUTDATED_GATE):
        missing_prior = ("its person prior was gated by the scene distance of an earlier version, which shut "
                         f"on grey photos; segsr add-person-prior {path} --data ... --wallpapers ... refits it")
    model.eval().to(device)
    return LoadedModel(model, manifest, path, missing_expert, missing_prior)


def save_model(model: SegSRModel, path: str | os.PathLike, overwrite: bool = False, **manifest_fields) -> dict:
    """Write weights and manifest atomically (temporary files renamed into place). An
    existing model is replaced only with ``overwrite``; otherwise ``FileExistsError``."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
    weights = save(state)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": path.stem,
        "classes": CAMVID_CLASSES,
        "palette": [list(c) for c in CAMVID_PALETTE],
        "scale": model.config.scale,
        "steps": model.config.schedule.steps,
        "schedule": model.config.schedule.__dict__,
        "noise_scale": model.config.noise_scale,
        **manifest_fields,
        "config": model.config.to_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "sha256": hashlib.sha256(weights).hexdigest(),
    }
    write_files_atomic([(path, weights),
                        (path.with_suffix(".json"), (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))],
                       overwrite=overwrite)
    return manifest


def update_manifest(path: str | os.PathLike, **fields) -> dict:
    """Merge ``fields`` into a shipped model's manifest (a dict value is merged one level
    deep) and write it atomically. The weights are untouched, so their sha256 stays valid;
    defaults in ``config`` (sampler steps, noise) may change, the hash and size may not."""
    weights = Path(path).with_suffix(".safetensors")
    manifest = read_manifest(weights)
    for key, value in fields.items():
        if key in ("sha256", "parameters"):
            raise ValueError(f"{key} describes the weights and is written only by save_model")
        if isinstance(value, dict) and isinstance(manifest.get(key), dict):
            manifest[key] = {**manifest[key], **value}
        else:
            manifest[key] = value
    write_json_atomic(weights.with_suffix(".json"), manifest)
    return manifest


def list_models(folder: Path | None = None) -> list[tuple[str, Path]]:
    """(manifest name, weights path) of every model with a manifest in ``folder``."""
    folder = models_dir() if folder is None else folder
    found = []
    for manifest_path in sorted(folder.glob("*.json")):
        weights = manifest_path.with_suffix(".safetensors")
        if weights.is_file():
            try:
                name = json.loads(manifest_path.read_text(encoding="utf-8")).get("name", weights.stem)
            except (OSError, json.JSONDecodeError):
                continue
            found.append((name, weights))
    return found
