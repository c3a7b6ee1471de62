"""Forward-pass operation counts and a float32 matmul peak (BLAS and oneDNN), for ``field2048.py``.

Kept apart from the timing script so that tests can check the count against
:func:`bench.methods.unet._model.train_flops` and the hooks against a hand count.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

__all__ = ["as_conv", "conv_flops", "count_flops", "matmul_rates"]


def conv_flops(module, inp, out) -> float:
    """Floating-point operations (2 per multiply-add) of one call of a Conv2d or
    ConvTranspose2d: ``2 * Cin/groups * Cout * kh * kw`` per output pixel (per input
    pixel for a transposed convolution), bias and activation not counted."""
    import torch.nn as nn

    kh, kw = module.kernel_size
    per = 2.0 * module.in_channels // module.groups * module.out_channels * kh * kw
    if isinstance(module, nn.ConvTranspose2d):
        x = inp[0]
        return per * x.shape[0] * x.shape[2] * x.shape[3]
    return per * out.shape[0] * out.shape[2] * out.shape[3]


@contextmanager
def count_flops(model):
    """Count the convolution FLOPs of every forward call of `model` inside the block:
    ``with count_flops(m) as c: m(x)``; then ``c["flops"]``, ``c["calls"]``."""
    import torch.nn as nn

    acc = {"flops": 0.0, "calls": 0}
    handles = []

    def hook(module, inp, out):
        acc["flops"] += conv_flops(module, inp, out)
        acc["calls"] += 1

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            handles.append(m.register_forward_hook(hook))
    try:
        yield acc
    finally:
        for h in handles:
            h.remove()


def matmul_rates(n: int = 2048, seconds: float = 2.0) -> dict[str, float]:
    """Best float32 FLOP/s of an ``n x n`` by ``n x n`` product (torch, the current thread
    count) by ``torch.mm`` (``"blas"``) and by a 1x1 convolution of a ``(1, n, n, 1)``
    channels-last input (``"onednn"``), each timed for about ``seconds / 2``.

    The better of the two is the machine's practical peak for dense float32 work. Which
    one is faster depends on the CPU: MKL's ``torch.mm`` ran at half of oneDNN's rate
    (the library and layout the U-Nets' convolutions run on) on an AVX-512 AMD EPYC."""
    import torch
    import torch.nn.functional as F

    a = torch.randn(n, n)
    b = torch.randn(n, n)
    c = torch.empty(n, n)
    x, w = as_conv(a, b)
    runs = {"blas": lambda: torch.mm(a, b, out=c), "onednn": lambda: F.conv2d(x, w)}
    rates = {}
    with torch.inference_mode():
        for name, run in runs.items():
            run()  # warm-up
            best = float("inf")
            t_end = time.perf_counter() + seconds / 2
            while True:
                t0 = time.perf_counter()
                run()
                best = min(best, time.perf_counter() - t0)
                if time.perf_counter() > t_end:
                    break
            rates[name] = 2.0 * n**3 / best
    return rates


def as_conv(a, b):
    """``(x, w)`` with ``conv2d(x, w)[0, :, :, 0] == a @ b``: `b` as a channels-last
    ``(1, k, n, 1)`` input, `a` as ``(m, k, 1, 1)`` 1x1 filters."""
    import torch

    x = b[None, :, :, None].contiguous(memory_format=torch.channels_last)
    return x, a[:, :, None, None].contiguous()
