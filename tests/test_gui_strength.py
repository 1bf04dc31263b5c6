"""The Restore panel's restoration strength in the real window: Auto says what it picked, the
slider overrides it, the choice persists and reaches the run."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from conftest import make_tiny_model
from test_gui_window import env, make_window, open_photo, run_to_end  # noqa: F401 - env is a fixture

pytestmark = pytest.mark.gui


@pytest.fixture
def two_expert_model(tmp_path, monkeypatch):
    """A tiny two-expert model whose tiny clean expert sits in a pretrained folder of its own."""
    from segsr_gui.engine.nets.rrdbnet import RRDBNet
    from segsr_gui.engine.nets.weights import save_model, sha256_of

    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    torch.manual_seed(3)
    expert = pretrained / "realesrgan_x4plus.safetensors"
    save_file({k: v.contiguous() for k, v in RRDBNet(channels=8, blocks=1, growth=4).state_dict().items()}, expert)
    monkeypatch.setenv("SEGSR_PRETRAINED", str(pretrained))
    model = make_tiny_model(experts={"clean": "x4plus", "auto_strength": (0.0, 1.0)})
    save_model(model, tmp_path / "two", clean_expert={
        "file": expert.name, "safetensors_sha256": sha256_of(expert),
        "config": {"channels": 8, "blocks": 1, "growth": 4, "scale": 4}})
    return tmp_path / "two.safetensors"


def test_auto_shows_what_it_picked_and_the_slider_overrides_it(qtbot, env, two_expert_model, photo):
    from segsr_gui.ui import settings as settings_mod

    window = make_window(qtbot, two_expert_model)
    control = window.run_panel.strength
    assert control.isEnabled() and control.value() is None and control.text() == "Auto"
    open_photo(qtbot, window, photo)
    assert run_to_end(qtbot, window) == "done"
    assert control.text().startswith("Auto (") and control.text().endswith(" %)")
    assert control.slider.value() == int(control.text()[6:-3])  # the slider stands where Auto put it
    control.slider.setValue(40)  # dragging the slider is choosing
    assert control.value() == pytest.approx(0.4) and control.text() == "40 %"
    window.run_panel.store(window.settings.run)
    assert settings_mod.run_params(window.settings.run).strength == pytest.approx(0.4)
    settings_mod.save(window.settings)
    saved = json.loads(settings_mod.settings_path().read_text())["run"]
    assert saved["strength_auto"] is False and saved["strength"] == pytest.approx(0.4)
    control.auto.setChecked(True)
    window.run_panel.store(window.settings.run)
    assert settings_mod.run_params(window.settings.run).strength is None


def test_a_model_with_one_expert_greys_the_strength_out(qtbot, env, tiny_model_file):
    window = make_window(qtbot, tiny_model_file)
    assert not window.run_panel.strength.isEnabled()
