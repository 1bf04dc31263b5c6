"""The repair nets (engine/repair), the damage recipe and the repair scores, on tiny images."""

import cv2
import numpy as np
import pytest
import torch

from segsr_gui.engine.repair.detector import DamageDetector
from segsr_gui.engine.repair.fill import CORE, FEATHER, FillNet, blend_weight, damage_box, grow
from segsr_gui.engine.repair.repair import RepairConfig, RepairModel, drop_small, shows_damage
from segsr_gui.training.repair_eval import detection_counts, prf, psnr_y_inside
from segsr_gui.training.scratches import MASK_LEVEL, damage_example


def _model(seed=0) -> RepairModel:
    """A model whose fill changes what it touches (a zero head would return the Telea start)."""
    torch.manual_seed(seed)
    m = RepairModel(RepairConfig(widths=(8, 8, 16), fill_widths=(8, 8, 16)))
    torch.nn.init.normal_(m.fill.net.out.weight, std=0.3)
    return m.eval()


def _photo(h=30, w=34, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, h, w, generator=g)


def test_detector_and_fill_shapes_on_odd_sizes():
    det = DamageDetector((8, 8, 16))
    assert det(torch.rand(2, 3, 30, 35)).shape == (2, 1, 30, 35)
    net = FillNet(1.0, (8, 8, 16))
    x = torch.rand(2, 3, 22, 17) * 2 - 1
    out = net(x, x, x, torch.zeros(2, 1, 22, 17), torch.tensor([0.1, 0.9]))
    assert out.shape == (2, 3, 22, 17) and out.dtype == torch.float32


def test_pixels_outside_the_grown_mask_are_the_input_bit_for_bit():
    m = _model()
    photo = _photo()
    mask = torch.zeros(1, 1, 30, 34, dtype=torch.bool)
    mask[0, 0, 12, 4:25] = True  # a 1-px scratch
    mask[0, 0, 3:5, 28:30] = True  # a speck
    out, used = m.repair(photo, mask)
    support = grow(mask, CORE + FEATHER).bool().expand_as(photo)
    assert torch.equal(out[~support], photo[~support])
    assert not torch.equal(out[support], photo[support])  # and it did change the damage
    assert torch.equal(used, mask)


def test_empty_mask_and_no_detection_return_the_input():
    m = _model()
    photo = _photo()
    out, _ = m.repair(photo, torch.zeros(1, 1, 30, 34, dtype=torch.bool))
    assert torch.equal(out, photo)
    torch.nn.init.constant_(m.detector.net.out.bias, -20.0)  # marks nothing
    torch.nn.init.zeros_(m.detector.net.out.weight)
    out, mask = m.repair(photo)
    assert not mask.any() and torch.equal(out, photo)


def test_blend_weight_is_one_on_the_core_and_zero_beyond_the_feather():
    mask = torch.zeros(1, 1, 15, 15)
    mask[0, 0, 7, 7] = 1
    w = blend_weight(mask)[0, 0]
    assert w[7, 7] == 1 and w[7, 7 + CORE] == 1
    assert 0 < w[7, 7 + CORE + FEATHER] < 1 and w[7, 7 + CORE + FEATHER + 1] == 0


def test_damage_box_covers_the_damage_with_margin():
    mask = torch.zeros(1, 1, 100, 80, dtype=torch.bool)
    assert damage_box(mask) is None
    mask[0, 0, 50, 40] = True
    assert damage_box(mask, margin=5) == (45, 56, 35, 46)


def test_save_and_load_round_trip(tmp_path):
    m = _model()
    path = tmp_path / "repair.safetensors"
    m.save(path)
    back = RepairModel.load(path)
    assert back.config == m.config
    photo = _photo()
    assert torch.equal(back.detector(photo), m.detector(photo))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a repair model"):
        RepairModel.load(bad)


def test_drop_small_removes_only_small_groups():
    mask = torch.zeros(1, 1, 10, 10, dtype=torch.bool)
    mask[0, 0, 1, 1] = True
    mask[0, 0, 5, 2:8] = True
    kept = drop_small(mask, 3)
    assert not kept[0, 0, 1, 1] and kept[0, 0, 5, 2:8].all()


def test_shows_damage_counts_only_long_groups():
    mask = np.zeros((100, 100), bool)
    for i in range(0, 100, 5):
        mask[i, i:i + 3] = True  # 20 short marks: 60 px, 0.6 % of the photo
    assert not shows_damage(mask, 24, 0.001)
    mask[50, 10:40] = True  # one mark 30 px long: 0.3 %
    assert shows_damage(mask, 24, 0.001)
    assert not shows_damage(mask, 24, 0.004) and not shows_damage(mask, 31, 0.001)


