"""The shipped repair stage on synthetic damage (issue 37 item 7): a scratch on a flat and on
a textured image is found and filled; an undamaged image comes back unchanged."""

import numpy as np
import pytest
import torch

from segsr_gui.engine.nets.weights import load_model

LOADED = load_model("segsr-x4")
pytestmark = pytest.mark.skipif(not LOADED.model.has_repair, reason="segsr-x4 has no repair stage")


def _flat(h=96, w=128):
    return np.full((h, w, 3), 0.55, np.float32) + np.random.default_rng(0).normal(0, 0.01, (h, w, 3)).astype(np.float32)


def _textured(h=96, w=128):
    yy, xx = np.mgrid[0:h, 0:w]
    base = 0.5 + 0.15 * np.sin(xx / 5.0) * np.cos(yy / 7.0) + 0.1 * np.sin((xx + yy) / 11.0)
    rgb = np.stack([base, base * 0.9, base * 0.8], -1) + np.random.default_rng(1).normal(0, 0.02, (h, w, 3))
    return rgb.clip(0, 1).astype(np.float32)


def _scratched(rgb):
    """A light scratch, gently bent, 2 px wide, across the photo."""
    out, mask = rgb.copy(), np.zeros(rgb.shape[:2], bool)
    for x in range(8, rgb.shape[1] - 8):
        y = int(round(rgb.shape[0] * 0.45 + 6 * np.sin(x / 25.0)))
        mask[y:y + 2, x] = True
    out[mask] = 0.95
    return out, mask


def _repair(rgb):
    photo = torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None]
    out, found = LOADED.model.repair.repair(photo, precision="fp32")
    return out[0].permute(1, 2, 0).numpy(), found[0, 0].numpy()


@pytest.mark.parametrize("make", [_flat, _textured])
def test_a_scratch_is_found_and_filled(make):
    clean = make()
    damaged, truth = _scratched(clean)
    repaired, found = _repair(damaged)
    recall = (found & truth).sum() / truth.sum()
    assert recall > 0.7, recall
    before = np.abs(damaged - clean)[truth].mean()
    after = np.abs(repaired - clean)[truth].mean()
    assert after < 0.3 * before, (before, after)


@pytest.mark.parametrize("make", [_flat, _textured])
def test_an_undamaged_image_comes_back_unchanged(make):
    clean = make()
    repaired, found = _repair(clean)
    changed = (np.abs(repaired - clean).max(axis=2) > 4 / 255).mean()
    assert changed <= 0.001, (found.mean(), changed)


def test_nothing_is_marked_where_the_photo_is_transparent():
    from segsr_gui.engine.inference.repair_step import repair_photo

    damaged, truth = _scratched(_flat())
    alpha = np.ones(truth.shape, np.float32)
    alpha[:, : truth.shape[1] // 2] = 0.0  # the scratch's left half lies under transparent pixels
    _, found = repair_photo(LOADED.model, damaged, "on", None, 0, "fp32", "cpu", alpha)
    left, right = found[:, : truth.shape[1] // 2], found[:, truth.shape[1] // 2:]
    assert not left.any()
    assert (right & truth[:, truth.shape[1] // 2:]).sum() > 0.7 * truth[:, truth.shape[1] // 2:].sum()


def test_an_opaque_line_leaves_no_pale_trace():
    """The fill reads the photo with the damage hidden: an opaque white line on dark ground
    (the sample's kind of scratch) is filled with the ground, not with a lighter band."""
    rng = np.random.default_rng(2)
    clean = (np.full((96, 128, 3), 0.2, np.float32) + rng.normal(0, 0.01, (96, 128, 3))).astype(np.float32)
    damaged, mask = clean.copy(), np.zeros((96, 128), bool)
    mask[10:86, 60] = True
    mask[48, 10:120] = True
    damaged[mask] = 0.9
    photo = torch.from_numpy(damaged.transpose(2, 0, 1).copy())[None]
    out, _ = LOADED.model.repair.repair(photo, torch.from_numpy(mask)[None, None], precision="fp32")
    left = np.abs(out[0].permute(1, 2, 0).numpy() - clean)[mask].mean()
    assert left < 0.05 * np.abs(damaged - clean)[mask].mean(), left


def test_a_cut_outs_holes_and_fringe_are_not_damage():
    """Holes in a cut-out (a tree's gaps) hold leftover white under alpha 0, ringed by a
    half-transparent fringe of the same white: none of it is marked or changed."""
    from segsr_gui.engine.inference.repair_step import repair_photo

    photo = _textured()
    alpha = np.ones(photo.shape[:2], np.float32)
    for y, x in np.random.default_rng(3).integers(8, 88, size=(24, 2)):
        photo[y - 1:y + 3, x - 1:x + 3] = 0.95
        alpha[y - 1:y + 3, x - 1:x + 3] = 0.6  # the fringe
        alpha[y:y + 2, x:x + 2] = 0.0  # the hole
    repaired, found = repair_photo(LOADED.model, photo, "on", None, 0, "fp32", "cpu", alpha)
    assert not found.any()
    assert np.array_equal(repaired, photo)


def _specked(rgb):
    """A few bright dust-like specks, 2x2 px: what the detection marks and "on" fills."""
    out = rgb.copy()
    for y, x in ((20, 30), (50, 90), (70, 40)):
        out[y:y + 2, x:x + 2] = 0.97
    return out


def test_auto_leaves_a_photo_without_scratches_as_it_is():
    from segsr_gui.engine.inference.repair_step import repair_photo

    photo = _specked(_textured())
    on, on_found = repair_photo(LOADED.model, photo, "on", None, 0, "fp32", "cpu")
    assert on_found.any() and not np.array_equal(on, photo)  # the specks are found and filled on "on"
    auto, auto_found = repair_photo(LOADED.model, photo, "auto", None, 0, "fp32", "cpu")
    assert auto is photo and auto_found.shape == photo.shape[:2] and not auto_found.any()


def test_auto_fills_a_photo_that_shows_a_scratch():
    from segsr_gui.engine.inference.repair_step import repair_photo

    damaged, truth = _scratched(_specked(_textured()))
    auto, found = repair_photo(LOADED.model, damaged, "auto", None, 0, "fp32", "cpu")
    on, on_found = repair_photo(LOADED.model, damaged, "on", None, 0, "fp32", "cpu")
    assert np.array_equal(found, on_found) and np.array_equal(auto, on)
    assert (found & truth).sum() > 0.7 * truth.sum()
