import torch
import torch.nn.functional as F

from segsr_gui.engine.diffusion.low_frequencies import gaussian_blur, gaussian_taps, keep_low_frequencies


def _reference_blur(x, sigma):
    """The textbook separable blur: grouped conv2d with the same taps, edges replicated."""
    taps = torch.tensor(gaussian_taps(sigma), dtype=x.dtype)
    r, c = len(taps) // 2, x.shape[1]
    out = F.pad(x, (r, r, r, r), mode="replicate")
    out = F.conv2d(out, taps.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(out, taps.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def test_blur_matches_a_depthwise_convolution():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 37, 53) * 2 - 1
    for sigma in (0.3, 1.0, 2.0, 4.0):
        out = gaussian_blur(x, sigma)
        assert out.shape == x.shape
        assert (out - _reference_blur(x, sigma)).abs().max() < 1e-6
    # smaller than the kernel's reach, and a non-contiguous view (a tile's crop)
    tiny = torch.rand(1, 3, 3, 2) * 2 - 1
    assert (gaussian_blur(tiny, 4.0) - _reference_blur(tiny, 4.0)).abs().max() < 1e-6
    view = x[:1, :, 5:30, 7:40]
    assert (gaussian_blur(view, 2.0) - _reference_blur(view, 2.0)).abs().max() < 1e-6
    # the other path (a GPU's tensors; here float64 on the CPU takes it) gives the same blur
    wide = gaussian_blur(x.double(), 2.0)
    assert wide.dtype == torch.float64 and (wide - gaussian_blur(x, 2.0)).abs().max() < 1e-6


def test_blur_keeps_constants_and_smooths():
    flat = torch.full((1, 3, 20, 24), 0.25)
    assert torch.allclose(gaussian_blur(flat, 2.0), flat, atol=1e-6)
    noise = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    assert gaussian_blur(noise, 2.0).std() < 0.3 * noise.std()
    taps = gaussian_taps(2.0)
    assert len(taps) == 13 and abs(sum(taps) - 1) < 1e-12 and taps == taps[::-1]


def test_colour_fix_takes_the_low_band_from_y():
    torch.manual_seed(2)
    y = torch.rand(1, 3, 48, 48) * 2 - 1
    x = (y + 0.3).clamp(-1, 1)  # a colour shift the fix should undo
    fixed = keep_low_frequencies(x, y, 2.0)
    assert (gaussian_blur(fixed, 2.0) - gaussian_blur(y, 2.0))[..., 8:-8, 8:-8].abs().mean() < 0.02
    assert torch.equal(keep_low_frequencies(x, y, 0.0), x)
