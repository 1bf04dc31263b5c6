"""Training the repair nets (``engine/repair``): detector and fill jointly, on the same batches.

Each batch is ``--batch`` crops of ``--crop`` px from CamVid train frames (70 %) and the
sharper wallpaper photos of ``training/wallpapers.py`` (``--photos``, 30 %), shrunk at random
to the scale of an old print and painted with the synthetic damage of ``training/scratches.py``
(its mask is the truth). Detector loss: BCE plus a soft-dice term (damage is a few percent of
the pixels and mostly 1-3 px wide). Fill loss: L1 against the undamaged print where the output
takes the fill (the true mask grown by 3 px), plus 0.05x elsewhere. The fill's state ``x_t`` is drawn
from ResShift's marginal, with the noise on for half the samples and off for the rest (the
deterministic sampler sees noise-free states), and for 30 % of the batches one step of the
sampler is run first with the net's own estimate (its states at inference).

Runs for ``--minutes`` of wall clock, resumable: every few minutes the weights, Adam's moments
and the counters go to ``OUT/state.safetensors`` + ``OUT/state.json``. At the end the model is
validated on CamVid val (never test; ``repair_validate.py``): the detection threshold and the
sampler's noise are picked there, and ``OUT/repair.safetensors`` + ``OUT/repair.json`` are
written.

    python -m segsr_gui.training.repair_train --data ../shared/data --photos runs/wallpapers \
        --out runs/repair --minutes 75
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from segsr_gui.engine.diffusion.precision import autocast, describe
from segsr_gui.engine.diffusion.schedule import marginal, posterior_step
from segsr_gui.engine.repair.fill import CORE, FEATHER, cheap_fill, grow
from segsr_gui.engine.repair.repair import RepairConfig, RepairModel
from segsr_gui.training.data import load_camvid
from segsr_gui.training.damage import load_photos
from segsr_gui.training.degrade import resize
from segsr_gui.training.scratches import damage_example

SAVE_EVERY_S = 300


class Source:
    """Clean crops (H, W, 3) float32 in [0, 1] at a print's scale, with flips."""

    def __init__(self, frames: list[np.ndarray], photos: list[np.ndarray], crop: int, recipe: dict | None = None):
        self.frames, self.photos, self.crop = frames, photos, crop
        self.recipe = recipe or {}  # keyword arguments of ``damage_example``

    def crop_from(self, rng: np.random.Generator) -> np.ndarray:
        use_photo = self.photos and rng.random() < 0.3
        pool = self.photos if use_photo else self.frames
        img = pool[int(rng.integers(len(pool)))]
        h, w = img.shape[:2]
        most = 4.0 if use_photo else 1.6  # CamVid is soft already; the photos are sharp
        side = int(min(h, w, self.crop * np.exp(rng.uniform(0, np.log(most)))))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        a = img[top:top + side, left:left + side].astype(np.float32) / 255
        a = a if side == self.crop else resize(a, self.crop, self.crop, "area")
        return a[:, ::-1].copy() if rng.random() < 0.5 else a

    def batch(self, rng: np.random.Generator, size: int):
        """(damaged, clean) (B, 3, H, W) in [0, 1] and the mask (B, 1, H, W) float {0, 1}."""
        d, c, m = zip(*(damage_example(self.crop_from(rng), rng, **self.recipe) for _ in range(size)))
        t = lambda xs: torch.from_numpy(np.stack(xs).transpose(0, 3, 1, 2).copy())
        return t(d), t(c), torch.from_numpy(np.stack(m)[:, None].astype(np.float32))


def dice_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits)
    return 1 - (2 * (p * mask).sum() + 1) / (p.sum() + mask.sum() + 1)


def fill_state(model: RepairModel, clean, y, region, noise_region, rng: torch.Generator):
    """x_t and eta (B,) for a batch: ResShift's marginal, noise on for half the samples;
    in 30 % of batches one no-grad sampler step from t+1 with the net's own estimate."""
    sched = model.config.schedule()
    b = clean.shape[0]
    kappa = model.config.kappa
    etas = sched.etas.float()
    on = (torch.rand(b, generator=rng) < 0.5).float().view(b, 1, 1, 1)
    noise = lambda: torch.randn(clean.shape, generator=rng) * noise_region * on
    own = sched.steps > 1 and torch.rand(1, generator=rng).item() < 0.3
    if not own:
        t = torch.randint(1, sched.steps + 1, (b,), generator=rng)
        eta = etas[t - 1]
        return marginal(clean, y, eta.view(b, 1, 1, 1), kappa, noise()), eta
    t = torch.randint(1, sched.steps, (b,), generator=rng)  # the state at t, made from t+1
    eta_up, eta = etas[t], etas[t - 1]
    x_up = marginal(clean, y, eta_up.view(b, 1, 1, 1), kappa, noise())
    with torch.no_grad(), autocast(torch.device("cpu")):
        x0 = model.fill(x_up, y, y, region, eta_up).clamp(-1, 1)  # the net reads y, as in ``fill.iter_fill``
    x = posterior_step(x_up, x0, eta_up.view(b, 1, 1, 1), eta.view(b, 1, 1, 1), kappa, noise())
    return x, eta


def fill_loss(model, damaged, clean, mask, rng: torch.Generator) -> torch.Tensor:
    """The fill's L1 on a batch, weighted to its support (the mask grown by the blend), at a
    sampler state from ``fill_state``; ``model`` needs ``config`` and ``fill``."""
    target = clean * 2 - 1
    region, noise_region = mask, grow(mask, CORE + FEATHER)
    y = cheap_fill(damaged, region) * 2 - 1  # also the photo the net reads, as in ``fill.iter_fill``
    x_t, eta = fill_state(model, target, y, region, noise_region, rng)
    with autocast(torch.device("cpu")):
        x0 = model.fill(x_t, y, y, region, eta)
    weight = noise_region + 0.05 * (1 - noise_region)
    return ((x0 - target).abs() * weight).sum() / (3 * weight.sum())


