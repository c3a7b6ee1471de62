"""Conventional and machine-learning methods: the LysoQuant Figure 1 line-up.

Registered methods (one module each): ``isodata_watershed``, ``auto_threshold``,
``random_forest``, ``svm``, ``hough`` and ``log_spots``. Shared parts:

* :mod:`~bench.methods.classical.method` -- :class:`ClassicalMethod`, the
  fit/tune/predict protocol (object sizes, working scale, channel choice,
  grid search by F1; the threshold-type methods tune on training images,
  the pixel classifiers on validation images: why, in its docstring), built from :mod:`.params`, :mod:`.planes` (image
  planes), :mod:`.channels` (``channel="auto"``), :mod:`.boxes` and
  :mod:`.tuning`;
* :mod:`~bench.methods.classical.features` -- ilastik-like pixel features;
* :mod:`~bench.methods.classical.postprocess` -- probability / foreground maps
  to instances (threshold, hole filling, seeded watershed).

Normalisation, rescaling, object statistics and the per-object classifier are
shared with the deep families: :mod:`bench.methods._shared`.
"""
