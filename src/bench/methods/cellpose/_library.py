"""Calls into the ``cellpose`` library: its import without its known warnings, and its
masks for many thresholds at once (imports absolute: ``cellpose`` is the library)."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

__all__ = ["MIN_SIZE", "MAX_SIZE_FRACTION", "import_cellpose", "masks_for_thresholds"]

#: Cellpose's minimum mask size (px) and largest mask as a fraction of the image.
MIN_SIZE = 15
MAX_SIZE_FRACTION = 0.4


@contextlib.contextmanager
def _known_warnings():
    """Silence the known third-party warnings of Cellpose 3 under torch 2.x (and only those)."""
    with warnings.catch_warnings():
        # dynamics.py builds sparse tensors without opting in or out of invariant checks
        warnings.filterwarnings("ignore", message=r"Sparse invariant checks are implicitly disabled", category=UserWarning)
        # importing cellpose pulls in code decorated with torch.jit.script_method
        warnings.filterwarnings("ignore", message=r"`torch.jit.script_method` is deprecated", category=DeprecationWarning)
        yield


def import_cellpose():
    """``(cellpose.models, cellpose.train, cellpose.dynamics)``, imported without their known warnings."""
    with _known_warnings():
        from cellpose import dynamics, models
        from cellpose import train as cp_train
    return models, cp_train, dynamics


def masks_for_thresholds(
    dP, cellprob, *, niter: int, cellprob_thresholds, flow_thresholds, device=None,
    resize: tuple[int, int] | None = None,
) -> dict:
    """Cellpose's masks for every (flow, cellprob) threshold pair, as ``{(flow, cellprob): int32 labels}``.

    The same masks as ``cellpose.dynamics.resize_and_compute_masks`` (with
    its `resize`: nearest-neighbour to ``(Ly, Lx)`` before small masks are
    removed; ``min_size`` = :data:`MIN_SIZE`) for each pair, computed with one
    run of the flow dynamics and one flow-error check per cellprob threshold
    instead of one per pair: the flow threshold only removes masks whose flow
    error exceeds it, so it is applied last, to a copy.
    """
    _, _, dynamics = import_cellpose()
    import cv2
    from cellpose import metrics as cp_metrics
    from cellpose import transforms as cp_transforms
    from cellpose import utils as cp_utils

    import torch

    device = device if device is not None else torch.device("cpu")
    out = {}
    for ct in cellprob_thresholds:
        with _known_warnings():
            base = dynamics.compute_masks(dP, cellprob, niter=niter, cellprob_threshold=ct, flow_threshold=0.0,
                                          interp=True, max_size_fraction=MAX_SIZE_FRACTION, device=device)
            merrors = cp_metrics.flow_error(base, dP, device)[0] if base.max() > 0 else np.zeros(0)
        for ft in flow_thresholds:
            m = base.copy()
            if m.max() > 0 and ft is not None and ft > 0:
                m[np.isin(m, 1 + np.nonzero(merrors > ft)[0])] = 0
            if resize is not None and tuple(m.shape) != tuple(resize):
                m = cp_transforms.resize_image(m, resize[0], resize[1], no_channels=True,
                                               interpolation=cv2.INTER_NEAREST)
            with _known_warnings():
                m = cp_utils.fill_holes_and_remove_small_masks(m, min_size=MIN_SIZE)
            out[(ft, ct)] = np.asarray(m, np.int32)
    return out
