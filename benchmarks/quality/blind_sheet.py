"""Blind comparison sheets: the same crop from every method, shuffled, labelled by letters only.

    python -m benchmarks.quality.old_photos            # first: writes every method's output
    python -m benchmarks.quality.blind_sheet [--out runs/blind] [--crops-per-photo 2] [--size 192]

For each photo, ``--crops-per-photo`` crops of ``--size`` output pixels are cut where the photo
has detail (the bicubic output's local contrast above its median, positions drawn with a fixed
seed); each sheet shows one crop from every method in a shuffled order, enlarged 2x with nearest
neighbour, under the letters A, B, C... The key (which letter is which method) goes to
``OUT/key.json``, apart from the sheets, so a viewer who never opens it ranks them blind.

    python -m benchmarks.quality.blind_sheet --score RANKS.json [--viewer NAME]

reads a viewer's ranking (``{"sheet_01": "CAEBD", ...}``, best first) against the key and
writes the mean rank and first places of each method to ``benchmarks/results/blind_ranking``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.common import RUNS, result_path

OUTPUTS = RUNS / "old-photos"
METHODS = {
    "bicubic": "bicubic",
    "SPAN x4 as shipped": "SPAN_x4_as_shipped",
    "realesr-general-x4v3": "realesr-general-x4v3_(ncnn)",
    "Real-ESRGAN x4plus": "Real-ESRGAN_x4plus_(ncnn)",
    "ours (Auto)": "segsr-x4,_Auto_(the_default)",
}
PHOTOS = ["old_a", "old_b", "old_c", "old_scratch_a", "0014", "wolf_gray"]


def crop_boxes(image: np.ndarray, count: int, size: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``count`` top-left corners of crops with detail, not overlapping much."""
    gray = image.mean(axis=2)
    h, w = gray.shape
    candidates = [(t, l) for t in range(0, h - size + 1, size // 2) for l in range(0, w - size + 1, size // 2)]
    contrast = np.array([gray[t:t + size, l:l + size].std() for t, l in candidates])
    rich = [c for c, v in zip(candidates, contrast) if v >= np.median(contrast)]
    picked: list[tuple[int, int]] = []
    for i in rng.permutation(len(rich)):
        t, l = rich[i]
        if all(abs(t - a) >= size or abs(l - b) >= size for a, b in picked):
            picked.append((t, l))
        if len(picked) == count:
            break
    return picked


def sheet(crops: list[np.ndarray], letters: str, scale: int = 2) -> Image.Image:
    side = crops[0].shape[0] * scale
    out = Image.new("RGB", ((side + 8) * len(crops), side + 28), (32, 32, 32))
    draw = ImageDraw.Draw(out)
    for i, (crop, letter) in enumerate(zip(crops, letters)):
        tile = Image.fromarray(crop).resize((side, side), Image.NEAREST)
        out.paste(tile, (i * (side + 8), 24))
        draw.text((i * (side + 8) + side // 2 - 4, 5), letter, fill=(240, 240, 240))
    return out


def write_sheets(images: dict[str, np.ndarray], photo: str, boxes, size: int, rng: np.random.Generator,
                 folder: Path, first: int = 1) -> dict:
    """One sheet per crop box (``sheet_NN.png`` in ``folder``, numbered from ``first``): the crop
    from every image in ``images`` (label -> output), in an order shuffled by ``rng``. Returns the
    key entries: {sheet name: {photo, box, letters: {letter: label}}}."""
    key = {}
    for number, (top, left) in enumerate(boxes, start=first):
        labels = [list(images)[i] for i in rng.permutation(len(images))]
        letters = "ABCDEFGH"[:len(labels)]
        name = f"sheet_{number:02d}"
        crops = [images[label][top:top + size, left:left + size] for label in labels]
        sheet(crops, letters).save(folder / f"{name}.png")
        key[name] = {"photo": photo, "box": [int(top), int(left), size], "letters": dict(zip(letters, labels))}
    return key


def score(ranks_file: Path, key_file: Path, viewer: str, out: str, source: str = "blind_sheet.py") -> None:
    ranks, key = json.loads(ranks_file.read_text()), json.loads(key_file.read_text())
    places: dict[str, list[int]] = {label: [] for sheet_key in key.values() for label in sheet_key["letters"].values()}
    for sheet_name, order in ranks.items():
        letters = key[sheet_name]["letters"]
        if sorted(order) != sorted(letters):
            raise SystemExit(f"{sheet_name}: the ranking {order!r} must use each of {''.join(letters)} once")
        for place, letter in enumerate(order, start=1):
            places[letters[letter]].append(place)
    table = {label: {"mean_rank": float(np.mean(p)), "first": p.count(1), "sheets": len(p)}
             for label, p in places.items() if p}
    report = {"viewer": viewer, "sheets": len(ranks), "photos": sorted({key[s]["photo"] for s in ranks}),
              "methods": table, "ranks": ranks}
    Path(out + ".json").write_text(json.dumps(report, indent=1))
    lines = [f"# Blind ranking of {len(ranks)} crops ({viewer})", "",
             f"Photos: {', '.join(report['photos'])}; sheets and key from `benchmarks/quality/{source}`, ranked "
             "without the key (1 = best).", "", f"| method | mean rank (1-{len(table)}) | ranked first |", "|---|---|---|"]
    for label, row in sorted(table.items(), key=lambda kv: kv[1]["mean_rank"]):
        lines.append(f"| {label} | {row['mean_rank']:.2f} | {row['first']} of {row['sheets']} |")
    Path(out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(RUNS / "blind"))
    ap.add_argument("--score", type=Path, help="a viewer's ranking JSON: score it against OUT/key.json")
    ap.add_argument("--viewer", default="a viewer who did not see the key")
    ap.add_argument("--result", default=result_path("blind_ranking"))
    ap.add_argument("--crops-per-photo", type=int, default=2)
    ap.add_argument("--size", type=int, default=192, help="crop side in output pixels")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--photos", nargs="+", default=PHOTOS, help="stems of the photos in runs/old-photos/*/")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.score:
        score(args.score, out / "key.json", args.viewer, args.result)
        return 0
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    key: dict = {}
    for photo in args.photos:
        paths = {label: OUTPUTS / folder / f"{photo}.png" for label, folder in METHODS.items()}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            print(f"{photo}: left out, {missing[0]} missing (run python -m benchmarks.quality.old_photos)", file=sys.stderr)
            continue
        images = {label: np.asarray(Image.open(p).convert("RGB")) for label, p in paths.items()}
        boxes = crop_boxes(images["bicubic"], args.crops_per_photo, args.size, rng)
        key.update(write_sheets(images, photo, boxes, args.size, rng, out, first=len(key) + 1))
    (out / "key.json").write_text(json.dumps(key, indent=1))
    print(f"{len(key)} sheets in {out}; the key is {out / 'key.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
