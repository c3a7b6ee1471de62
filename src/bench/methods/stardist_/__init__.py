"""StarDist2D trained from scratch (``stardist``).

The package is called ``stardist_`` so that it never shadows the ``stardist``
library; TensorFlow and StarDist are imported only inside the method's
functions.
"""

from .method import PROFILES, StarDistMethod, StarDistParams, choose_grid, working_scale

__all__ = ["PROFILES", "StarDistMethod", "StarDistParams", "choose_grid", "working_scale"]
