"""The shipped models' outputs on the bundled sample, recorded by the code at commit a53cb08
(before the model became stages); test_shipped_outputs.py checks the stages give the same.
The images and class maps were re-recorded with the same settings after the lattice bound
(engine/nets/lattice.py), as test_shipped_outputs.py runs them (background off, no repair).
    python tests/data/shipped_outputs/record.py tests/data/shipped_outputs   (then hash the whole images)
"""
import json, sys
from pathlib import Path
import numpy as np
from PIL import Image
from segsr_gui.engine.nets.weights import load_model
from segsr_gui.engine.inference.pipeline import upscale

out = Path(sys.argv[1])
src = np.asarray(Image.open("resources/sample.png").convert("RGB"), dtype=np.float32) / 255
crops = {"face": src[40:88, 60:108], "whole": src}
record = {}
for model_name in ("segsr-x4", "srdm-only-x4"):
    loaded = load_model(model_name)
    for crop_name, rgb in crops.items():
        for strength in (0.0, None, 1.0):
            if model_name == "srdm-only-x4" and strength != None:
                continue
            if crop_name == "whole" and strength == 1.0:
                continue
            res = upscale(np.ascontiguousarray(rgb), loaded.model, strength=strength, tile=0)
            key = f"{model_name}_{crop_name}_{'auto' if strength is None else strength}"
            Image.fromarray((res.image * 255).round().astype(np.uint8)).save(out / f"{key}.png")
            if res.class_map is not None:
                Image.fromarray(res.class_map).save(out / f"{key}_classes.png")
            record[key] = {"strength": res.strength.value, "auto": res.strength.auto}
            print(key, record[key], flush=True)
(out / "runs.json").write_text(json.dumps(record, indent=1) + "\n")