def test_recipe_mask_marks_what_changed():
    rng = np.random.default_rng(3)
    photo = rng.random((64, 64, 3)).astype(np.float32)
    for _ in range(5):
        damaged, clean, mask = damage_example(photo, rng, clean_share=0.0)
        assert damaged.shape == clean.shape == (64, 64, 3) and mask.shape == (64, 64)
        assert damaged.min() >= 0 and damaged.max() <= 1
        if not mask.any():
            continue
        # outside the mask nothing moved by more than the mask level (JPEG aside)
        diff = np.abs(damaged - clean).max(2)[~mask]
        assert np.quantile(diff, 0.99) <= MASK_LEVEL + 0.06
    _, _, none = damage_example(photo, rng, clean_share=1.0)
    assert not none.any()


def test_scan_options_touch_both_prints_alike():
    photo = np.random.default_rng(4).random((48, 48, 3)).astype(np.float32)
    plain = damage_example(photo, np.random.default_rng(5), clean_share=0.0, jpeg_lowest=95)
    sharp = damage_example(photo, np.random.default_rng(5), clean_share=0.0, jpeg_lowest=95, sharpen_share=1.0)
    assert np.array_equal(plain[2], sharp[2])  # the damage (the truth) is drawn before the scan
    assert not np.allclose(plain[1], sharp[1])  # the clean target is sharpened too, not only the input
    outside = ~plain[2]
    assert np.abs(sharp[0] - sharp[1]).max(2)[outside].mean() < 0.02


def test_detection_scores_allow_one_pixel():
    truth = np.zeros((20, 20), bool)
    truth[10, 2:18] = True
    assert prf(detection_counts(np.roll(truth, 1, 0), truth))["f1"] == 1.0
    assert prf(detection_counts(np.roll(truth, 3, 0), truth))["f1"] == 0.0
    half = truth.copy()
    half[10, 10:] = False
    s = prf(detection_counts(half, truth))
    assert s["precision"] == 1.0 and 0.5 < s["recall"] < 0.7


def test_psnr_inside_counts_only_the_mask():
    a = np.zeros((8, 8, 3), np.float32)
    b = a.copy()
    b[0, 0] = 1.0
    mask = np.zeros((8, 8), bool)
    mask[4, 4] = True
    assert psnr_y_inside(b, a, mask) == float("inf")
    mask[0, 0] = True
    assert psnr_y_inside(b, a, mask) < 10


def test_the_threshold_is_the_most_precise_among_nearly_best_f1():
    from segsr_gui.training.repair_validate import pick_setting

    grid = {"0.5/1": {"f1": 0.764, "precision": 0.75}, "0.9/1": {"f1": 0.758, "precision": 0.82},
            "0.95/1": {"f1": 0.74, "precision": 0.9}}
    assert pick_setting(grid, slack=0.01) == "0.9/1"
    assert pick_setting(grid, slack=0.0) == "0.5/1"


def test_even_scratches_keep_one_opacity_without_gaps():
    from segsr_gui.training.scratches import scratches

    flat = np.full((160, 160, 3), 0.4)
    for seed in range(4):
        out = scratches(flat, np.random.default_rng(seed), 1, even_share=1.0)
        change = np.abs(out - flat).max(2)
        mask = change > MASK_LEVEL
        count, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        assert count - 1 == 1, seed  # one unbroken line
        # every stretch of the line reaches the full opacity (a fading scratch's 10 % weakest
        # stretches peak at half of it)
        peak = cv2.dilate(change.astype(np.float32), np.ones((5, 5)))[mask]
        assert np.quantile(peak, 0.1) > 0.95 * change.max(), seed


def test_the_sample_and_its_damage_are_reproduced_exactly():
    pytest.importorskip("skimage", reason="scikit-image (a benchmark dependency) paints the sample's source")
    import importlib.util
    from pathlib import Path

    from PIL import Image

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("make_sample", root / "packaging" / "make_sample.py")
    make_sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sample)
    sample, damage = make_sample.aged()
    assert np.array_equal(sample, np.asarray(Image.open(root / "resources" / "sample.png").convert("RGB")))
    assert 0.002 < damage.mean() < 0.02  # two specks and two scratches on 170x170
