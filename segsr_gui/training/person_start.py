"""Give a shipped model the person prior (docs/design.md, "people"): MediaPipe's selfie net,
imported by ``segsr import-pretrained --only selfie``, joins SegDM's class state at every step
as the class that CamVid calls "pedestrian", named "person" from here on (same id, 9), as far
as the scene gate lets it (``engine/nets/scene.py``, fitted by ``training/scene_gate.py``).

Nothing else changes: every tensor of ``base`` is kept; the model gains the gate's classifier
and the background class that follows it (``stages/class_chain.py``), and its manifest the
prior's provenance and sha256. A base with a gate of its own has it refitted.

    segsr add-person-prior models/segsr-x4 --data ../shared/data --wallpapers runs/wallpapers \\
        --out models/segsr-x4 --overwrite
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from segsr_gui.classes import BACKGROUND, BACKGROUND_RGB, CAMVID_CLASSES, CAMVID_PALETTE, PERSON_ID
from segsr_gui.engine.nets.manifest_upgrade import OUTDATED_GATE
from segsr_gui.training.records import pretrained_summary

# what save_model writes itself; every other field of the base manifest is carried over
_OWN_FIELDS = {"manifest_version", "name", "classes", "palette", "scale", "bridge", "steps", "schedule",
               "noise_scale", "config", "parameters", "sha256", "person_prior", "person_gate"}


def add_person_prior(base, out, data, wallpapers, pretrained_dir="pretrained", window: int = 256,
                     background: bool = True, overwrite: bool = False, log=print) -> dict:
    """Write ``base`` with the person prior switched on to ``out``; returns its manifest."""
    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.engine.nets.weights import PERSON_PRIOR_FILE, load_model, save_model, sha256_of
    from segsr_gui.engine.stages.class_chain import PersonConfig
    from segsr_gui.training.scene_gate import fit_gate

    prior = Path(pretrained_dir) / PERSON_PRIOR_FILE
    if not prior.is_file():
        raise FileNotFoundError(f"{prior} is missing; run segsr import-pretrained --only selfie")
    loaded = load_model(base)
    if not loaded.model.has_segmentation:
        raise ValueError(f"{loaded.name} has no classes (no SegDM), so no person class to fill")
    scene, gate_record = fit_gate(loaded.model.classes.segdm.encoder.backbone, data, wallpapers, log)
    person = PersonConfig(class_id=PERSON_ID, window=int(window), gate=(gate_record["street"], gate_record["elsewhere"]))
    base_config = loaded.model.config
    classes = replace(base_config.classes, person=person, background=background)
    model = SegSRModel(replace(base_config, classes=classes))
    own = {k: v for k, v in loaded.model.state_dict().items() if not k.startswith("classes.scene.")}
    missing, unexpected = model.load_state_dict(own, strict=False)
    if unexpected or any(not k.startswith("classes.scene.") for k in missing):
        raise ValueError(f"{loaded.name} does not fit its own architecture ({missing[:1] or unexpected[:1]})")
    model.classes.scene.load_state_dict(scene.state_dict())
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
    carried = {k: v for k, v in loaded.manifest.items() if k not in _OWN_FIELDS and k != OUTDATED_GATE}
    names, colours = list(CAMVID_CLASSES), [list(c) for c in CAMVID_PALETTE]
    if background:
        names, colours = names + [BACKGROUND], colours + [list(BACKGROUND_RGB)]
    log(f"{out}: {loaded.name} (sha256 {loaded.manifest['sha256'][:12]}) with the person prior "
        f"{prior.name}, window {window}")
    return save_model(model, out, overwrite=overwrite, **carried, person_prior=record, person_gate=gate_record,
                      classes=names, palette=colours)
