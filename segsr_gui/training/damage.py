"""Training the damage estimator (``engine/nets/damage.py``) behind Auto strength.

Clean examples are Pillow-bicubic LR crops of CamVid train frames and of sharper photos
(``--photos``: the high-resolution photographs and renders in Debian's wallpaper packages,
docs/training.md), some shrunk up to 2.8x first, some sharpened, some saved as high-quality
JPEG (no damage a user would want removed); damaged examples are the same crops through the
project's degradations (Real-ESRGAN's second-order pipeline, the old-photo flavour). The
bank is made once (the degradations cost more than the training), then the net trains on
it with flips. Validation is whole CamVid val frames and every fifth photo of ``--photos``
(never trained on), with fixed seeds; the two thresholds of ``strength_from_damage`` are
read off it (``thresholds``): the strength rises from 0 to 1 across the zone where clean and
damaged validation images overlap, from the 95th percentile of the clean ones' damage to the
5th percentile of the damaged ones'.

    python -m segsr_gui.training.damage --data ../shared/data --photos runs/wallpapers --out runs/damage
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save

from segsr_gui.engine.diffusion.precision import bf16_supported
from segsr_gui.engine.nets.damage import DamageEstimator
from segsr_gui.io.atomic import write_files_atomic
from segsr_gui.training.data import load_camvid
from segsr_gui.training.degrade import bicubic, jpeg, old_photo, realesrgan, resize

CROP = 128  # HR pixels; the LR examples are 32x32, so a frame can be shrunk up to 2.8x first
SOFT_SIGMA = (6.0, 12.0)  # blur of a soft print (``--soft-share``), HR pixels: 1.5-3 LR pixels


def clean_lr(hq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.3:  # a sharpened photo (cameras and scanners do it) is no damage
        from scipy.ndimage import gaussian_filter
        hq = np.clip(hq + rng.uniform(0.3, 1.0) * (hq - gaussian_filter(hq, (rng.uniform(1, 2),) * 2 + (0,))), 0, 1)
    lr = bicubic(hq)
    return jpeg(lr, int(rng.integers(88, 99))) if rng.random() < 0.3 else lr


def soft_clean_lr(hq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft photo shrunk cleanly (a portrait at a wide aperture, Set5's head): blurred by 1.5
    to 3 LR pixels, without grain or fading. With ``--soft-clean-share`` these are clean
    examples, and the soft prints always carry grain: grain on a soft photo is what tells a
    print from a clean photo."""
    from scipy.ndimage import gaussian_filter

    sigma = rng.uniform(*SOFT_SIGMA)  # HR pixels, before the x4 shrink
    return bicubic(np.clip(gaussian_filter(hq, (sigma, sigma, 0)), 0, 1))


def soft_lr(hq: np.ndarray, rng: np.random.Generator, grainy: bool = False) -> np.ndarray:
    """A soft print: out of focus, a scan of a small print or a faded copy. Blurred as
    ``soft_clean_lr``, often faded, with a little grain in half of them (``grainy``: in all of
    them, a little more): damage a viewer wants restored although it holds almost no noise."""
    lr = soft_clean_lr(hq, rng)
    if rng.random() < 0.6:
        contrast = rng.uniform(0.6, 0.95)
        lr = contrast * lr + (1 - contrast) * rng.uniform(0.3, 0.7)
    if rng.random() < (1.0 if grainy else 0.5):
        sigma = rng.uniform(0.004, 0.015) if grainy else rng.uniform(0.002, 0.015)
        lr = lr + rng.normal(0, sigma, lr.shape[:2] + (1,)).astype(np.float32)
    return np.clip(lr, 0, 1).astype(np.float32)


def damaged_lr(hq: np.ndarray, rng: np.random.Generator, soft_share: float = 0.0,
               soft_clean_share: float = 0.0) -> np.ndarray:
    """Soft prints (``soft_share``; the shipped estimator saw none, docs/experts.md; always
    grainy when soft clean photos are among the clean examples), then Real-ESRGAN's second
    order 60 % and old photos 40 % of the rest."""
    r = rng.random()
    if r < soft_share:
        return soft_lr(hq, rng, grainy=soft_clean_share > 0)
    return realesrgan(hq, rng) if r < soft_share + (1 - soft_share) * 0.6 else old_photo(hq, rng)[0]


