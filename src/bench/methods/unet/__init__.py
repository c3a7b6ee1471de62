"""U-Net methods (PyTorch): ``unet`` and its presets ``unet5x64``, ``unet7x16``
(LysoQuant's two architectures), ``unet_mdl`` and ``unet_cdl`` (curated vs
conventional-pipeline training labels).

torch is imported only when a U-Net is fitted, loaded or run.
"""

from .method import UNetMethod, UNetParams

__all__ = ["UNetMethod", "UNetParams"]
