"""Sharp photos for training the damage estimator: Debian's wallpaper packages.

CamVid's stills are soft video frames; the damage estimator also needs to see sharp, clean
photos, or it reads fine texture as damage. Debian ships high-resolution photographs and
renders (1,280 to 5,640 px wide) in three wallpaper packages; their ``copyright`` files name
the licences (GPL-2+, CC-BY-SA-3.0), which allow this use. The images train a model and are
never redistributed; ``fetch_wallpapers`` downloads the pinned packages with ``apt-get
download``, checks their sha256, and copies the largest version of each wallpaper (no
previews) and the copyright files into ``OUT``.

    python -m segsr_gui.training.wallpapers runs/wallpapers
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGES = {
    "mate-backgrounds=1.26.0-1": "7bf4c2209f34b4f61ba6d24c8b58c28b361e82e4b943aae6d42c030169af9e04",
    "plasma-workspace-wallpapers=4:5.27.5-2": "32cd18b71c8c938a18b3b351f217c02ac590e323caa3cf322fbb875ce8892f8b",
    "ukui-wallpapers=20.04.3-1.1": "6d49be70152e6d603163458e177e501deb0be8f2916389ccbfcf59b0d7fc0262",
}


def _largest_per_wallpaper(root: Path) -> list[Path]:
    from PIL import Image

    best: dict[Path, tuple[int, Path]] = {}
    for path in root.rglob("*"):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg") or "screenshot" in path.name:
            continue
        # KDE keeps one wallpaper in several sizes under NAME/contents/images*/
        key = path.parents[2] if path.parent.name.startswith("images") else path
        with Image.open(path) as im:
            pixels = im.width * im.height
        if pixels > best.get(key, (0, path))[0]:
            best[key] = (pixels, path)
    return sorted(p for _, p in best.values())


def fetch_wallpapers(out) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=tmp, check=True, capture_output=True)
        for deb in sorted(Path(tmp).glob("*.deb")):
            digest = hashlib.sha256(deb.read_bytes()).hexdigest()
            if digest not in PACKAGES.values():
                raise SystemExit(f"sha256 mismatch for {deb.name}: {digest}")
            subprocess.run(["dpkg", "-x", str(deb), str(Path(tmp) / "x")], check=True)
        root = Path(tmp) / "x" / "usr" / "share"
        written = []
        for path in _largest_per_wallpaper(root):
            target = out / "_".join(path.relative_to(root).parts)
            shutil.copyfile(path, target)
            written.append(target)
        for copyright_file in (root / "doc").glob("*/copyright"):
            shutil.copyfile(copyright_file, out / f"COPYRIGHT-{copyright_file.parent.name}")
    return written


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="runs/wallpapers", help="folder to write (default: runs/wallpapers)")
    args = ap.parse_args(argv)
    print(len(fetch_wallpapers(args.out)), "images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
