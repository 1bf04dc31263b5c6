"""Give a shipped model the repair stage: the detector and the fill trained by
``training/repair_train.py`` join the model file under ``repair.``; every other tensor of
``base`` is kept, so the experts and the class chain give the same outputs with the repair off.
The manifest records the repair's training (``repair.json``) and config.

    segsr add-repair segsr-x4 --repair runs/repair/repair.safetensors --out models/segsr-x4 --overwrite
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

# what save_model writes itself; every other field of the base manifest is carried over
_OWN_FIELDS = {"manifest_version", "name", "scale", "steps", "schedule",
               "noise_scale", "config", "parameters", "sha256", "repair"}


def add_repair(base, repair_weights, out, overwrite: bool = False, log=print) -> dict:
    """Write ``base`` with the repair stage of ``repair_weights`` to ``out``; its manifest."""
    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.engine.nets.weights import load_model, save_model, sha256_of
    from segsr_gui.engine.repair.repair import RepairModel

    repair = RepairModel.load(repair_weights)
    record_path = Path(repair_weights).with_suffix(".json")
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    loaded = load_model(base)
    model = SegSRModel(replace(loaded.model.config, repair=repair.config))
    missing, unexpected = model.load_state_dict(loaded.model.state_dict(), strict=False)
    if unexpected or any(not k.startswith("repair.") for k in missing):
        raise ValueError(f"{loaded.name} does not fit its own architecture ({missing[:1] or unexpected[:1]})")
    model.repair.load_state_dict(repair.state_dict())
    carried = {k: v for k, v in loaded.manifest.items() if k not in _OWN_FIELDS}
    log(f"{out}: {loaded.name} (sha256 {loaded.manifest['sha256'][:12]}) with the repair stage "
        f"{Path(repair_weights).name} (sha256 {sha256_of(Path(repair_weights))[:12]})")
    return save_model(model, out, overwrite=overwrite, **carried,
                      repair={"architecture": "damage detector (U-Net, engine/repair/detector.py) and a "
                                              "residual-shifting fill (engine/repair/fill.py) at the photo's size",
                              "weights_sha256": sha256_of(Path(repair_weights)), **record})
