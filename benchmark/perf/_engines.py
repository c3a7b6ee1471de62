"""U-Net inference choices on the CPU, side by side (``field2048.py --engines``).

Every choice predicts the same field with the same weights (random, batch norm folded as
in :meth:`bench.methods.unet.UNetMethod.predict_probs`); the choices are timed in turns,
round after round, in one process, so a busy machine slows all of them alike. Each row
gives the best time, the convolution GFLOP of the tiles run, the achieved GFLOP/s,
its fraction of the float32 matmul peak measured in the same process (the best of
BLAS and oneDNN), and the largest
absolute difference of its softmax probabilities from eager PyTorch with predict's
settings.
"""

from __future__ import annotations

import time

import numpy as np

from _forward import count_flops, matmul_rates

__all__ = ["compare_engines"]


class _Contiguous:
    """Calls `model` on a contiguous (NCHW) copy of its input."""

    def __init__(self, model):
        self.model = model

    def __call__(self, x):
        return self.model(x.contiguous())


def _field(size: int) -> np.ndarray:
    from bench.data.synthetic import make_lyso

    img = make_lyso(10_000, shape=(size, size)).image.astype(np.float32)
    lo, hi = np.percentile(img, [1, 99.8])
    return np.moveaxis((img - lo) / max(hi - lo, 1e-6), -1, 0)  # (C, Y, X)


def compare_engines(nets: list[str], *, size: int = 2048, repeats: int = 2, compile_: bool = True) -> list[dict]:
    import torch

    from bench.methods.unet._model import UNet, fused_for_inference
    from bench.methods.unet._tiling import predict_tiled

    threads = torch.get_num_threads()
    rates = matmul_rates()
    peak = max(rates.values())
    x = _field(size)
    rows = []
    print(f"U-Net inference on one {size}x{size} field, {threads} threads; float32 matmul peak "
          f"{peak / 1e9:.1f} GFLOP/s, the best of BLAS ({rates['blas'] / 1e9:.1f}) and oneDNN "
          f"({rates['onednn'] / 1e9:.1f}), same process")
    print("| net | choice | best s | GFLOP | GFLOP/s | of peak | max abs diff vs eager | note |")
    print("|---|---|---|---|---|---|---|---|")
    for spec in nets:
        depth, features = (int(v) for v in spec.split("x"))
        torch.manual_seed(0)
        model = UNet(x.shape[0], 3, depth=depth, features=features).eval()
        fused = fused_for_inference(model, channels_last=True)  # as predict builds it on the CPU
        plain = fused_for_inference(model)  # weights in the default (NCHW) layout
        multiple = 2 ** (depth - 1)

        def tiled(m, tile=1024, overlap=64):
            return lambda: predict_tiled(m, x, n_classes=3, multiple=multiple, tile=tile, overlap=overlap,
                                         device=torch.device("cpu"))

        choices: dict[str, tuple] = {
            "eager (predict: fused, channels-last, tile 1024)": (tiled(fused), fused, ""),
            "eager, NCHW weights (converted at each call)": (tiled(plain), plain, ""),
            "eager, unfused batch norm": (tiled(model), model, ""),
            "eager, contiguous NCHW": (tiled(_Contiguous(plain)), plain, ""),
            "eager, tile 512": (tiled(fused, 512), fused, "other blending"),
            "eager, whole field as one tile": (tiled(fused, max(size, 1024)), fused, "other blending"),
        }
        notes = {}
        # TorchScript trace + freeze on the tile shape predict uses
        try:
            from bench.methods.unet._tiling import tile_size

            th = tile_size(size, 1024, 64, multiple)
            ex = torch.zeros(1, x.shape[0], th, th).contiguous(memory_format=torch.channels_last)
            with torch.inference_mode():
                t0 = time.perf_counter()
                jit = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(fused, ex)))
                jit(ex)
                jit(ex)
            choices["TorchScript trace+freeze"] = (tiled(jit), fused, f"prep {time.perf_counter() - t0:.1f} s")
        except Exception as exc:  # a choice that fails is reported, not fatal
            notes["TorchScript trace+freeze"] = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
        if compile_:
            try:
                comp = torch.compile(fused, dynamic=False)
                t0 = time.perf_counter()
                tiled(comp)()  # compilation
                choices["torch.compile"] = (tiled(comp), fused, f"compile {time.perf_counter() - t0:.0f} s")
            except Exception as exc:
                notes["torch.compile"] = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
        else:
            notes["torch.compile"] = "skipped (--no-compile)"
        try:
            import onnxruntime  # noqa: F401

            notes["ONNX Runtime"] = "installed but not wired in"
        except ImportError:
            notes["ONNX Runtime"] = "not installed (not tried)"

        ref = choices["eager (predict: fused, channels-last, tile 1024)"][0]()
        best = {k: float("inf") for k in choices}
        one_thread = float("inf")
        for _ in range(repeats):
            for k, (fn, _, _) in choices.items():
                t0 = time.perf_counter()
                fn()
                best[k] = min(best[k], time.perf_counter() - t0)
            torch.set_num_threads(1)
            try:
                t0 = time.perf_counter()
                choices["eager (predict: fused, channels-last, tile 1024)"][0]()
                one_thread = min(one_thread, time.perf_counter() - t0)
            finally:
                torch.set_num_threads(threads)
        for k, (fn, counted, note) in choices.items():
            # operations of the tiles this choice runs (the modules it wraps carry the hooks)
            tile = {"eager, tile 512": 512, "eager, whole field as one tile": max(size, 1024)}.get(k, 1024)
            with count_flops(counted) as c:
                tiled(counted, tile)()
            diff = float(np.abs(fn() - ref).max())
            row = {"net": spec, "choice": k, "s": best[k], "gflop": c["flops"] / 1e9,
                   "gflops": c["flops"] / best[k] / 1e9, "of_peak": c["flops"] / best[k] / peak, "diff": diff,
                   "note": note}
            rows.append(row)
            print(f"| {spec} | {k} | {row['s']:.2f} | {row['gflop']:.0f} | {row['gflops']:.1f} | {row['of_peak']:.0%} "
                  f"| {diff:.1e} | {note} |", flush=True)
        g = rows[-len(choices)]["gflop"]
        print(f"| {spec} | eager, 1 thread | {one_thread:.2f} | {g:.0f} | {g / one_thread:.1f} | "
              f"{g * 1e9 / one_thread / peak:.0%} of the {threads}-thread peak | 0 | |")
        for k, v in notes.items():
            print(f"| {spec} | {k} | – | – | – | – | – | {v} |")
    return rows
