"""Which reduced precision a run uses: fp16 on a CUDA GPU, bf16 on a CPU with native bf16
units (AVX-512 BF16 or AMX), fp32 elsewhere. Training and sampling read the same rule.

bf16 keeps about three significant digits. The nets predict a residual on the bicubic
``y`` that is added in fp32, so the rounding is a fraction of that residual, not of the
photo; ``benchmarks/speed/speed.py`` measures what it changes in the output, and
``benchmarks/quality/quality.py --precision`` the scores.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache
from pathlib import Path

# torch is imported inside the functions, so the CLI's parser can read PRECISIONS cheaply
PRECISIONS = ("auto", "fp32")


@cache  # the sampler asks at every step; the CPU does not change under a running process
def bf16_supported() -> bool:
    """bf16 autocast pays only on CPUs with native bf16 (AVX-512 BF16 / AMX); elsewhere
    it is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(device, precision: str = "auto"):
    """The autocast dtype (a ``torch.dtype``) for a ``torch.device``; None = full fp32."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32":
        return None
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and bf16_supported():
        return torch.bfloat16
    return None


def autocast(device, precision: str = "auto"):
    """A context that runs the nets in ``autocast_dtype`` (a no-op for fp32)."""
    import torch

    dtype = autocast_dtype(device, precision)
    if dtype is None:
        return nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def describe(device, precision: str = "auto") -> str:
    """"fp32", "fp16 autocast" or "bf16 autocast", for reports and manifests."""
    import torch

    names = {None: "fp32", torch.float16: "fp16 autocast", torch.bfloat16: "bf16 autocast"}
    return names[autocast_dtype(device, precision)]
