import numpy as np
import pytest

from segsr_gui.training import degrade


@pytest.fixture
def hq():
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    return np.stack([xx, yy, (xx + yy) / 2], 2).astype(np.float32)


def test_kernels_are_normalised_and_shaped():
    rng = np.random.default_rng(0)
    for _ in range(30):
        k = degrade.random_blur_kernel(rng)
        assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1 and 7 <= k.shape[0] <= 21
        assert abs(k.sum() - 1) < 1e-5
    assert abs(degrade.sinc_kernel(13, np.pi / 3).sum() - 1) < 1e-5
    g = degrade.gaussian_kernel(9, 2.0, 0.5, 0.3)
    assert g.argmax() == 40  # peak at the centre


@pytest.mark.parametrize("name", ["realesrgan", "old_photo", "bicubic", "mix"])
def test_pipelines_give_lr_size_range_and_are_reproducible(hq, name):
    def run(seed):
        rng = np.random.default_rng(seed)
        if name == "realesrgan":
            return degrade.realesrgan(hq, rng), hq
        if name == "old_photo":
            lq, tone = degrade.old_photo(hq, rng)
            return lq, tone(hq)
        if name == "bicubic":
            return degrade.bicubic(hq), hq
        return degrade.degrade_pair(hq, rng)

    for seed in range(6):
        lq, target = run(seed)
        assert lq.shape == (16, 16, 3) and lq.dtype == np.float32
        assert target.shape == hq.shape
        assert lq.min() >= 0 and lq.max() <= 1
        again, _ = run(seed)
        assert np.array_equal(lq, again)
    if name != "bicubic":
        assert not np.array_equal(run(0)[0], run(1)[0])


def test_noise_and_jpeg_primitives(hq):
    rng = np.random.default_rng(1)
    noisy = degrade.gaussian_noise(hq, rng, 0.1, gray=False)
    assert noisy.shape == hq.shape and 0 <= noisy.min() and noisy.max() <= 1
    assert 0.05 < np.std(noisy - hq) < 0.12
    mid = np.full_like(hq, 0.5)  # away from the clip limits
    gray = degrade.gaussian_noise(mid, np.random.default_rng(2), 0.05, gray=True) - mid
    assert np.allclose(gray[..., 0], gray[..., 1], atol=1e-6)  # same noise in every channel
    assert gray.std() > 0.03
    shot = degrade.poisson_noise(hq, np.random.default_rng(3), 1.0, gray=False)
    assert shot.shape == hq.shape and not np.array_equal(shot, hq)
    j = degrade.jpeg(hq, 30)
    assert j.shape == hq.shape and 0 < np.abs(j - hq).mean() < 0.05


def test_old_photo_tone_is_applied_to_the_target(hq):
    for seed in range(10):
        lq, tone = degrade.old_photo(hq, np.random.default_rng(seed))
        target = tone(hq)
        gray_target = np.allclose(target[..., 0], target[..., 1])
        gray_lq = np.allclose(lq[..., 0], lq[..., 1], atol=1e-6)
        assert gray_target == gray_lq


def test_dust_and_scratches_change_few_pixels(hq):
    out = degrade.dust_and_scratches(hq, np.random.default_rng(0), specks=5, scratches=1)
    changed = np.any(np.abs(out - hq) > 1e-3, axis=2).mean()
    assert 0 < changed < 0.2
