import numpy as np
import pytest
import torch

from segsr_gui.engine.inference.pipeline import upscale
from segsr_gui.engine.inference.tiling import feather_weight, plan_tiles


def test_tiles_cover_the_image():
    boxes = plan_tiles(100, 130, 48, 8)
    covered = np.zeros((100, 130), bool)
    for b in boxes:
        assert b.height <= 48 and b.width <= 48
        covered[b.top:b.top + b.height, b.left:b.left + b.width] = True
    assert covered.all()


def test_tile_corners_fall_on_the_stride_grid():
    for height, width, align in ((100, 130, 8), (97, 203, 4), (64, 64, 8)):
        boxes = plan_tiles(height, width, 40, 12, align=align)
        covered = np.zeros((height, width), int)
        for b in boxes:
            assert b.top % align == 0 and b.left % align == 0
            assert b.height < 40 + align and b.width < 40 + align
            covered[b.top:b.top + b.height, b.left:b.left + b.width] += 1
        assert covered.min() >= 1
        # neighbours still share at least the overlap
        lefts = sorted({b.left for b in boxes})
        assert all(b - a <= 40 - 12 for a, b in zip(lefts, lefts[1:]))


def test_a_pooled_class_path_model_tiles_like_it_runs_whole():
    """pool=2 doubles SegDM's stride (to 4 here): tiles on a shifted grid would differ
    everywhere, so an odd-sized photo checks the alignment and the edge padding together."""
    from conftest import make_tiny_model

    model = make_tiny_model()
    assert model.stride == 4
    rgb = np.random.default_rng(2).random((60, 203, 3), dtype=np.float32)
    whole = upscale(rgb, model, steps=3, seed=1, tile=0)
    tiled = upscale(rgb, model, steps=3, seed=1, tile=96)
    assert whole.image.shape == tiled.image.shape == (240, 812, 3)
    assert np.abs(whole.image - tiled.image).max() * 255 <= 2.0
    assert (whole.class_map == tiled.class_map).mean() > 0.99


def test_feathered_identity_blend_reproduces_the_input_exactly():
    rng = np.random.default_rng(0)
    img = torch.from_numpy(rng.random((3, 90, 70), dtype=np.float32))
    acc, wsum = torch.zeros_like(img), torch.zeros(1, 90, 70)
    for b in plan_tiles(90, 70, 32, 8):
        w = feather_weight(b, 90, 70, 8, 1)[0]
        acc[:, b.top:b.top + b.height, b.left:b.left + b.width] += img[:, b.top:b.top + b.height, b.left:b.left + b.width] * w
        wsum[:, b.top:b.top + b.height, b.left:b.left + b.width] += w
    assert torch.allclose(acc / wsum, img, atol=1e-6)


def test_margin_pixels_are_context_only_and_the_blend_stays_exact():
    rng = np.random.default_rng(1)
    img = torch.from_numpy(rng.random((3, 90, 70), dtype=np.float32))
    acc, wsum = torch.zeros_like(img), torch.zeros(1, 90, 70)
    boxes = plan_tiles(90, 70, 40, 12)
    for b in boxes:
        w = feather_weight(b, 90, 70, 12, 1, margin=3)[0]
        if b.left > 0:  # an inner left edge: its first 3 columns only give context
            assert float(w[0, :, :3].abs().max()) == 0.0 and float(w[0, :, 3:].min()) >= 0
        acc[:, b.top:b.top + b.height, b.left:b.left + b.width] += img[:, b.top:b.top + b.height, b.left:b.left + b.width] * w
        wsum[:, b.top:b.top + b.height, b.left:b.left + b.width] += w
    assert float(wsum.min()) > 0
    assert torch.allclose(acc / wsum, img, atol=1e-6)
    with pytest.raises(ValueError):
        feather_weight(boxes[-1], 90, 70, 12, 1, margin=6)


def test_overlap_must_be_smaller_than_half_a_tile():
    with pytest.raises(ValueError):
        plan_tiles(100, 100, 32, 16)


def test_tiled_and_untiled_256px_agree_within_2_of_255(tiny_model):
    yy, xx = np.mgrid[0:256, 0:256] / 255.0
    rgb = np.stack([np.sin(xx * 9) * 0.4 + 0.5, np.cos(yy * 7) * 0.4 + 0.5, (xx + yy) / 2], 2).astype(np.float32)
    whole = upscale(rgb, tiny_model, steps=3, seed=5, tile=0)
    tiled = upscale(rgb, tiny_model, steps=3, seed=5, tile=96)
    diff = np.abs(whole.image - tiled.image).max() * 255
    assert diff <= 2.0, diff
    assert (whole.class_map == tiled.class_map).mean() > 0.99


def test_auto_tile_size_follows_the_memory_budget():
    from segsr_gui.engine.inference.pipeline import (
        BYTES_PER_LR_PIXEL, MAX_AUTO_TILE, MIN_TILE, auto_tile_size,
    )

    assert auto_tile_size(64, 64, 4, budget=10 << 30) == 0  # small photos run whole
    assert auto_tile_size(1024, 1024, 4, budget=10 << 30) == MAX_AUTO_TILE  # plenty: the largest tile
    # little memory: the smallest tile that holds the overlap, never less
    assert auto_tile_size(1024, 1024, 4, budget=100 * 100 * BYTES_PER_LR_PIXEL) == MIN_TILE
    # a photo that fits the budget runs whole; the same photo with less memory goes in tiles
    side = MIN_TILE
    assert auto_tile_size(side, side, 4, budget=side * side * BYTES_PER_LR_PIXEL) == 0
    assert auto_tile_size(side + 64, side + 64, 4, budget=side * side * BYTES_PER_LR_PIXEL) == MIN_TILE
    assert MIN_TILE <= MAX_AUTO_TILE and MIN_TILE % 4 == 0


def test_noise_field_windows_agree_wherever_they_are_cut():
    from segsr_gui.engine.diffusion.noise import NoiseField

    field = NoiseField(42)
    whole = field.window(3, 2, 0, 0, 150, 170)
    part = field.window(3, 2, 37, 91, 60, 70)
    assert torch.equal(whole[..., 37:97, 91:161], part)
    assert not torch.equal(field.window(4, 2, 0, 0, 150, 170), whole)
    assert abs(float(whole.std()) - 1) < 0.05
