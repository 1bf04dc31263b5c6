"""Does torch.compile pay for the app? Eager against compiled sampling, with the compile cost.

    python benchmarks/compile_check.py [--model segsr-x4] [--sizes 64 128] [--threads 0]

Compiles ``SegSRModel.forward`` with TorchInductor (which needs a C++ compiler at run time),
once per input shape (``dynamic=False``) and once for all shapes (``dynamic=True``), and
times the whole sampler chain per LR size against eager. Writes benchmarks/results/compile_check.md
and .json. Issue 8 asks to try torch.compile and keep it only if it pays: the first run's
compile time counts against it, as a user opening a photo of a new size pays it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

# A fresh compile cache: the first run then pays the whole compile, as on a user's machine
# (with a warm cache from an earlier run it took 2-4 s instead of about a minute).
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="segsr-inductor-"))

import numpy as np  # noqa: E402
import torch  # noqa: E402


from speed import test_image  # noqa: E402
from common import best_of, cpu_label, result_path, write_report
from segsr_gui.engine.inference.pipeline import upscale  # noqa: E402
from segsr_gui.engine.diffusion.precision import describe  # noqa: E402
from segsr_gui.engine.nets.weights import load_model  # noqa: E402



def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="segsr-x4")
    ap.add_argument("--sizes", nargs="+", type=int, default=[64, 128])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = all cores)")
    ap.add_argument("--out", default=result_path("compile_check"))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    loaded = load_model(args.model)
    model = loaded.model
    eager_forward = model.forward
    report = {"machine": f"{cpu_label()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
              "date": time.strftime("%Y-%m-%d"), "command": " ".join(["python"] + sys.argv),
              "model": loaded.name, "precision": describe(torch.device("cpu")), "sizes": {}}
    for size in args.sizes:
        rgb = test_image(size)
        model.forward = eager_forward
        reference = upscale(rgb, model, tile=0)
        row = {"eager_seconds": best_of(lambda: upscale(rgb, model, tile=0), args.repeats)}
        for dynamic in (False, True):
            torch._dynamo.reset()  # each mode compiles from scratch: its first run is what a user waits
            model.forward = torch.compile(eager_forward, dynamic=dynamic)
            key = "dynamic" if dynamic else "static"
            start = time.perf_counter()
            try:
                out = upscale(rgb, model, tile=0)
            except Exception as exc:  # noqa: BLE001 - a failed compile is a finding, not a crash
                row[key] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
                print(size, key, row[key], file=sys.stderr, flush=True)
                continue
            first = time.perf_counter() - start
            row[key] = {"first_run_seconds": first,
                        "seconds": best_of(lambda: upscale(rgb, model, tile=0), args.repeats),
                        "max_abs_diff_255": float(np.abs(out.image - reference.image).max() * 255)}
            row[key]["speedup"] = row["eager_seconds"] / row[key]["seconds"]
            # runs before the compile is paid back, at this size
            saved = row["eager_seconds"] - row[key]["seconds"]
            row[key]["break_even_runs"] = (first - row[key]["seconds"]) / saved if saved > 0 else None
            print(size, key, row[key], file=sys.stderr, flush=True)
        report["sizes"][size] = row
    model.forward = eager_forward
    write_report(args.out, report, render)
    return 0


def render(report: dict) -> str:
    lines = ["# torch.compile against eager", "",
             f"Measured {report['date']} on {report['machine']} ({report['precision']}), model "
             f"`{report['model']}`, with `{report['command']}`. Whole sampler chain, untiled; best of the "
             "repeats after the first (compiling) run.", "",
             "| LR size | eager (s) | mode | first run (s) | compiled (s) | speedup | runs to pay back "
             "the compile | max diff (/255) |",
             "|---|---|---|---|---|---|---|---|"]
    for size, row in report["sizes"].items():
        for key in ("static", "dynamic"):
            r = row[key]
            if "error" in r:
                lines.append(f"| {size}x{size} | {row['eager_seconds']:.3f} | {key} | failed: {r['error']} "
                             "| | | | |")
                continue
            pay = f"{r['break_even_runs']:.0f}" if r["break_even_runs"] is not None else "never"
            lines.append(f"| {size}x{size} | {row['eager_seconds']:.3f} | {key} | {r['first_run_seconds']:.1f} | "
                         f"{r['seconds']:.3f} | {r['speedup']:.2f}x | {pay} | {r['max_abs_diff_255']:.2f} |")
    lines += ["", "The app stays eager: each new photo size (static) or the first run (dynamic) waits for the "
              "compile, which needs a C++ compiler the frozen app does not ship."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
