"""Tests for benchmarks/common.py and quality/quality_render.py: photo loading and the report's table."""
import numpy as np
from PIL import Image

from _bench import load

common = load("common")


def test_load_rgb8_drops_alpha_and_scales_16_bit(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    a = common.load_rgb8(tmp_path / "a.png")
    assert a.shape == (4, 5, 3) and a.dtype == np.uint8 and (a[..., 0] == 200).all()
    Image.fromarray(np.full((3, 3), 65535, np.uint16)).save(tmp_path / "g16.png")
    g = common.load_rgb8(tmp_path / "g16.png")
    assert g.shape == (3, 3, 3) and (g == 255).all()
    Image.fromarray(np.full((3, 3), 77, np.uint8), "L").save(tmp_path / "g.png")
    assert (common.load_rgb8(tmp_path / "g.png") == 77).all()


def test_seed_is_fixed_per_image():
    assert common.seed_for("Set5", "baby") == common.seed_for("Set5", "baby")
    assert common.seed_for("Set5", "baby") != common.seed_for("Set14", "baby")


def test_quality_table_marks_cells_not_run():
    render = load("quality_render").render_markdown
    cell = {"psnr": 30.0, "ssim": 0.9, "images": 5}
    report = {"date": "d", "machine": "m", "threads": 2, "torch": "t", "python": "p", "command": "c",
              "precision": "fp32", "data": {}, "max_images": 0,
              "rows": {"bicubic": "Bicubic", "realesrgan": "Real-ESRGAN"},
              "results": {"Set5": {k: {"bicubic": cell, "realesrgan": cell} for k in ("bicubic", "realworld")},
                          "BSD68": {k: {"bicubic": cell} for k in ("bicubic", "realworld")}},
              "seconds": {"bicubic": 0.0, "realesrgan": 1.0}}
    text = render(report)
    assert "| Real-ESRGAN | 30.00 / 0.9000 | – |" in text


def test_segmentation_table_shows_the_class_map_of_every_step():
    render = load("quality_render").segmentation_tables
    entry = {"miou": 0.45, "iou": [0.5] * 11, "miou_by_sequence": {"Seq05VD": 0.45},
             "miou_by_step": [0.40, 0.44, 0.45, 0.447]}
    report = {"rows": {"segsr-x4": "SegSR"},
              "segmentation": {"images": 3, "classes": [f"c{i}" for i in range(11)], "sequences": {"Seq05VD": 3},
                               "models": {"segsr-x4": {"realworld": entry}}}}
    text = "\n".join(render(report))
    assert "| SegSR | realworld | 40.0% | 44.0% | 45.0% | 44.7% |" in text
    del entry["miou_by_step"]
    assert "By sampler step" not in "\n".join(render(report))


def test_report_command_names_the_module_and_reads_back_either_form(monkeypatch):
    """A report says how to run it again (``python -m benchmarks.…``); the model card reads the
    script from it, and from the older reports written as ``python benchmarks/NAME.py``."""
    import sys
    import types

    main = types.ModuleType("__main__")
    main.__spec__ = types.SimpleNamespace(name="benchmarks.quality.quality")
    monkeypatch.setitem(sys.modules, "__main__", main)
    command = common.command_line(["/x/benchmarks/quality/quality.py", "--max-images", "3"])
    assert command == "python -m benchmarks.quality.quality --max-images 3"
    assert common.script_name(command) == "quality.py"
    assert common.script_name("python benchmarks/quality.py --max-images 10") == "quality.py"
    main.__spec__ = None  # run as a file
    assert common.command_line(["benchmarks/readme_table.py"]) == "python benchmarks/readme_table.py"


def test_each_script_name_is_one_module():
    """``load(NAME)`` and the README's commands rely on one script of each name under benchmarks/."""
    from _bench import module_name

    assert module_name("peers") == "benchmarks.quality.peers"
    assert module_name("person") == "benchmarks.people.person"
    assert module_name("common") == "benchmarks.common"


def test_paths_lead_to_the_repository_from_any_folder():
    """The scripts sit one folder deeper than common.py: their files are found from ROOT, the
    repository (where pretrained/ and the README are), not from their own folder."""
    from _bench import ROOT

    assert common.ROOT == ROOT and (common.ROOT / "README.md").is_file()
    assert common.RESULTS == ROOT / "benchmarks" / "results" and common.RESULTS.is_dir()
    assert load("quality_rows").SPAN_FILE == ROOT / "pretrained" / "span_x4_ch48.safetensors"


def test_false_repair_sheet_crops_the_largest_groups_and_scores_answers():
    from benchmarks.repair.blind_false import PER_PHOTO, SIDE, crops, score

    mask = np.zeros((100, 140), bool)
    mask[10:12, 100:130] = True   # the largest group, near the right edge
    mask[80:84, 5:9] = True       # the second, near the bottom-left corner
    mask[50, 70] = True           # a single pixel: left out
    boxes = crops(mask, mask.shape)
    assert len(boxes) == PER_PHOTO
    for (top, left), (y, x) in zip(boxes, [(11, 115), (82, 7)]):
        assert 0 <= top <= 100 - SIDE and 0 <= left <= 140 - SIDE
        assert top <= y < top + SIDE and left <= x < left + SIDE
    key = {"1": {"order": "ua"}, "2": {"order": "au"}, "3": {"order": "ua"}}
    assert score(key, {"1": "B", "2": "B", "3": "="}) == {"better": 1, "same": 1, "worse": 1, "rows": 3}
