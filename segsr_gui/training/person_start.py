"""Give a shipped model the person prior (docs/design.md, "people"): MediaPipe's selfie net,
imported by ``segsr import-pretrained --only selfie``, joins SegDM's class state at every step
as the class that CamVid calls "pedestrian", named "person" from here on (same id, 9).

Nothing is trained and the model's weights do not change (their sha256 stays valid): the
manifest gains the prior's provenance and sha256 and the config switches it on.

    segsr add-person-prior models/segsr-x4
"""

from __future__ import annotations

import json
from pathlib import Path

from segsr_gui.classes import PERSON_ID
from segsr_gui.engine.nets.weights import PERSON_PRIOR_FILE, read_manifest, resolve_model_path, sha256_of, update_manifest
from segsr_gui.training.restorer import pretrained_summary


def add_person_prior(model, pretrained_dir="pretrained", window: int = 256, merge: str = "max", log=print) -> dict:
    """Switch the person prior on in ``model``'s manifest; returns the new manifest."""
    path = resolve_model_path(model)
    prior = Path(pretrained_dir) / PERSON_PRIOR_FILE
    if not prior.is_file():
        raise FileNotFoundError(f"{prior} is missing; run segsr import-pretrained --only selfie")
    manifest = read_manifest(path)
    if not manifest["config"].get("bridge", True):
        raise ValueError(f"{path.name} has no classes (no SegDM), so no person class to fill")
    classes = list(manifest.get("classes", []))
    if len(classes) > PERSON_ID:
        classes[PERSON_ID] = "person"
    pretrained = pretrained_summary(prior.with_suffix(".json"))
    record = {
        "architecture": "MediaPipe selfie segmentation (engine/nets/selfie.py): person vs background, "
                        "weights as shipped",
        "pretrained": pretrained, "weights_unchanged": True,
        "licence": f"{pretrained.get('licence', '?')} (licenses/LICENSE-MediaPipe, licenses/NOTICE)",
        "file": prior.name, "safetensors_sha256": sha256_of(prior),
        "joins": "the class state at every step, as class 'person' (person_prior.fuse_person)",
        "installed_by": "segsr import-pretrained --only selfie (packaging/setup.sh runs it)",
    }
    config = {**manifest["config"], "person_prior": "selfie", "person_class": PERSON_ID,
              "person_window": int(window), "person_merge": merge}
    log(f"{path.name}: person prior {prior.name} (sha256 {record['safetensors_sha256'][:12]}), "
        f"window {window}, merge {merge}")
    return update_manifest(path, classes=classes, config=config, person_prior=record)
