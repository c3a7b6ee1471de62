"""Physically modelled synthetic microscopy images with exact ground truth.

Three generators, each deterministic in its seed and with an ``"easy"`` and a
``"realistic"`` (default) difficulty:

* :func:`make_lyso` -- LysoQuant-like LAMP1 endolysosomes, empty or loaded
  with cargo (instances + classes);
* :func:`make_cells` -- CELLULAR-like fields of S2 cells with the tandem
  mRFP-EGFP-Atg8a reporter and transmitted light (cell instances + classes,
  or puncta instances + classes);
* :func:`make_rosella` -- Rosella-like two-colour pH reporter (semantic
  background / phagophore / autolysosome).

Images are ``(Y, X, C)`` float32 in units of the camera's full scale (never
min/max normalised); labels are int32, 0 = background, consecutive from 1.
:data:`GENERATOR_VERSION` changes whenever any output changes.
"""

from ._version import GENERATOR_VERSION
from .cells import CELL_CLASS_NAMES, CELLS_CHANNELS, PUNCTA_CLASS_NAMES, make_cells
from .lyso import LYSO_CHANNELS, LYSO_CLASS_NAMES, make_lyso
from .rosella import ROSELLA_CHANNELS, ROSELLA_SEMANTIC_NAMES, make_rosella

__all__ = [
    "GENERATOR_VERSION",
    "make_lyso",
    "make_cells",
    "make_rosella",
    "LYSO_CHANNELS",
    "LYSO_CLASS_NAMES",
    "CELLS_CHANNELS",
    "CELL_CLASS_NAMES",
    "PUNCTA_CLASS_NAMES",
    "ROSELLA_CHANNELS",
    "ROSELLA_SEMANTIC_NAMES",
]
