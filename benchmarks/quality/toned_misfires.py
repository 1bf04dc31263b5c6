"""What the toned-print rule costs where it misfires: colour photos of one warm hue, blind.

The rule (``engine/nets/print_tone.py``) reads some test-set photos of one warm hue (sand, a
stone city) as toned prints and gives them the clean look (``toned_prints.md``). This shows
each of them, from bicubic LR, at strength 0 (what Auto gives them without the rule: their
damage reads low) and at strength 1 (what it gives them now), side by side in a shuffled
order, A and B; a viewer who never sees the key says which to keep. Read to report, never to
choose: these are test images.

    python -m benchmarks.quality.toned_prints                  # first: which photos misfire
    python -m benchmarks.quality.toned_misfires [--out runs/toned-misfires]
    python -m benchmarks.quality.toned_misfires --score ANSWERS.json [--viewer NAME]

writes ``OUT/sheets/pair_NN.png`` and ``OUT/key.json``; ``--score`` writes
benchmarks/results/toned_misfires.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.common import DATA, RESULTS, RUNS, load_rgb8, result_path, to_uint8

FAITHFUL = "faithful (strength 0)"
CLEAN = "clean (strength 1, the toned rule)"


def pair_sheet(left: np.ndarray, right: np.ndarray) -> Image.Image:
    h, w = left.shape[:2]
    out = Image.new("RGB", (2 * w + 8, h + 24), (32, 32, 32))
    draw = ImageDraw.Draw(out)
    for i, img in enumerate((left, right)):
        out.paste(Image.fromarray(to_uint8(img)), (i * (w + 8), 24))
        draw.text((i * (w + 8) + w // 2, 5), "AB"[i], fill=(240, 240, 240))
    return out


def make(out: Path, model: str, seed: int) -> None:
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.engine.nets.weights import load_model
    from segsr_gui.training.degrade import bicubic

    read = json.loads((RESULTS / "toned_prints.json").read_text())
    net = load_model(model).model
    rng = np.random.default_rng(seed)
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    key = {}
    for s in ("BSD68", "Urban100"):
        for photo, r in read["sets"][s].items():
            if not r["toned"]:
                continue
            lr = bicubic(load_rgb8(DATA / "sr_bench" / s / photo).astype(np.float32) / 255)
            outs = {FAITHFUL: upscale(lr, net, strength=0.0).image, CLEAN: upscale(lr, net, strength=1.0).image}
            labels = [list(outs)[i] for i in rng.permutation(2)]
            name = f"pair_{len(key) + 1:02d}"
            pair_sheet(outs[labels[0]], outs[labels[1]]).save(out / "sheets" / f"{name}.png")
            key[name] = {"set": s, "photo": photo, "A": labels[0], "B": labels[1]}
            print(name, s, photo, flush=True)
    (out / "key.json").write_text(json.dumps(key, indent=1))


def score(answers_file: Path, key_file: Path, viewer: str, out: str) -> None:
    answers, key = json.loads(answers_file.read_text()), json.loads(key_file.read_text())
    kept = {name: (key[name][a] if a in ("A", "B") else "same") for name, a in answers.items()}
    counts = {label: sum(v == label for v in kept.values()) for label in (CLEAN, FAITHFUL, "same")}
    report = {"viewer": viewer, "pairs": {n: {**key[n], "kept": kept[n]} for n in kept}, "counts": counts}
    Path(out + ".json").write_text(json.dumps(report, indent=1))
    lines = [f"# The toned-print rule where it misfires ({len(kept)} test photos of one warm hue, {viewer})", "",
             "Each photo from bicubic LR at strength 0 and at strength 1 (what the rule gives it), shuffled as A and B; "
             "sheets and key from `benchmarks/quality/toned_misfires.py`.", "",
             "| photo | kept |", "|---|---|"]
    lines += [f"| {p['set']}/{p['photo']} | {p['kept']} |" for p in report["pairs"].values()]
    lines += ["", "Kept: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + "."]
    Path(out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(RUNS / "toned-misfires"))
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--score", type=Path, help="a viewer's answers JSON: score it against OUT/key.json")
    ap.add_argument("--viewer", default="a viewer who did not see the key")
    args = ap.parse_args(argv)
    if args.score:
        score(args.score, Path(args.out) / "key.json", args.viewer, result_path("toned_misfires"))
    else:
        make(Path(args.out), args.model, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
