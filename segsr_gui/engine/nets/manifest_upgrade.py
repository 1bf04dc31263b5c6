"""Older manifests to version 3. Version 1 has one flat config of the model's every generation;
version 2 a config section per stage, with the weights' names moved to their stage; version 3
gates the person prior with a scene classifier instead of a distance from CamVid's frames.

Version 1 models that run a part this version no longer has (the SRDM image refinement, a
bicubic start, the unpooled SegDM, class biases, the weighted person fusion) are refused with
one sentence: their results are recorded in docs/, and the shipped models never ran them. A
model gated by the distance loads without its person prior (and the background class that
follows the gate) and says how to refit it: the distance shut on grey portraits.
"""

from __future__ import annotations

MANIFEST_VERSION = 3
OUTDATED_GATE = "outdated_person_gate"  # set on a manifest whose gate was dropped

# older weight-name prefixes -> version 3 (None: dropped, a part no stage has). The version 1
# and version 2 names never share a prefix, so one table serves both; the scene distance's
# statistics ("scene." in version 1, "classes.scene." in version 2) go with the old gate.
_RENAMES = (("restorer.", "experts.faithful."), ("damage.", "experts.damage."),
            ("segdm.", "classes.segdm."), ("bridge.image_to_seg.", "classes.bridge.image_to_seg."),
            ("bridge.seg_to_image.", None), ("scene.", None), ("classes.scene.", None))


class OutdatedModel(ValueError):
    """A version 1 model with a part this version no longer runs."""


def _refuse(why: str) -> None:
    raise OutdatedModel(f"it was made for an earlier SegSR Studio and {why}, which this version no "
                        "longer runs; use the shipped models (segsr-x4, srdm-only-x4)")


def upgrade_config(v1: dict) -> dict:
    """A version 1 ``config`` as a version 2 one (``ModelConfig.to_dict``'s layout)."""
    if v1.get("refine_image", True):
        _refuse("refines the image with SRDM")
    if not v1.get("restorer"):
        _refuse("starts from bicubic upsampling instead of the experts")
    if any(float(b) != 0 for b in v1.get("class_bias", [])):
        _refuse("adds class biases")
    if float(v1.get("person_weight", 0.0)) != 0 or v1.get("person_merge", "max") != "max":
        _refuse("joins the person prior by weighted evidence")
    experts = {"faithful_channels": v1.get("restorer_channels", 48), "faithful_blocks": v1.get("restorer_blocks", 6),
               "clean": v1.get("clean_expert", ""),
               "auto_strength": list(v1.get("auto_strength", [])) if v1.get("damage_estimator") else [],
               "lattice_sigma": v1.get("lattice_sigma", 0.0), "tone_sigma": v1.get("tone_sigma", 0.0)}
    classes = None
    if v1.get("bridge", True):
        if not v1.get("seg_pool"):
            _refuse("segments with the unpooled SegDM")
        person = None
        if v1.get("person_prior"):
            person = {"class_id": v1.get("person_class", 9), "window": v1.get("person_window", 256),
                      "gate": list(v1.get("person_gate", []))}
        classes = {"num_classes": v1.get("num_classes", 11), "width": v1.get("seg_width", 32),
                   "mult": list(v1.get("seg_mult", [1, 2, 2])), "blocks": v1.get("seg_blocks", 2),
                   "image_channels": v1.get("bridge_channels", 32), "pool": v1["seg_pool"],
                   "encoder_channels": v1.get("seg_encoder_channels", 64) if v1.get("seg_encoder") else 0,
                   "kappa": v1.get("kappa_seg", 0.5), "person": person}
    return {"scale": v1.get("scale", 4), "schedule": v1.get("schedule", {}), "noise_scale": v1.get("noise_scale", 1.0),
            "experts": experts, "classes": classes, "repair": None}


def upgrade_state(state: dict) -> dict:
    """Older weights -> version 3: version 1 names moved to their stage (the tensors themselves
    unchanged), the scene distance's statistics dropped."""
    out = {}
    for key, tensor in state.items():
        for old, new in _RENAMES:
            if key.startswith(old):
                if new is not None:
                    out[new + key[len(old):]] = tensor
                break
        else:
            out[key] = tensor
    return out


def upgrade_manifest(manifest: dict) -> dict:
    """An older manifest as version 3: the new config, the rest as it was (``sha256`` still
    names the weights file it came with). A person prior behind the scene distance is dropped
    with the background class, and ``OUTDATED_GATE`` says so."""
    version = manifest.get("manifest_version", 1)
    out = dict(manifest)
    if version < 2:
        out = {k: v for k, v in manifest.items() if k not in ("bridge", "config")}
        out["config"] = upgrade_config(manifest["config"])
    classes = out["config"].get("classes")
    if classes and classes.get("person") and classes["person"].get("gate"):
        out["config"] = {**out["config"], "classes": {**classes, "person": None, "background": False}}
        out[OUTDATED_GATE] = True
        for key in ("classes", "palette"):  # the background class goes with the gate
            if isinstance(out.get(key), list):
                out[key] = out[key][:classes["num_classes"]]
    out["manifest_version"] = MANIFEST_VERSION
    return out
