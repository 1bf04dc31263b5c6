"""Record the shipped models' outputs on the bundled sample, as test_shipped_outputs.py runs
them (background class off, no repair), for one precision: ``bf16`` on a CPU with native bf16,
``fp32`` elsewhere. Each precision has its own folder, because bf16 moves the image by a few
grey levels.

The bf16 record was made at commit a53cb08 (before the model became stages) and re-recorded
after the lattice bound (engine/nets/lattice.py); its whole images are kept as sha256. The
fp32 record keeps the whole images as 4x4 box means (``*_small.png``), since fp32 sums are
ordered differently by the AVX2 and AVX-512 kernels.

    python tests/data/shipped_outputs/record.py fp32
"""
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from segsr_gui.engine.inference.pipeline import upscale
from segsr_gui.engine.nets.weights import load_model

HERE = Path(__file__).parent
KEYS = ("segsr-x4_face_0.0", "segsr-x4_face_auto", "segsr-x4_whole_0.0", "segsr-x4_whole_auto",
        "srdm-only-x4_face_auto")


def box_mean(image: np.ndarray, k: int = 4) -> np.ndarray:
    """``image`` (H, W, 3) uint8 averaged over k x k blocks, rounded to uint8."""
    h, w = image.shape[0] // k * k, image.shape[1] // k * k
    blocks = image[:h, :w].astype(np.float64).reshape(h // k, k, w // k, k, 3)
    return blocks.mean((1, 3)).round().astype(np.uint8)


def run(key: str, sample: np.ndarray, precision: str, models: dict):
    """The test's run for ``key`` ("MODEL_CROP_STRENGTH"): the ``UpscaleResult``."""
    model_name, crop, strength = key.split("_")
    loaded = models.setdefault(model_name, load_model(model_name))
    if loaded.model.classes is not None and loaded.model.classes.config.background:  # as recorded
        classes = replace(loaded.model.classes.config, background=False)
        loaded.model.classes.config = classes
        loaded.model.config = replace(loaded.model.config, classes=classes)
    rgb = sample[40:88, 60:108] if crop == "face" else sample
    return loaded, upscale(np.ascontiguousarray(rgb), loaded.model, tile=0, repair="off", precision=precision,
                           strength=None if strength == "auto" else float(strength))


def main(precision: str) -> None:
    from segsr_gui.engine.diffusion.precision import bf16_supported

    if precision not in ("bf16", "fp32") or (precision == "bf16" and not bf16_supported()):
        raise SystemExit("usage: record.py bf16|fp32 (bf16 only on a CPU with native bf16)")
    out = HERE / precision
    out.mkdir(exist_ok=True)
    sample = np.asarray(Image.open(HERE.parents[2] / "resources" / "sample.png").convert("RGB"),
                        dtype=np.float32) / 255
    models, record = {}, {}
    for key in KEYS:
        _, res = run(key, sample, "auto" if precision == "bf16" else "fp32", models)
        image = (res.image * 255).round().astype(np.uint8)
        if "_whole_" in key:
            Image.fromarray(box_mean(image)).save(out / f"{key}_small.png")
        else:
            Image.fromarray(image).save(out / f"{key}.png")
        if res.class_map is not None:
            Image.fromarray(res.class_map).save(out / f"{key}_classes.png")
        record[key] = {"strength": res.strength.value, "auto": res.strength.auto}
        print(key, record[key], flush=True)
    (out / "runs.json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
