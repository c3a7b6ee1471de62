"""Cellpose 3 (``cellpose``): trained from scratch, or pretrained zero-shot / fine-tuned.

``bench.methods.cellpose`` never shadows the ``cellpose`` library: imports are
absolute, so ``import cellpose`` inside this package is the library. torch and
cellpose are imported only inside the method's functions, and pretrained
weights are read from disk only (:mod:`.weights`).
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
