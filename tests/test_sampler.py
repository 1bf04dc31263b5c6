import numpy as np
import torch

from segsr_gui.engine.stages.experts import bicubic_up

from segsr_gui.engine.inference.pipeline import upscale
from segsr_gui.engine.diffusion.sampler import iter_sample
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule, ScheduleConfig


def _y(h=16, w=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    return bicubic_up(torch.rand(1, 3, h, w, generator=g) * 2 - 1, 4)


def test_yields_exactly_steps_records_of_the_right_shapes(tiny_model):
    sched = ResShiftSchedule(ScheduleConfig(steps=5))
    records = list(iter_sample(tiny_model, _y(), sched, seed=3))
    assert [r.index for r in records] == list(range(5))
    assert [r.t for r in records] == [5, 4, 3, 2, 1]
    for r in records:
        assert r.total == 5
        assert r.x0_hat.shape == (1, 3, 64, 80)
        assert r.x_t.shape == (1, 3, 64, 80)
        assert r.s0_hat.shape == (1, 11, 64, 80)
        assert r.x0_hat.min() >= -1 and r.x0_hat.max() <= 1


def test_same_seed_same_output_other_seed_differs(tiny_model):
    """The seed drives the chain's noise: the classes change with it; the image is the
    experts' start at every step, whatever the seed."""
    sched = ResShiftSchedule(ScheduleConfig(steps=3))
    y = _y()
    a, b, c = (list(iter_sample(tiny_model, y, sched, seed=seed))[-1] for seed in (7, 7, 8))
    assert torch.equal(a.s0_hat, b.s0_hat) and torch.equal(a.x_t, b.x_t)
    assert not torch.equal(a.s0_hat, c.s0_hat)
    assert all(torch.equal(r.x0_hat, y) for r in (a, b, c))


def test_stopping_iteration_cancels_without_running_later_steps(tiny_model):
    calls = []
    original = tiny_model.forward

    def counting(*args):
        calls.append(1)
        return original(*args)

    tiny_model.forward = counting
    try:
        gen = iter_sample(tiny_model, _y(), ResShiftSchedule(ScheduleConfig(steps=6)), seed=0)
        next(gen)
        next(gen)
        gen.close()
    finally:
        del tiny_model.forward
    assert len(calls) == 2


def test_srdm_only_model_yields_no_segmentation():
    from conftest import make_tiny_model

    model = make_tiny_model(bridge=False)
    records = list(iter_sample(model, _y(), ResShiftSchedule(ScheduleConfig(steps=2)), seed=0))
    assert len(records) == 2 and all(r.s0_hat is None for r in records)


def test_64px_input_gives_256px_image_and_class_map(tiny_model):
    rgb = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    result = upscale(rgb, tiny_model, steps=3, seed=0, tile=0)
    assert result.image.shape == (256, 256, 3)
    assert result.image.dtype == np.float32 and 0 <= result.image.min() and result.image.max() <= 1
    assert result.class_map.shape == (256, 256) and result.class_map.max() < 11


def test_odd_sizes_are_padded_and_cropped_back(tiny_model):
    rgb = np.random.default_rng(1).random((13, 7, 3), dtype=np.float32)
    result = upscale(rgb, tiny_model, steps=2, seed=0, tile=0)
    assert result.image.shape == (52, 28, 3) and result.class_map.shape == (52, 28)


def test_mirror_yields_the_mean_of_the_photo_chain_and_the_flipped_mirror_chain(tiny_model):
    """A mirrored run is two whole chains, each from its own estimates (same seed, noise in
    each chain's own coordinates): its estimates are the plain chains' means, at every step."""
    sched = ResShiftSchedule(ScheduleConfig(steps=3))
    y = _y()
    kw = dict(seed=4, noise_scale=0.5, precision="fp32")
    both = list(iter_sample(tiny_model, y, sched, mirror=True, **kw))
    plain = list(iter_sample(tiny_model, y, sched, **kw))
    flipped = list(iter_sample(tiny_model, y.flip(-1), sched, **kw))
    assert len(both) == 3
    for m, a, b in zip(both, plain, flipped):
        assert m.x0_hat.shape == a.x0_hat.shape and m.s0_hat.shape == a.s0_hat.shape
        torch.testing.assert_close(m.x0_hat, (a.x0_hat + b.x0_hat.flip(-1)) / 2, atol=1e-5, rtol=0)
        torch.testing.assert_close(m.s0_hat, (a.s0_hat + b.s0_hat.flip(-1)) / 2, atol=1e-4, rtol=0)
        torch.testing.assert_close(m.x_t, a.x_t, atol=1e-5, rtol=0)
    # a photo that is not its own mirror: the mean classes differ from the plain chain's
    assert (both[-1].s0_hat - plain[-1].s0_hat).abs().max() > 1e-3


def test_mirror_runs_the_nets_one_chain_at_a_time(tiny_model):
    batches = []
    original = tiny_model.forward

    def recording(x_t, *rest):
        batches.append(x_t.shape[0])
        return original(x_t, *rest)

    tiny_model.forward = recording
    try:
        list(iter_sample(tiny_model, _y(), ResShiftSchedule(ScheduleConfig(steps=2)), mirror=True))
    finally:
        del tiny_model.forward
    assert batches == [1, 1, 1, 1]


def test_mirrored_upscale_keeps_the_output_sizes(tiny_model):
    rgb = np.random.default_rng(0).random((24, 28, 3), dtype=np.float32)
    out = upscale(rgb, tiny_model, steps=2, tile=0, mirror=True)
    plain = upscale(rgb, tiny_model, steps=2, tile=0)
    assert out.image.shape == plain.image.shape == (96, 112, 3)
    assert out.class_map.shape == (96, 112)
    assert not np.array_equal(out.class_map, plain.class_map)
