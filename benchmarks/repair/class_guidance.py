"""What class information can buy the fill: the shipped fill fine-tuned with and without
CamVid's true classes, equal budget, scored on CamVid val damage with the true mask.

Issue 37 asks for the bridge's worth: the same fill with and without the class probabilities.
This measures its ceiling. The classes given here are the annotations themselves (an oracle,
better than any class map SegDM could predict at the photo's size). Both variants start from
the shipped fill, see the same batches in the same order for the same number of iterations
(CamVid train crops with the repair recipe painted on, ``training/scratches.py``), and differ
only in 12 more input channels (the 11 classes and "unlabelled", one-hot at the photo's size,
their first-layer weights starting at zero). If even the true classes do not lift the fill,
a predicted class map cannot, and the fill keeps reading none.

    python -m benchmarks.repair.class_guidance --data ../shared/data --iters 1500

Writes benchmarks/repair/results/class_guidance.{json,md}.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import torch
from torch import nn

from benchmarks.common import header, header_line, write_report
from segsr_gui.classes import IGNORE_ID
from segsr_gui.engine.diffusion.schedule import scale_state
from segsr_gui.engine.repair.fill import iter_fill
from segsr_gui.engine.repair.unet import pad_to_stride
from segsr_gui.training.data import load_camvid
from segsr_gui.training.repair_eval import psnr_y_inside, to_numpy, to_tensor
from segsr_gui.training.repair_train import fill_loss
from segsr_gui.training.repair_validate import VAL_SEED, telea
from segsr_gui.training.scratches import damage_example

CLASSES = IGNORE_ID + 1  # one-hot channels: the 11 classes and "unlabelled"
OUT = Path(__file__).resolve().parent / "results" / "class_guidance"


def one_hot(labels: np.ndarray) -> torch.Tensor:
    """(1, CLASSES, H, W) float of a uint8 label map."""
    ids = torch.from_numpy(np.minimum(labels, IGNORE_ID).astype(np.int64))
    return torch.nn.functional.one_hot(ids, CLASSES).permute(2, 0, 1)[None].float()


class Variant(nn.Module):
    """The shipped fill's net, reading the class one-hot too when ``guided``. Called like
    ``FillNet`` (``fill_state`` and ``iter_fill`` drive it); the classes of the images in
    hand are set on ``classes`` first."""

    def __init__(self, shipped, guided: bool):
        super().__init__()
        self.kappa, self.guided = shipped.kappa, guided
        self.net = copy.deepcopy(shipped.net)
        if guided:
            old = self.net.inp
            self.net.inp = nn.Conv2d(old.in_channels + CLASSES, old.out_channels, 3, padding=1)
            with torch.no_grad():
                self.net.inp.weight.zero_()
                self.net.inp.weight[:, :old.in_channels] = old.weight
                self.net.inp.bias.copy_(old.bias)
        self.classes: torch.Tensor | None = None

    def forward(self, x_t, y, photo, region, eta):
        level = eta.view(-1, 1, 1, 1).expand(-1, 1, *y.shape[-2:]).to(y.dtype)
        parts = [scale_state(x_t, eta, self.kappa), y, photo, region.to(y.dtype), level]
        if self.guided:
            parts.append(self.classes.to(y.dtype))
        inp, h, w = pad_to_stride(torch.cat(parts, 1))
        return y + self.net(inp)[..., :h, :w].float()


def crops(frames, labels, rng: np.random.Generator, size: int, batch: int):
    """(damaged, clean, mask, one-hot classes) of ``batch`` CamVid train crops."""
    d, c, m, k = [], [], [], []
    for _ in range(batch):
        i = int(rng.integers(len(frames)))
        h, w = frames[i].shape[:2]
        side = int(min(h, w, size * np.exp(rng.uniform(0, np.log(1.6)))))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        img = cv2.resize(frames[i][top:top + side, left:left + side], (size, size), interpolation=cv2.INTER_AREA)
        lab = cv2.resize(labels[i][top:top + side, left:left + side], (size, size), interpolation=cv2.INTER_NEAREST)
        if rng.random() < 0.5:
            img, lab = img[:, ::-1], lab[:, ::-1]
        damaged, clean, mask = damage_example(img.astype(np.float32) / 255, rng)
        d.append(damaged), c.append(clean), m.append(mask), k.append(one_hot(lab)[0])
    t = lambda xs: torch.from_numpy(np.stack(xs).transpose(0, 3, 1, 2).copy())  # noqa: E731
    return t(d), t(c), torch.from_numpy(np.stack(m)[:, None].astype(np.float32)), torch.stack(k)


def fine_tune(variant: Variant, config, frames, labels, iters: int, batch: int, size: int, lr: float, seed: int):
    """Fill-only training with ``repair_train.fill_loss``, the loss the repair's training gives
    the fill; batches depend on the iteration only."""
    opt = torch.optim.AdamW(variant.parameters(), lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    shim = SimpleNamespace(config=config, fill=variant)
    variant.train()
    log = []
    for it in range(iters):
        for g in opt.param_groups:
            g["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * it / iters)))
        damaged, clean, mask, variant.classes = crops(frames, labels, np.random.default_rng([seed, it]), size, batch)
        l1 = fill_loss(shim, damaged, clean, mask, gen)
        opt.zero_grad(set_to_none=True)
        l1.backward()
        torch.nn.utils.clip_grad_norm_(variant.parameters(), 1.0)
        opt.step()
        if (it + 1) % 100 == 0:
            log.append({"iteration": it + 1, "l1": round(l1.item(), 4)})
            print(variant.guided, log[-1], file=sys.stderr, flush=True)
    variant.eval()
    return log


@torch.inference_mode()
def fill_with(variant: Variant, damaged: np.ndarray, mask: np.ndarray, classes: torch.Tensor, schedule) -> np.ndarray:
    variant.classes = classes
    last = None
    for last in iter_fill(variant, to_tensor(damaged), torch.from_numpy(mask)[None, None], schedule):
        pass
    return to_numpy(last.image)


def main(argv=None) -> int:
    from segsr_gui.engine.nets.weights import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--val-count", type=int, default=24)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    repair = load_model(args.model).model.repair
    train = load_camvid(args.data, "train")
    val = load_camvid(args.data, "val")
    idx = np.linspace(0, len(val.images) - 1, min(args.val_count, len(val.images))).round().astype(int)
    schedule = repair.config.schedule()
    variants, logs, minutes = {}, {}, {}
    for guided in (False, True):
        torch.manual_seed(0)
        v = Variant(repair.fill, guided)
        start = time.time()
        logs[guided] = fine_tune(v, repair.config, train.images, train.labels, args.iters, args.batch, args.crop,
                                 args.lr, seed=0)
        minutes[guided] = round((time.time() - start) / 60, 1)
        variants[guided] = v
    shipped = Variant(repair.fill, False).eval()
    rows = []
    for n, i in enumerate(idx):
        damaged, clean, mask = damage_example(val.images[i].astype(np.float32) / 255,
                                              np.random.default_rng(VAL_SEED + n), clean_share=0.0)
        classes = one_hot(val.labels[i])
        row = {"frame": val.names[i], "damaged": float(mask.mean()),
               "telea": psnr_y_inside(telea(damaged, mask), clean, mask),
               "shipped": psnr_y_inside(fill_with(shipped, damaged, mask, classes, schedule), clean, mask),
               "plain": psnr_y_inside(fill_with(variants[False], damaged, mask, classes, schedule), clean, mask),
               "classes": psnr_y_inside(fill_with(variants[True], damaged, mask, classes, schedule), clean, mask)}
        rows.append(row)
        print(row, file=sys.stderr, flush=True)
    gain = np.array([r["classes"] - r["plain"] for r in rows])
    report = {**header(sys.argv), "model": args.model, "iters": args.iters, "batch": args.batch, "crop": args.crop,
              "lr": args.lr, "minutes": {"plain": minutes[False], "classes": minutes[True]},
              "means": {k: float(np.mean([r[k] for r in rows])) for k in ("telea", "shipped", "plain", "classes")},
              "gain": {"mean": float(gain.mean()), "stderr": float(gain.std(ddof=1) / np.sqrt(len(gain))),
                       "frames_better": int((gain > 0).sum()), "frames": len(gain)},
              "frames": rows, "loss_log": {"plain": logs[False][-3:], "classes": logs[True][-3:]}}
    write_report(args.out, report, render)
    return 0


def render(r: dict) -> str:
    m, g = r["means"], r["gain"]
    return "\n".join([
        "# What the true classes buy the fill", "", header_line(r), "",
        f"Both variants start from the shipped fill of {r['model']} and train {r['iters']} iterations "
        f"(batch {r['batch']}, {r['crop']} px CamVid train crops, the repair recipe, lr {r['lr']:g} cosine; "
        f"{r['minutes']['plain']} and {r['minutes']['classes']} min). Scored on {g['frames']} CamVid val frames "
        f"(seeds {VAL_SEED}+i) with the true damage mask: PSNR-Y (dB) inside the damage against the undamaged print.", "",
        "| fill | PSNR-Y inside the damage |", "|---|---|",
        f"| OpenCV Telea | {m['telea']:.2f} |",
        f"| shipped fill (the start) | {m['shipped']:.2f} |",
        f"| fine-tuned, no classes | {m['plain']:.2f} |",
        f"| fine-tuned, true classes | {m['classes']:.2f} |", "",
        f"The true classes: {g['mean']:+.3f} dB (standard error {g['stderr']:.3f}), better on "
        f"{g['frames_better']} of {g['frames']} frames.", ""])


if __name__ == "__main__":
    sys.exit(main())
