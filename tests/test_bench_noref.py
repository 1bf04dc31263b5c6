"""Tests for benchmarks/quality/noref.py that need no downloads (synthetic images only)."""
import numpy as np
import pytest
from scipy.stats import gennorm

from _bench import load

noref = load("noref")


def smooth_image(h=192, w=288, seed=0):
    """A smooth, natural-looking test image: a few low-frequency waves, 0..255."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.full((h, w), 128.0)
    for _ in range(6):
        fy, fx, ph = rng.uniform(0.005, 0.05), rng.uniform(0.005, 0.05), rng.uniform(0, 6.3)
        img += rng.uniform(10, 25) * np.sin(fy * yy + fx * xx + ph)
    return np.clip(img, 0, 255)


def fake_params(dim=36, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(dim, dim))
    return noref.NiqeParams(rng.normal(size=dim), a @ a.T / dim + np.eye(dim), noref.gaussian_window())


def test_gaussian_window():
    g = noref.gaussian_window()
    assert g.shape == (7, 7)
    assert g.sum() == pytest.approx(1.0)
    assert np.allclose(g, g.T) and np.allclose(g, g[::-1, ::-1])
    assert g[3, 3] == g.max()


def test_y_channel_matches_bt601_studio_range():
    img = np.zeros((2, 2, 3), np.uint8)
    img[0, 0] = 255  # white
    img[0, 1] = (255, 0, 0)
    y = noref.y_channel(img)
    assert y[1, 1] == pytest.approx(16.0)
    assert y[0, 0] == pytest.approx(235.0, abs=1e-9)
    assert y[0, 1] == pytest.approx(16.0 + 65.481, abs=1e-9)
    gray = np.full((3, 3), 77, np.uint8)
    assert np.allclose(noref.y_channel(gray), 77.0)


def test_mscn_is_zero_on_flat_and_bounded():
    flat = np.full((40, 40), 100.0)
    assert np.allclose(noref.mscn(flat), 0.0)
    m = noref.mscn(smooth_image() + np.random.default_rng(1).normal(0, 10, (192, 288)))
    assert np.isfinite(m).all()
    assert abs(m.mean()) < 0.1 and 0.3 < m.std() < 3.0


@pytest.mark.parametrize("shape", [0.6, 1.0, 2.0, 4.0])
def test_ggd_fit_recovers_shape(shape):
    x = gennorm.rvs(shape, scale=1.3, size=200_000, random_state=np.random.default_rng(2))
    alpha, sigma = noref.fit_ggd(x)
    assert alpha == pytest.approx(shape, rel=0.05)
    assert sigma == pytest.approx(np.sqrt(np.mean(x * x)), rel=1e-9)


def test_aggd_fit_recovers_shape_and_asymmetry():
    rng = np.random.default_rng(3)
    shape, bl, br = 1.5, 0.5, 1.2
    z = np.abs(gennorm.rvs(shape, size=400_000, random_state=rng))
    sign = rng.random(z.size) < bl / (bl + br)  # AGGD side probabilities are beta_l/(beta_l+beta_r)
    x = np.where(sign, -bl * z, br * z)
    alpha, fit_l, fit_r = noref.fit_aggd(x)
    assert alpha == pytest.approx(shape, rel=0.05)
    assert fit_l == pytest.approx(bl, rel=0.05)
    assert fit_r == pytest.approx(br, rel=0.05)


def test_aggd_vectorised_matches_scalar():
    rng = np.random.default_rng(4)
    blocks = rng.laplace(size=(5, 48, 48))
    a, bl, br = noref.fit_aggd(blocks, axis=(1, 2))
    for i in range(5):
        s = noref.fit_aggd(blocks[i])
        assert (a[i], bl[i], br[i]) == pytest.approx(s)


def test_aggd_one_sided_block_gives_nan_not_error():
    a, _, _ = noref.fit_aggd(np.abs(np.random.default_rng(5).normal(size=(2, 8, 8))), axis=(1, 2))
    assert np.isnan(a).all()


def test_noise_changes_niqe_features():
    img = np.round(smooth_image())
    noisy = np.round(np.clip(img + np.random.default_rng(6).normal(0, 12, img.shape), 0, 255))
    f_clean = noref.niqe_features(img)
    f_noisy = noref.niqe_features(noisy)
    assert f_clean.shape == f_noisy.shape == (2 * 3, 36)
    # the MSCN shape parameter (feature 0) and its spread (feature 1) both move
    assert abs(np.nanmean(f_noisy[:, 0]) - np.nanmean(f_clean[:, 0])) > 0.2
    assert abs(np.nanmean(f_noisy[:, 1]) - np.nanmean(f_clean[:, 1])) > 0.05
    assert np.isfinite(f_noisy).all()


def test_niqe_score_changes_with_noise_and_is_deterministic():
    p = fake_params()
    img = np.round(smooth_image()).astype(np.uint8)
    noisy = np.clip(img + np.random.default_rng(7).normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    a, b = noref.niqe(img, p), noref.niqe(noisy, p)
    assert np.isfinite(a) and np.isfinite(b) and a != pytest.approx(b, rel=1e-3)
    assert noref.niqe(img, p) == a
    # gray input is used as-is (no studio-range mapping), HxW and HxWx1 alike
    assert noref.niqe(img[..., None], p) == a


def test_niqe_needs_two_blocks():
    with pytest.raises(ValueError):
        noref.niqe(np.zeros((100, 100), np.uint8), fake_params())


def test_imresize_half_of_constant_and_ramp():
    c = np.full((96, 192), 0.3)
    assert np.allclose(noref.imresize_matlab(c, 0.5), 0.3)
    ramp = np.tile(np.arange(192, dtype=float), (96, 1))
    out = noref.imresize_matlab(ramp, 0.5)
    assert out.shape == (48, 96)
    # away from the border, a linear ramp maps to the mean of each pixel pair
    assert np.allclose(out[:, 4:-4], (2 * np.arange(96) + 0.5)[4:-4])


def test_load_niqe_params_roundtrip(tmp_path):
    p = fake_params()
    f = tmp_path / "niqe_pris_params.npz"
    np.savez(f, mu_pris_param=p.mu[None], cov_pris_param=p.cov, gaussian_window=p.window)
    q = noref.load_niqe_params(f)
    assert np.array_equal(q.mu, p.mu) and np.array_equal(q.cov, p.cov)
    with pytest.raises(FileNotFoundError):
        noref.load_niqe_params(tmp_path / "missing.npz")


def test_brisque_runs_if_installed():
    pytest.importorskip("brisque")
    pytest.importorskip("cv2")
    img = np.round(smooth_image(96, 96)).astype(np.uint8)
    noisy = np.clip(img + np.random.default_rng(8).normal(0, 20, img.shape), 0, 255).astype(np.uint8)
    a, b = noref.brisque(img), noref.brisque(noisy)
    assert np.isfinite(a) and np.isfinite(b) and a != b
