"""Forward-pass operation counts and a float32 matmul peak, for ``field2048.py``.

Kept apart from the timing script so that tests can check the count against
:func:`bench.methods.unet._model.train_flops` and the hooks against a hand count.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

__all__ = ["conv_flops", "count_flops", "matmul_peak"]


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


def matmul_peak(n: int = 2048, seconds: float = 2.0) -> float:
    """Best float32 FLOP/s of ``n x n`` matrix products (torch, the current thread
    count) over about `seconds`: the machine's practical peak for dense float32 work."""
    import torch

    a = torch.randn(n, n)
    b = torch.randn(n, n)
    c = torch.empty(n, n)
    torch.mm(a, b, out=c)  # warm-up
    best = float("inf")
    t_end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() > t_end:
            break
    return 2.0 * n**3 / best
