"""A model whose first stage is the two pretrained experts (docs/design.md, "two experts and
a strength"): the *faithful* SPAN x4 as shipped and the *clean* Real-ESRGAN x4plus, blended
by the restoration strength, Auto from the damage estimator (``training/damage.py``).

The shipped model ``base`` gives the class chain (SegDM, its SqueezeNet encoder, the bridge,
the person prior) and the sampler's defaults. The faithful expert gets the imported SPAN
weights unchanged; the clean expert stays outside the model file (67 MB) and is named in the
manifest by its sha256.

    segsr build-experts segsr-x4 --damage runs/damage/damage.safetensors --out models/segsr-x4
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from safetensors.torch import load_file

from segsr_gui.engine.nets.manifest_upgrade import OUTDATED_GATE
from segsr_gui.training.records import pretrained_summary

TONE_SIGMA = 16.0  # HR pixels; chosen on the old-photo checks (docs/experts.md)
LATTICE_SIGMA = 4.0  # LR pixels (nets/lattice.py)


def expert_provenance(weights, architecture: str, licence_file: str) -> dict:
    pretrained = pretrained_summary(Path(weights).with_suffix(".json"))
    return {"architecture": architecture, "pretrained": pretrained, "weights_unchanged": True,
            "licence": f"{pretrained.get('licence', '?')} (licenses/{licence_file}, licenses/NOTICE)"}


# what this builder or save_model writes (and a flag that only loading sets); every other field
# of the base manifest is carried over
_WRITTEN_HERE = {"manifest_version", "name", "scale", "steps", "schedule", "noise_scale", "config", "parameters",
                 "sha256", "description", "training", "restorer", "clean_expert", "strength", "bridge",
                 OUTDATED_GATE}


def build_experts_model(base, out_path, damage_weights, pretrained_dir="pretrained", tone_sigma=TONE_SIGMA,
                        bridge: bool | None = None, overwrite: bool = False, log=print) -> dict:
    """Write the experts model; ``bridge`` False drops the classes (the ablation)."""
    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.engine.nets.weights import load_model, save_model, sha256_of
    from segsr_gui.engine.stages.experts import ExpertsConfig

    pretrained = Path(pretrained_dir)
    span, x4plus = pretrained / "span_x4_ch48.safetensors", pretrained / "realesrgan_x4plus.safetensors"
    for path in (span, x4plus, Path(damage_weights)):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (segsr import-pretrained; training/damage.py)")
    from segsr_gui.training.damage import thresholds

    record = json.loads(Path(damage_weights).with_suffix(".json").read_text())
    # the thresholds follow from the recorded validation statistics by today's rule
    record["thresholds"] = thresholds(record["validation"])
    loaded = load_model(base)
    experts = ExpertsConfig(clean="x4plus", auto_strength=(record["thresholds"]["low"], record["thresholds"]["high"]),
                            tone_sigma=tone_sigma, lattice_sigma=LATTICE_SIGMA)
    keep_classes = loaded.model.has_segmentation if bridge is None else bridge
    config = replace(loaded.model.config, experts=experts,
                     classes=loaded.model.config.classes if keep_classes else None)
    model = SegSRModel(config)
    own = model.state_dict()
    kept = {k: v for k, v in loaded.model.state_dict().items()
            if k in own and own[k].shape == v.shape and not k.startswith("experts.")}
    model.load_state_dict(kept, strict=False)
    model.experts.faithful.load_state_dict(load_file(str(span)))
    model.experts.damage.load_state_dict(load_file(str(damage_weights)))
    log(f"{out_path}: {len(kept)} tensors of {loaded.name}, SPAN and the damage estimator; "
        f"clean expert {x4plus.name} by reference")
    x4plus_config = json.loads(x4plus.with_suffix(".json").read_text())["config"]
    # the rest of the base (its person prior and gate, repair stage, classes and palette) is kept
    extra = {k: v for k, v in loaded.manifest.items() if k not in _WRITTEN_HERE}
    if not keep_classes:
        for key in ("seg_encoder", "chain_val", "person_prior", "person_gate", "classes", "palette"):
            extra.pop(key, None)
    description = ("Two experts blended by the restoration strength (Auto), then the classes (11 street-scene "
                   "classes) in a few steps" if keep_classes else
                   "The same two experts and strength, no classes: faster")
    return save_model(
        model, out_path, overwrite=overwrite, description=description,
        training={"data": f"no training of the image side: SPAN and Real-ESRGAN x4plus as shipped; classes: "
                          f"{loaded.name}'s SegDM (sha256 {loaded.manifest['sha256'][:12]}: "
                          f"{loaded.manifest.get('training', {}).get('data', '')})",
                  "classes_from": loaded.manifest.get("training", {}), "damage_estimator": record},
        restorer=expert_provenance(span, "SPAN x4, 48 channels, 6 blocks (engine/nets/span.py): the faithful "
                                         "expert, weights as shipped", "LICENSE-SPAN"),
        clean_expert={**expert_provenance(x4plus, "Real-ESRGAN x4plus, RRDBNet 23 blocks (engine/nets/rrdbnet.py): "
                                                  "the clean expert, weights as shipped", "LICENSE-Real-ESRGAN"),
                      "file": x4plus.name, "safetensors_sha256": sha256_of(x4plus),
                      "config": x4plus_config,
                      "installed_by": "segsr import-pretrained --only x4plus (packaging/setup.sh runs it)"},
        strength={"default": "auto", "auto_thresholds": list(experts.auto_strength),
                  "tone_sigma_hr_px": tone_sigma, "lattice_sigma_lr_px": LATTICE_SIGMA},
        **extra)
