"""The starting point of a SegSR model whose SegDM reads the image through the pretrained
SqueezeNet v1.1 (``engine/nets/seg_encoder.py``).

The architecture comes from a training config; every tensor of a shipped model whose name
and shape fit is kept (restorer, SRDM, the bridge), the encoder's backbone gets the imported
ImageNet weights, and the rest (the pyramid convs, SegDM's UNet, whose input grew) starts
fresh. Saved as a model file for ``segsr train --init``; its manifest records the encoder's
provenance (package, version, sha256, licence, the port's check) next to the restorer's.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from segsr_gui.training.config import load_config
from segsr_gui.training.restorer import pretrained_summary


def encoder_provenance(encoder_weights) -> dict:
    pretrained = pretrained_summary(Path(encoder_weights).with_suffix(".json"))
    return {
        "architecture": "SqueezeNet v1.1 features (fire3/5/9) + a feature pyramid (engine/nets/seg_encoder.py)",
        "pretrained": pretrained,
        "licence": pretrained.get("licence", "BSD-2-Clause") + " (licenses/LICENSE-SqueezeNet)",
    }


def build_encoder_start(base, config_path, encoder_weights, out_path, log=print, overwrite: bool = False) -> dict:
    """Write the start model (see the module docstring); returns its manifest."""
    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.engine.nets.weights import load_model, save_model

    config = load_config(config_path).model
    if not config.seg_encoder:
        raise ValueError(f"{config_path} asks for no seg_encoder; nothing to start")
    loaded = load_model(base)
    torch.manual_seed(0)  # the fresh layers' start is part of the recipe: the same file every time
    model = SegSRModel(config)
    own = model.state_dict()
    kept = {k: v for k, v in loaded.model.state_dict().items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(kept, strict=False)
    backbone = {k: v for k, v in load_file(str(encoder_weights)).items() if not k.startswith("conv10.")}
    model.segdm.encoder.backbone.load_state_dict(backbone)
    fresh = sorted({k.split(".")[0] + "." + k.split(".")[1] for k in own if k not in kept
                    and not k.startswith("segdm.encoder.backbone.")})
    log(f"start model from {loaded.name}: {len(kept)} tensors kept, SqueezeNet loaded, fresh: {', '.join(fresh)}")
    earlier = loaded.manifest.get("training", {})
    return save_model(model, out_path, overwrite=overwrite, training={
        "iterations": 0,
        "wall_clock_minutes": 0.0,
        "precision": earlier.get("precision", "bf16"),
        "data": f"{loaded.name}'s restorer and SRDM (sha256 {loaded.manifest['sha256'][:12]}), "
                f"SqueezeNet v1.1 ImageNet weights in SegDM's encoder; SegDM's UNet fresh"},
        restorer=loaded.manifest.get("restorer", {}), seg_encoder=encoder_provenance(encoder_weights))
