import json
import shutil

import pytest
import torch

from segsr_gui.errors import WeightsError
from segsr_gui.engine.nets.weights import load_model, save_model, sha256_of


@pytest.fixture
def model_copy(tiny_model_file, tmp_path):
    for suffix in (".safetensors", ".json"):
        shutil.copy(tiny_model_file.with_suffix(suffix), tmp_path / f"m{suffix}")
    return tmp_path / "m.safetensors"


def test_round_trip_keeps_weights_and_manifest(model_copy, tiny_model):
    loaded = load_model(model_copy)
    manifest = loaded.manifest
    assert manifest["sha256"] == sha256_of(model_copy)
    assert manifest["classes"][0] == "sky" and len(manifest["palette"]) == 11
    assert manifest["scale"] == 4 and manifest["bridge"] is True
    for key, value in tiny_model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value)


def test_flipped_byte_is_refused_with_a_clear_message(model_copy):
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_copy.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="damaged or do not match"):
        load_model(model_copy)


def test_truncated_file_is_refused(model_copy):
    model_copy.write_bytes(model_copy.read_bytes()[:1000])
    with pytest.raises(WeightsError):
        load_model(model_copy)


def test_truncated_file_with_matching_hash_is_refused_as_unreadable(model_copy):
    model_copy.write_bytes(model_copy.read_bytes()[:1000])
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    manifest["sha256"] = sha256_of(model_copy)
    model_copy.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="cannot be read"):
        load_model(model_copy)


def test_missing_weights_and_missing_manifest(tmp_path, model_copy):
    with pytest.raises(WeightsError, match="not found"):
        load_model(tmp_path / "nothing.safetensors")
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(WeightsError, match="manifest not found"):
        load_model(model_copy)


def test_wrong_architecture_is_refused(model_copy):
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    manifest["config"]["sr_width"] = 16
    model_copy.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="do not fit"):
        load_model(model_copy)


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, tiny_model):
    save_model(tiny_model, tmp_path / "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json", "x.safetensors"]


def test_update_manifest_merges_fields_and_keeps_the_weights_valid(tmp_path):
    import pytest

    from segsr_gui.engine.nets.model import ModelConfig

    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.engine.nets.weights import load_model, save_model, update_manifest

    path = tmp_path / "m.safetensors"
    save_model(SegSRModel(ModelConfig(bridge=False, sr_width=8, sr_mult=(1, 1), sr_blocks=1)), path,
               training={"iterations": 10, "batch": 2})
    manifest = path.with_suffix(".json")
    mode = manifest.stat().st_mode & 0o777
    update_manifest(path, training={"run_iterations": 40}, steps=3)
    assert manifest.stat().st_mode & 0o777 == mode  # a shipped manifest stays readable by all
    loaded = load_model(path)  # the sha256 check still passes
    assert loaded.manifest["training"] == {"iterations": 10, "batch": 2, "run_iterations": 40}
    assert loaded.manifest["steps"] == 3
    with pytest.raises(ValueError):
        update_manifest(path, sha256="0" * 64)
    assert not list(tmp_path.glob("*.tmp"))
