"""StarDist2D trained from scratch (``stardist``).

``bench.methods.stardist`` never shadows the ``stardist`` library: imports are
absolute, so ``import stardist`` inside this package is the library.
TensorFlow and StarDist are imported only inside the method's functions.
"""

from .method import PROFILES, StarDistMethod, StarDistParams, choose_grid, working_scale

__all__ = ["PROFILES", "StarDistMethod", "StarDistParams", "choose_grid", "working_scale"]
