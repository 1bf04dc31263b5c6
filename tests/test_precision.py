"""Reduced precision: which one a device gets, and that it changes the output only a little."""

import pytest
import torch

from segsr_gui.engine.diffusion import precision
from segsr_gui.engine.stages.experts import bicubic_up
from segsr_gui.engine.diffusion.sampler import sample
from segsr_gui.engine.diffusion.schedule import ResShiftSchedule, ScheduleConfig


def test_fp32_is_always_full_precision_and_cuda_gets_fp16():
    assert precision.autocast_dtype(torch.device("cpu"), "fp32") is None
    assert precision.autocast_dtype(torch.device("cuda"), "fp32") is None
    assert precision.autocast_dtype(torch.device("cuda")) is torch.float16
    assert precision.describe(torch.device("cuda")) == "fp16 autocast"
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.autocast_dtype(torch.device("cpu"), "fp8")


def test_cpu_uses_bf16_only_where_the_cpu_has_native_bf16(monkeypatch):
    monkeypatch.setattr(precision, "bf16_supported", lambda: True)
    assert precision.autocast_dtype(torch.device("cpu")) is torch.bfloat16
    assert precision.describe(torch.device("cpu")) == "bf16 autocast"
    monkeypatch.setattr(precision, "bf16_supported", lambda: False)
    assert precision.autocast_dtype(torch.device("cpu")) is None
    assert precision.describe(torch.device("cpu")) == "fp32"


def test_the_sampler_runs_the_nets_in_the_chosen_precision(tiny_model, monkeypatch):
    """bf16 reaches the class chain (its outputs differ from fp32) but the yielded tensors
    stay fp32 and close to the fp32 chain."""
    monkeypatch.setattr(precision, "bf16_supported", lambda: True)
    y = bicubic_up(torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1, 4)
    sched = ResShiftSchedule(ScheduleConfig(steps=3))
    full = sample(tiny_model, y, sched, seed=1, precision="fp32")
    again = sample(tiny_model, y, sched, seed=1, precision="fp32")
    reduced = sample(tiny_model, y, sched, seed=1, precision="auto")
    assert torch.equal(full.s0_hat, again.s0_hat)
    assert reduced.x0_hat.dtype == torch.float32 and reduced.s0_hat.dtype == torch.float32
    probs = lambda step: torch.softmax(step.s0_hat, dim=1)  # noqa: E731
    diff = (probs(full) - probs(reduced)).abs().max().item()
    assert 0 < diff < 0.05