def train_step(model, opt, damaged, clean, mask, rng: torch.Generator) -> dict:
    l1 = fill_loss(model, damaged, clean, mask, rng)
    with autocast(torch.device("cpu")):
        logits = model.detector(damaged)
    bce = F.binary_cross_entropy_with_logits(logits, mask)
    dice = dice_loss(logits, mask)
    loss = bce + dice + l1
    opt.zero_grad(set_to_none=True)
    loss.backward()
    for net in (model.detector, model.fill):  # apart: the detector's gradients would dwarf the fill's
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    return {"bce": bce.item(), "dice": dice.item(), "l1": l1.item()}


def _lr(base: float, iteration: int, progress: float) -> float:
    warm = min(1.0, (iteration + 1) / 100)
    return base * warm * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(1.0, progress))))


def save_state(out: Path, model, opt, info: dict) -> None:
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    for i, p in enumerate(model.parameters()):
        st = opt.state.get(p, {})
        for key in ("exp_avg", "exp_avg_sq", "step"):
            if key in st:
                tensors[f"opt.{i}.{key}"] = torch.as_tensor(st[key]).detach().float().contiguous()
    save_file(tensors, str(out / "state.safetensors.tmp"))
    (out / "state.safetensors.tmp").replace(out / "state.safetensors")
    (out / "state.json").write_text(json.dumps(info, indent=1))


def load_state(out: Path, model, opt) -> dict:
    tensors = load_file(str(out / "state.safetensors"))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    for i, p in enumerate(model.parameters()):
        if f"opt.{i}.exp_avg" in tensors:
            opt.state[p] = {"exp_avg": tensors[f"opt.{i}.exp_avg"], "exp_avg_sq": tensors[f"opt.{i}.exp_avg_sq"],
                            "step": tensors[f"opt.{i}.step"].reshape(())}
    return json.loads((out / "state.json").read_text())


def train(args) -> Path:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frames = load_camvid(args.data, "train").images
    photos = load_photos(args.photos, long_side=1000) if args.photos and Path(args.photos).is_dir() else []
    recipe = {"clean_share": args.clean_share, "jpeg_lowest": args.jpeg_lowest, "sharpen_share": args.sharpen_share,
              "even_share": args.even_share}
    source = Source(frames, photos, args.crop, recipe)
    model = RepairModel(RepairConfig())
    if args.init:  # fine-tune: a shipped model's repair nets, a fresh optimiser
        from segsr_gui.engine.nets.weights import load_model

        model.load_state_dict(load_model(args.init).model.repair.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    info = {"iteration": 0, "seconds": 0.0, "log": []}
    if (out / "state.json").exists() and not args.fresh:
        info = load_state(out, model, opt)
        print(f"resumed at iteration {info['iteration']} ({info['seconds'] / 60:.1f} min)", flush=True)
    budget = args.minutes * 60
    start, last_save = time.time() - info["seconds"], time.time()
    gen = torch.Generator().manual_seed(args.seed + info["iteration"])
    running: dict[str, float] = {}
    model.train()
    while time.time() - start < budget:
        it = info["iteration"]
        rng = np.random.default_rng([args.seed, it])  # the batch depends on the iteration only
        for g in opt.param_groups:
            g["lr"] = _lr(args.lr, it, (time.time() - start) / budget)
        losses = train_step(model, opt, *source.batch(rng, args.batch), gen)
        running = {k: 0.98 * running.get(k, v) + 0.02 * v for k, v in losses.items()}
        info["iteration"] = it + 1
        if (it + 1) % args.log_every == 0:
            entry = {"iteration": it + 1, "minutes": round((time.time() - start) / 60, 2),
                     **{k: round(v, 4) for k, v in running.items()}}
            info["log"].append(entry)
            print(json.dumps(entry), flush=True)
        if time.time() - last_save > SAVE_EVERY_S:
            info["seconds"] = time.time() - start
            save_state(out, model, opt, info)
            last_save = time.time()
    info["seconds"] = time.time() - start
    save_state(out, model, opt, info)
    from segsr_gui.training.repair_validate import finish

    return finish(model, info, args, photos_used=len(photos), frames_used=len(frames),
                  precision=describe(torch.device("cpu")))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--photos", default="runs/wallpapers", help="folder of sharp photos (optional)")
    p.add_argument("--out", default="runs/repair")
    p.add_argument("--minutes", type=float, default=75.0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--crop", type=int, default=96)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clean-share", type=float, default=0.15, help="share of crops without damage")
    p.add_argument("--jpeg-lowest", type=int, default=70, help="lowest JPEG quality of the scans")
    p.add_argument("--sharpen-share", type=float, default=0.0, help="share of scans unsharp-masked")
    p.add_argument("--even-share", type=float, default=0.0, help="share of scratches with one opacity")
    p.add_argument("--init", help="start from this model's repair nets (a name or a .safetensors path)")
    p.add_argument("--threads", type=int, default=1,
                   help="1 is 5x faster than 2 on this 2-core machine while others run (OpenMP waits)")
    p.add_argument("--val-count", type=int, default=24, help="CamVid val frames for the final validation")
    p.add_argument("--fresh", action="store_true", help="ignore a saved state in --out")
    p.add_argument("--log-every", type=int, default=50)
    args = p.parse_args(argv)
    print(train(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
