import json

import pytest
import torch

from segsr_gui.engine.diffusion.schedule import ResShiftSchedule

from segsr_gui.engine.diffusion.schedule import ScheduleConfig

from segsr_gui.engine.diffusion.schedule import eta_values


def test_reproduces_resshift_published_etas_for_t4():
    etas = eta_values(ScheduleConfig(steps=4, kappa=2.0, power=0.3, min_noise=0.2))
    assert etas == pytest.approx([0.01, 0.2705, 0.5797, 0.9801], abs=1e-4)


@pytest.mark.parametrize("steps", [1, 2, 4, 8, 15])
def test_etas_strictly_increasing_and_end_at_eta_end(steps):
    etas = eta_values(ScheduleConfig(steps=steps, min_noise=0.04))
    assert all(b > a for a, b in zip(etas, etas[1:]))
    assert etas[-1] == pytest.approx(0.99**2)


def test_chain_with_true_x0_and_no_noise_lands_on_x0():
    torch.manual_seed(0)
    sched = ResShiftSchedule(ScheduleConfig(steps=4))
    x0 = torch.rand(1, 3, 8, 8) * 2 - 1
    y = torch.rand(1, 3, 8, 8) * 2 - 1
    x = sched.prior_sample(y, torch.randn_like(y))
    for t in sched.timesteps:
        x = sched.step(x0, t, x, noise=None).prev_sample
    assert torch.equal(x, x0) or torch.allclose(x, x0, atol=1e-6)


def test_posterior_matches_design_formula():
    sched = ResShiftSchedule(ScheduleConfig(steps=4))
    x_t, x0, n = torch.ones(1), torch.zeros(1), torch.ones(1)
    t = 3
    eta, eta_prev = sched.eta(3), sched.eta(2)
    alpha = eta - eta_prev
    expected = eta_prev / eta * 1.0 + 2.0 * (eta_prev / eta * alpha) ** 0.5
    assert float(sched.step(x0, t, x_t, noise=n).prev_sample) == pytest.approx(expected, rel=1e-6)
    # noise_scale 0 is the posterior mean
    assert float(sched.step(x0, t, x_t, noise=n, noise_scale=0).prev_sample) == pytest.approx(eta_prev / eta)


def test_config_round_trip_gives_identical_schedule():
    cfg = ScheduleConfig(steps=6, kappa=1.5)
    again = ScheduleConfig.from_dict(json.loads(cfg.to_json()))
    assert again == cfg
    assert torch.equal(ResShiftSchedule(again).etas, ResShiftSchedule(cfg).etas)


def test_step_rejects_bad_t():
    with pytest.raises(ValueError):
        ResShiftSchedule().step(torch.zeros(1), 0, torch.zeros(1))
