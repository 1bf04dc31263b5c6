"""Tiny models that favour or never paint given classes, for window tests that need a class
absent (the legend hides it) or present (its mask is written). The offsets go into the bias of
the class net's last layer, so no model option is needed for them."""

import torch


def save_biased_model(folder, name: str, offsets: dict) -> object:
    """A tiny model saved as ``folder/name.safetensors`` whose class logits get ``offsets[k]``."""
    from conftest import make_tiny_model
    from segsr_gui.engine.nets.weights import save_model

    model = make_tiny_model()
    k = model.config.num_classes
    head = [m for n, m in model.named_modules() if "segdm" in n and isinstance(m, torch.nn.Conv2d)
            and m.out_channels % k == 0 and m.bias is not None][-1]
    per_class = head.out_channels // k  # pixel-shuffled logits: class c owns channels c*r*r .. (c+1)*r*r-1
    with torch.no_grad():
        for cls, offset in offsets.items():
            head.bias[cls * per_class:(cls + 1) * per_class] += offset
    save_model(model, folder / name, training={"note": "random test weights, biased classes"})
    return folder / f"{name}.safetensors"
