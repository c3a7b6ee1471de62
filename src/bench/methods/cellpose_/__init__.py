"""Cellpose 3 (``cellpose``): trained from scratch, or pretrained zero-shot / fine-tuned.

The package is called ``cellpose_`` so that it never shadows the ``cellpose``
library; torch and cellpose are imported only inside the method's functions,
and pretrained weights are read from disk only (:mod:`.weights`).
"""

from .method import PROFILES, CellposeMethod, CellposeParams, choose_channels, to_cellpose_planes
from .weights import PRETRAINED_FILES, find_pretrained, search_dirs, weights_reason

__all__ = [
    "PROFILES",
    "CellposeMethod",
    "CellposeParams",
    "choose_channels",
    "to_cellpose_planes",
    "PRETRAINED_FILES",
    "find_pretrained",
    "search_dirs",
    "weights_reason",
]
