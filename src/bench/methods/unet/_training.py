"""Training pieces of the U-Net: budgets, patch sampling, losses, the loop (PyTorch)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from ...progress import progress_bar

from ._augment import Augmentation, augment_batch

__all__ = ["Budget", "budget_for", "PatchSampler", "class_weights", "generalised_dice_loss", "train_loop"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    """How a U-Net is trained.

    Attributes
    ----------
    iterations : int
        Optimiser steps.
    batch : int
        Patches per step.
    patch : int
        Side of the square training patches (working-scale pixels; rounded up
        to a multiple of ``2**(depth-1)``).
    optimizer : {"adam", "sgd"}
    lr : float
        Initial learning rate.
    lr_drops : tuple of (int, float)
        ``(iteration, factor)``: from that iteration on, the rate is multiplied by factor
        (cumulative).
    momentum, weight_decay : float
        SGD momentum and L2 penalty (weight decay) of the optimiser.
    """

    iterations: int
    batch: int
    patch: int
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_drops: tuple[tuple[int, float], ...] = ()
    momentum: float = 0.9
    weight_decay: float = 0.0

    def lr_at(self, iteration: int) -> float:
        """Learning rate used at step `iteration` (0-based).

        >>> Budget(10, 1, 64, lr=1.0, lr_drops=((3, 0.5), (6, 0.5))).lr_at(7)
        0.25
        """
        lr = self.lr
        for at, factor in self.lr_drops:
            if iteration >= at:
                lr *= factor
        return lr


#: Quick profile: a fixed number of Adam steps on 128 px patches, the same within each
#: paper's comparison (LysoQuant compared its architectures at equal iterations).
#: "lysoquant": chosen so that the widest preset, unet5x64, fits in about 3 min on 2 CPU
#: cores (185 s measured on synth-lyso, 2.7 s per step) while unet7x16 still learns: test
#: F1 on synth-lyso 0.895 after 64 steps, 0.951 after 72 or 80, 0.78 with 2 patches per
#: step, 0.62 after 40. "cdl" (the 5x16 MDL / CDL presets, 4-5 times cheaper per step):
#: 128 steps, as 64 left MDL under-trained on GOWT1 (test F1 0.527 after 64 steps,
#: 0.916 after 128, in 42 s on 2 cores).
QUICK_ITERATIONS = {"lysoquant": 64, "cdl": 128}
CI_ITERATIONS = 6
#: LysoQuant (Morone et al. 2020): 3e5 iterations, learning rate 1e-4, then 5e-5.
LYSOQUANT_ITERATIONS = 300_000
#: CDL / MDL: 15 epochs of SGD (momentum 0.9, L2 1e-3), lr 1e-3 x 0.8 every 3 epochs.
CDL_EPOCHS = 15


def budget_for(
    profile: str, recipe: str, *, iterations: int | None, patches_per_epoch: int
) -> Budget:
    """The training budget of a profile ("ci", "quick", "full") and recipe ("lysoquant", "cdl").

    `patches_per_epoch` (patches of the full-profile size needed to cover the
    training images once) defines an epoch for the CDL recipe. `iterations`,
    when given, overrides the step count (and scales the learning-rate drops).

    >>> budget_for("quick", "lysoquant", iterations=None, patches_per_epoch=10).iterations
    64
    >>> budget_for("quick", "cdl", iterations=None, patches_per_epoch=10).iterations
    128
    >>> b = budget_for("full", "cdl", iterations=None, patches_per_epoch=80)
    >>> b.iterations, b.lr_drops[:2]
    (150, ((30, 0.8), (60, 0.8)))
    """
    if profile == "ci":
        b = Budget(CI_ITERATIONS, batch=2, patch=64, lr=2e-3)
    elif profile == "quick":
        if recipe not in QUICK_ITERATIONS:
            raise ValueError(f"unknown profile/recipe {profile!r}/{recipe!r}")
        n = QUICK_ITERATIONS[recipe]
        b = Budget(n, batch=4, patch=128, lr=2e-3, lr_drops=((int(0.75 * n), 0.2),))
    elif profile == "full" and recipe == "lysoquant":
        n = LYSOQUANT_ITERATIONS
        b = Budget(n, batch=1, patch=512, lr=1e-4, lr_drops=((n // 2, 0.5),))
    elif profile == "full" and recipe == "cdl":
        batch = 8
        per_epoch = max(1, math.ceil(patches_per_epoch / batch))
        b = Budget(
            CDL_EPOCHS * per_epoch, batch=batch, patch=256, optimizer="sgd", lr=1e-3,
            lr_drops=tuple((e * per_epoch, 0.8) for e in range(3, CDL_EPOCHS, 3)),
            momentum=0.9, weight_decay=1e-3,
        )
    else:
        raise ValueError(f"unknown profile/recipe {profile!r}/{recipe!r}")
    if iterations is not None and iterations != b.iterations:
        f = iterations / b.iterations
        drops = tuple((int(at * f), fac) for at, fac in b.lr_drops)
        b = Budget(iterations, b.batch, b.patch, b.optimizer, b.lr, drops, b.momentum, b.weight_decay)
    return b


class PatchSampler:
    """Random square patches of training images and their targets.

    Images are chosen with probability proportional to their area; half of the
    patches are centred on a random object pixel (target > 0), the others
    anywhere. Images smaller than the patch are reflect-padded once.

    Parameters
    ----------
    images : list of (C, Y, X) float32 arrays
    targets : list of (Y, X) int64 arrays
    patch : int
    """

    def __init__(self, images: Sequence[np.ndarray], targets: Sequence[np.ndarray], patch: int):
        if not images or len(images) != len(targets):
            raise ValueError(f"need as many targets as images (>0), got {len(images)} and {len(targets)}")
        self.patch = patch
        self.images, self.targets, self.fg = [], [], []
        for x, t in zip(images, targets):
            py, px = max(0, patch - x.shape[1]), max(0, patch - x.shape[2])
            if py or px:
                mode = "reflect" if py < x.shape[1] and px < x.shape[2] else "symmetric"
                x = np.pad(x, ((0, 0), (0, py), (0, px)), mode=mode)
                t = np.pad(t, ((0, py), (0, px)), mode=mode)
            self.images.append(np.ascontiguousarray(x, np.float32))
            self.targets.append(np.ascontiguousarray(t, np.int64))
            fg = np.flatnonzero(t.ravel() > 0)
            if fg.size > 20000:
                fg = fg[:: fg.size // 20000 + 1]
            self.fg.append(fg)
        area = np.array([t.size for t in self.targets], float)
        self.p = area / area.sum()

    def batch(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` patches: images ``(n, C, P, P)`` float32 and targets ``(n, P, P)`` int64."""
        P = self.patch
        xs, ts = [], []
        for i in rng.choice(len(self.images), size=n, p=self.p):
            x, t, fg = self.images[i], self.targets[i], self.fg[i]
            h, w = t.shape
            if fg.size and rng.random() < 0.5:
                cy, cx = divmod(int(fg[rng.integers(fg.size)]), w)
                y0 = int(np.clip(cy - P // 2 + rng.integers(-P // 4, P // 4 + 1), 0, h - P))
                x0 = int(np.clip(cx - P // 2 + rng.integers(-P // 4, P // 4 + 1), 0, w - P))
            else:
                y0, x0 = int(rng.integers(0, h - P + 1)), int(rng.integers(0, w - P + 1))
            xs.append(x[:, y0 : y0 + P, x0 : x0 + P])
            ts.append(t[y0 : y0 + P, x0 : x0 + P])
        return np.stack(xs), np.stack(ts)


def class_weights(targets: Sequence[np.ndarray], n_classes: int) -> np.ndarray:
    """Median-frequency balancing weights (Eigen & Fergus, 2015), clipped to [0.1, 10].

    ``w_c = median(f) / f_c`` over the classes present (``f_c``: pixel
    frequency of class c in the training targets); absent classes get 1.

    >>> class_weights([np.array([0, 0, 0, 1])], 3).tolist()
    [0.6666666666666666, 2.0, 1.0]
    """
    counts = np.zeros(n_classes, float)
    for t in targets:
        counts += np.bincount(t.ravel(), minlength=n_classes)[:n_classes]
    f = counts / counts.sum()
    present = f > 0
    w = np.ones(n_classes)
    w[present] = np.clip(np.median(f[present]) / f[present], 0.1, 10.0)
    return w


def generalised_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Generalised Dice loss (Sudre et al., 2017) of softmax(`logits`) against `target`.

    ``GDL = 1 - 2 sum_l w_l sum_n r_ln p_ln / sum_l w_l sum_n (r_ln + p_ln)``
    with ``w_l = 1 / (sum_n r_ln)^2`` over the batch; the weight of a class
    absent from the batch is set to the largest weight of a present class
    (as MONAI does), so it is not infinite.

    >>> t = torch.tensor([[[0, 1], [1, 1]]])
    >>> perfect = 50.0 * F.one_hot(t, 2).permute(0, 3, 1, 2).float()
    >>> round(float(generalised_dice_loss(perfect, t)), 4)
    0.0
    """
    n = logits.shape[1]
    p = torch.softmax(logits, dim=1)
    r = F.one_hot(target, n).permute(0, 3, 1, 2).to(p.dtype)
    dims = (0, 2, 3)
    ref = r.sum(dims)
    w = 1.0 / (ref * ref).clamp(min=eps)
    present = ref > 0
    if present.any():
        w = torch.where(present, w, w[present].max())
    inter = (w * (r * p).sum(dims)).sum()
    union = (w * (r + p).sum(dims)).sum()
    return 1.0 - 2.0 * inter / union.clamp(min=eps)


def train_loop(
    model: torch.nn.Module,
    sampler: PatchSampler,
    budget: Budget,
    *,
    loss: str,
    weights: np.ndarray,
    augmentation: Augmentation | None,
    rng: np.random.Generator,
    device: torch.device,
    desc: str,
    checkpoints: Sequence[int] = (),
    on_checkpoint: Callable[[int, float], None] | None = None,
) -> dict:
    """Train `model` in place; return the history (loss per iteration, timing).

    After each step count in `checkpoints` (0 = before the first step),
    ``on_checkpoint(step, mean training loss since the previous checkpoint)``
    is called with the model in eval mode (its time is excluded from
    ``train_seconds`` and returned as ``checkpoint_seconds``).
    """
    w = torch.as_tensor(weights, dtype=torch.float32, device=device)
    params = [p for p in model.parameters() if p.requires_grad]
    if budget.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=budget.lr, weight_decay=budget.weight_decay)
    elif budget.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=budget.lr, momentum=budget.momentum, weight_decay=budget.weight_decay)
    else:
        raise ValueError(f"unknown optimizer {budget.optimizer!r}")
    history: list[float] = []
    marks = set(int(c) for c in checkpoints) if on_checkpoint is not None else set()
    spent = 0.0
    last = 0

    def checkpoint(step: int) -> None:
        nonlocal spent, last
        c0 = time.perf_counter()
        model.eval()
        chunk = history[last:step]
        with torch.no_grad():
            on_checkpoint(step, float(np.mean(chunk)) if chunk else float("nan"))
        model.train()
        last = step
        spent += time.perf_counter() - c0

    model.train()
    t0 = time.perf_counter()
    if 0 in marks:
        checkpoint(0)
    for it in progress_bar(range(budget.iterations), desc=desc, leave=False, unit="it"):
        for g in opt.param_groups:
            g["lr"] = budget.lr_at(it)
        x, y = sampler.batch(budget.batch, rng)
        xt = torch.from_numpy(x).to(device)
        yt = torch.from_numpy(y).to(device)
        if augmentation is not None:
            xt, yt = augment_batch(xt, yt, rng=rng, config=augmentation)
        logits = model(xt)
        if loss == "ce":
            value = F.cross_entropy(logits, yt, weight=w)
        elif loss == "gdice":
            value = generalised_dice_loss(logits, yt)
        elif loss == "ce+gdice":
            value = F.cross_entropy(logits, yt, weight=w) + generalised_dice_loss(logits, yt)
        else:
            raise ValueError(f"unknown loss {loss!r}")
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        history.append(float(value.detach()))
        if not math.isfinite(history[-1]):
            raise FloatingPointError(f"{desc}: the training loss became {history[-1]} at iteration {it}")
        if it + 1 in marks:
            checkpoint(it + 1)
    model.eval()
    return {"loss": [round(v, 6) for v in history], "train_seconds": round(time.perf_counter() - t0 - spent, 3),
            "checkpoint_seconds": round(spent, 3)}
