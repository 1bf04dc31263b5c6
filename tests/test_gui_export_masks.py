"""#36 walkthrough 2: "Export class masks too" in the window and "Class masks" in the batch write
the files the command line writes with --masks --class-masks, the person's mask among them."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from _gui import TIMEOUT, env, make_window, open_photo, run_to_end  # noqa: F401 - env is a fixture

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def person_model(tmp_path_factory):
    """A tiny model whose class logits favour class 9 (person), so the person mask is written."""
    from _tiny_bias import save_biased_model

    return save_biased_model(tmp_path_factory.mktemp("person"), "person", {9: 3.0})


def _cli_files(photo, model, out, steps: int) -> list[str]:
    from segsr_gui.app.cli import main

    assert main(["upscale", str(photo), "-o", str(out), "--model", str(model), "--steps", str(steps), "-q",
                 "--seed", "7", "--masks", "--class-masks"]) == 0
    return sorted(p.name for p in out.iterdir())


def test_window_export_writes_the_person_mask_as_the_cli_does(qtbot, env, person_model, photo):
    window = make_window(qtbot, person_model, seed=7)
    assert window.actions_["export_masks"].isChecked()
    open_photo(qtbot, window, photo)
    assert run_to_end(qtbot, window) == "done"
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT) as saved:
        assert window.export_to(env / "out", "photo")
    names = sorted(p.name for p in saved.args[0])
    assert "photo_mask_09_person.png" in names
    assert names == _cli_files(photo, person_model, env / "cli", 3)
    person = np.asarray(Image.open(env / "out" / "photo_mask_09_person.png"))
    assert np.array_equal(person > 0, window.runs[0].result.class_map == 9)


def test_batch_class_masks_write_the_person_mask(qtbot, env, person_model, photo):
    from segsr_gui.app.batch import RunParams
    from segsr_gui.ui.batch_panel import BatchPanel
    from segsr_gui.ui.worker import JobRunner

    panel = BatchPanel(JobRunner(), lambda: (person_model, RunParams(steps=1, seed=7, device="cpu")))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.photosAdded, timeout=TIMEOUT):
        panel.add_paths([str(photo)])
    panel.set_output_folder(env / "out")
    panel.masks_box.setChecked(True)
    with qtbot.waitSignal(panel.batchFinished, timeout=TIMEOUT):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.jobs.busy)
    names = sorted(p.name for p in (env / "out").iterdir())
    assert "photo_mask_09_person.png" in names
    assert names == _cli_files(photo, person_model, env / "cli", 1)
