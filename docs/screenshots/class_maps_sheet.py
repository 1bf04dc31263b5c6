"""docs/screenshots/class-maps-old-photos.jpg: the shipped model's class overlays on four real
photos (branches against the sky, a beach, and half-size copies of two old scans), side by side.

    python docs/screenshots/class_maps_sheet.py [--data ../shared/data] [--work /tmp/class-maps]
"""
import argparse
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = [("00003.png", 1), ("ADE_val_00000114.jpg", 1), ("old_b.png", 2), ("old_c.png", 2)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--work", default="/tmp/class-maps")
    args = ap.parse_args()
    work = Path(args.work)
    (work / "in").mkdir(parents=True, exist_ok=True)
    for name, shrink in PHOTOS:
        im = Image.open(Path(args.data) / "real_world" / name).convert("RGB")
        im.resize((im.width // shrink, im.height // shrink), Image.LANCZOS).save(work / "in" / f"{Path(name).stem}.png")
    subprocess.run([sys.executable, "-m", "segsr_gui.app.cli", "upscale", *sorted(map(str, (work / "in").iterdir())),
                    "-o", str(work / "out"), "--masks", "-q", "--overwrite"], check=True, cwd=ROOT)
    overlays = [Image.open(work / "out" / f"{Path(n).stem}_overlay.png").convert("RGB") for n, _ in PHOTOS]
    overlays = [o.resize((o.width * 400 // o.height, 400), Image.LANCZOS) for o in overlays]
    sheet = Image.new("RGB", (sum(o.width for o in overlays), 400))
    x = 0
    for o in overlays:
        sheet.paste(o, (x, 0))
        x += o.width
    sheet = sheet.resize((1400, 400 * 1400 // sheet.width), Image.LANCZOS)
    sheet.save(ROOT / "docs" / "screenshots" / "class-maps-old-photos.jpg", quality=85)
    return 0


if __name__ == "__main__":
    sys.exit(main())