def random_crop(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A CROP x CROP float crop, from a window up to 2.8x larger shrunk (CamVid's stills are
    soft; shrunk, they are as sharp as a good photo)."""
    h, w = image.shape[:2]
    side = int(min(h, w, CROP * np.exp(rng.uniform(0.0, np.log(2.8)))))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = image[top:top + side, left:left + side].astype(np.float32) / 255
    return crop if side == CROP else resize(crop, CROP, CROP, "area")


def load_photos(folder, long_side: int = 1600) -> list[np.ndarray]:
    """Every image of at least 1000 px under ``folder`` (sorted), shrunk to ``long_side``."""
    from PIL import Image

    out = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            continue
        with Image.open(path) as im:
            if min(im.size) < 1000:
                continue
            im = im.convert("RGB")
            factor = long_side / max(im.size)
            if factor < 1:
                im = im.resize((round(im.width * factor), round(im.height * factor)), Image.BOX)
            out.append(np.asarray(im))
    return out


def make_bank(images: list[np.ndarray], count: int, seed: int, soft_share: float = 0.0,
              soft_clean_share: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` LR examples (N, 3, 64, 64) and labels (N,): half clean, half damaged."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for i in range(count):
        hq = random_crop(images[int(rng.integers(len(images)))], rng)
        label = i % 2
        if label:
            lr = damaged_lr(hq, rng, soft_share, soft_clean_share)
        elif soft_clean_share and rng.random() < soft_clean_share:
            lr = soft_clean_lr(hq, rng)
        else:
            lr = clean_lr(hq, rng)
        xs.append(lr.transpose(2, 0, 1))
        ys.append(label)
    return np.stack(xs).astype(np.float32), np.asarray(ys, np.float32)


def validation(data_root, photos: list[np.ndarray] = (), seed: int = 2000,
               soft: bool = False, soft_clean: bool = False) -> dict[str, list[np.ndarray]]:
    """Whole CamVid val frames and held-out photos (a 480x360 window) as LR: clean (as they
    are and shrunk 2x first, sharper), Real-ESRGAN-damaged, old-photo and (``soft``) soft
    prints, (``soft_clean``) soft photos shrunk cleanly, fixed seeds."""
    val = load_camvid(data_root, "val")
    frames = [im.astype(np.float32)[:360 // 4 * 4, :480 // 4 * 4] / 255 for im in val.images]
    for photo in photos:
        h, w = photo.shape[:2]
        frames.append(photo[(h - 360) // 2:(h - 360) // 2 + 360, (w - 480) // 2:(w - 480) // 2 + 480]
                      .astype(np.float32) / 255)
    out: dict[str, list[np.ndarray]] = {"clean": [], "clean_sharp": [], "realworld": [], "old_photo": []}
    if soft:
        out["soft"] = []
    if soft_clean:
        out["clean_soft"] = []
    for i, hq in enumerate(frames):
        rng = np.random.default_rng(seed + i)
        out["clean"].append(clean_lr(hq, rng))
        out["clean_sharp"].append(clean_lr(resize(hq, 240, 180, "area"), rng))
        out["realworld"].append(realesrgan(hq, rng))
        out["old_photo"].append(old_photo(hq, rng)[0])
        if soft:
            out["soft"].append(soft_lr(hq, rng, grainy=soft_clean))
        if soft_clean:
            out["clean_soft"].append(soft_clean_lr(hq, rng))
    return out


def thresholds(validation: dict) -> dict:
    """(low, high) from the validation damage statistics (``record["validation"]``): both at
    the clean images' 95th percentile, so Auto picks an end, the faithful expert below it and
    the clean one from it. A blend between the ends is a mix of two looks, and it lost to the
    clean end on 7 of 8 blind crops (``benchmarks/quality/blind_midway.py``)."""
    low = round(max(validation[k]["p95"] for k in validation if k.startswith("clean")), 4)
    return {"low": low, "high": low}


@torch.no_grad()
def damages(net: DamageEstimator, lrs: list[np.ndarray]) -> np.ndarray:
    return np.array([float(net.damage(torch.from_numpy(lr.transpose(2, 0, 1).copy())[None])[0]) for lr in lrs])


def train(data_root, out_dir, bank_size: int = 4000, iters: int = 3000, batch: int = 64, seed: int = 0,
          photos_dir=None, soft_share: float = 0.0, soft_clean_share: float = 0.0, log=print) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    start = time.time()
    photos = load_photos(photos_dir) if photos_dir else []
    held_out, photos_train = photos[::5], [p for i, p in enumerate(photos) if i % 5]
    xs, ys = make_bank(load_camvid(data_root, "train").images, bank_size // 2 if photos else bank_size, seed, soft_share,
                       soft_clean_share)
    if photos_train:
        more = make_bank(photos_train, bank_size // 2, seed + 7, soft_share, soft_clean_share)
        xs, ys = np.concatenate([xs, more[0]]), np.concatenate([ys, more[1]])
    log(f"bank of {len(xs)} examples in {time.time() - start:.0f} s")
    net = DamageEstimator()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    rng = np.random.default_rng(seed + 1)
    xs_t, ys_t = torch.from_numpy(xs), torch.from_numpy(ys)
    for it in range(iters):
        for group in opt.param_groups:
            group["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * it / iters))
        idx = torch.from_numpy(rng.integers(0, len(xs), batch))
        x = xs_t[idx]
        if rng.random() < 0.5:
            x = x.flip(-1)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_supported()):
            logits = net(x)
        target = ys_t[idx].view(-1, 1, 1, 1).expand_as(logits)
        loss = F.binary_cross_entropy_with_logits(logits.float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (it + 1) % 250 == 0:
            log(f"it {it + 1} loss {float(loss):.4f} ({time.time() - start:.0f} s)")
    net.eval()
    val = {kind: damages(net, lrs) for kind, lrs in validation(data_root, held_out, soft=soft_share > 0,
                                                                 soft_clean=soft_clean_share > 0).items()}
    stats = {kind: {"mean": float(v.mean()), "p5": float(np.percentile(v, 5)),
                    "p50": float(np.median(v)), "p95": float(np.percentile(v, 95))} for kind, v in val.items()}
    record = {
        "thresholds": thresholds(stats),
        "validation": stats,
        "photos": {"folder": str(photos_dir or ""), "train": len(photos_train), "validation": len(held_out)},
        "bank": bank_size, "iterations": iters, "batch": batch, "seed": seed, "soft_share": soft_share,
        "soft_clean_share": soft_clean_share,
        "minutes": round((time.time() - start) / 60, 1), "threads": torch.get_num_threads(),
        "data": "CamVid train crops, some shrunk up to 2.8x first (clean: Pillow bicubic, 30% sharpened, 30% then JPEG 88-98; damaged: "
                + (f"soft prints {soft_share:.0%} (blur {SOFT_SIGMA[0] / 4:g}-{SOFT_SIGMA[1] / 4:g} LR px, fading, little grain), then "
                   if soft_share else "") + "Real-ESRGAN second-order 60%, old-photo 40%); validation: the 101 CamVid val frames",
    }
    log(json.dumps(record, indent=1))
    state = {k: v.detach().float().contiguous() for k, v in net.state_dict().items()}
    write_files_atomic([(out / "damage.safetensors", save(state)),
                        (out / "damage.json", (json.dumps(record, indent=1) + "\n").encode())], overwrite=True)
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--bank", type=int, default=4000)
    parser.add_argument("--iters", type=int, default=3000)
    parser.add_argument("--photos", default=None, help="a folder of sharp photos (Debian's wallpapers)")
    parser.add_argument("--soft-share", type=float, default=0.0,
                        help="share of the damaged examples that are soft prints (0 = the shipped recipe; docs/experts.md)")
    parser.add_argument("--soft-clean-share", type=float, default=0.0,
                        help="share of the clean examples that are soft photos shrunk cleanly (the soft prints then "
                             "always carry grain)")
    args = parser.parse_args(argv)
    train(args.data, args.out, args.bank, args.iters, photos_dir=args.photos, soft_share=args.soft_share,
          soft_clean_share=args.soft_clean_share)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
