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
    assert manifest["scale"] == 4 and manifest["manifest_version"] == 3 and manifest["config"]["classes"]
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
    manifest["config"]["classes"]["width"] = 16
    model_copy.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="do not fit"):
        load_model(model_copy)


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, tiny_model):
    save_model(tiny_model, tmp_path / "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json", "x.safetensors"]


def test_update_manifest_merges_fields_and_keeps_the_weights_valid(tmp_path):
    import pytest

    from conftest import make_tiny_model
    from segsr_gui.engine.nets.weights import load_model, save_model, update_manifest

    path = tmp_path / "m.safetensors"
    save_model(make_tiny_model(bridge=False), path,
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


# --------------------------------------------------------------- manifest version 1

def _as_version_1(model_copy, **config_changes):
    """The tiny model written as the flat version 1 layout, weights under their old names."""
    from safetensors.torch import load_file, save_file

    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    c = manifest["config"]
    e, k = c["experts"], c["classes"]
    manifest["manifest_version"] = 1
    manifest["bridge"] = True
    manifest["config"] = {
        "scale": 4, "num_classes": k["num_classes"], "bridge": True, "seg_width": k["width"], "seg_mult": k["mult"],
        "seg_blocks": k["blocks"], "bridge_channels": k["image_channels"], "seg_pool": k["pool"],
        "seg_encoder": "", "seg_encoder_channels": 64, "sft_hidden": False, "kappa_seg": k["kappa"],
        "schedule": c["schedule"], "noise_scale": c["noise_scale"], "colour_sigma": 0.0, "class_bias": [0.0] * 11,
        "restorer": "span", "restorer_channels": e["faithful_channels"], "restorer_blocks": e["faithful_blocks"],
        "clean_expert": e["clean"], "damage_estimator": False, "auto_strength": [0.0, 1.0],
        "lattice_sigma": e["lattice_sigma"], "tone_sigma": e["tone_sigma"], "refine_image": False,
        "person_prior": "", **config_changes}
    old = {}
    for key, tensor in load_file(str(model_copy)).items():
        key = key.replace("experts.faithful.", "restorer.").replace("classes.segdm.", "segdm.")
        old[key.replace("classes.bridge.", "bridge.")] = tensor
    old["bridge.seg_to_image.0.weight"] = torch.zeros(8, 11, 3, 3)  # the SRDM direction, no longer read
    save_file(old, str(model_copy))
    manifest["sha256"] = sha256_of(model_copy)
    model_copy.with_suffix(".json").write_text(json.dumps(manifest))


def test_a_version_1_model_loads_through_the_conversion_and_runs_the_same(model_copy, tiny_model, photo):
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.io.read import load_image

    _as_version_1(model_copy)
    loaded = load_model(model_copy)
    assert loaded.manifest["manifest_version"] == 3 and loaded.model.config == tiny_model.config
    rgb = load_image(photo).rgb
    ours, theirs = (upscale(rgb, m, steps=2, seed=3, tile=0) for m in (tiny_model, loaded.model))
    assert (ours.image == theirs.image).all() and (ours.class_map == theirs.class_map).all()


@pytest.mark.parametrize("change, why", [({"refine_image": True}, "SRDM"), ({"restorer": ""}, "bicubic"),
                                         ({"class_bias": [0.5] + [0.0] * 10}, "class biases")])
def test_a_version_1_model_with_a_part_no_stage_has_is_refused_in_one_sentence(model_copy, change, why):
    _as_version_1(model_copy, **change)
    with pytest.raises(WeightsError, match=why) as caught:
        load_model(model_copy)
    assert "\n" not in str(caught.value) and "shipped models" in str(caught.value)


def test_a_manifest_from_a_newer_version_is_refused(model_copy):
    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    manifest["manifest_version"] = 4
    model_copy.with_suffix(".json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="newer"):
        load_model(model_copy)


def test_a_version_2_model_gated_by_the_scene_distance_loads_without_its_prior_and_says_why(model_copy, tiny_model, photo):
    from safetensors.torch import load_file, save_file

    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.io.read import load_image

    manifest = json.loads(model_copy.with_suffix(".json").read_text())
    manifest["manifest_version"] = 2
    manifest["config"]["classes"].update(person={"class_id": 9, "window": 256, "gate": [3.09, 3.64]}, background=True)
    manifest["classes"] = manifest["classes"] + ["background"]
    manifest["palette"] = manifest["palette"] + [[0, 0, 0]]
    state = load_file(str(model_copy))
    state.update({"classes.scene.mean": torch.zeros(896), "classes.scene.basis": torch.zeros(16, 896),
                  "classes.scene.variance": torch.ones(16), "classes.scene.residual_variance": torch.ones(())})
    save_file(state, str(model_copy))
    manifest["sha256"] = sha256_of(model_copy)
    model_copy.with_suffix(".json").write_text(json.dumps(manifest))
    loaded = load_model(model_copy)
    assert loaded.model.config == tiny_model.config and len(loaded.classes) == 11
    assert "add-person-prior" in loaded.missing_prior and "\n" not in loaded.missing_prior
    rgb = load_image(photo).rgb
    ours, theirs = (upscale(rgb, m, steps=1, seed=3, tile=0) for m in (tiny_model, loaded.model))
    assert (ours.class_map == theirs.class_map).all()
