"""Conventional and machine-learning methods: the LysoQuant Figure 1 line-up.

Registered methods (one module each): ``isodata_watershed``, ``auto_threshold``,
``random_forest``, ``svm``, ``hough`` and ``log_spots``. Shared parts:

* :mod:`~bench.methods.classical.common` -- the fit/tune/predict protocol
  (object sizes, working scale, channel choice, grid search by F1);
* :mod:`~bench.methods.classical.features` -- ilastik-like pixel features;
* :mod:`~bench.methods.classical.postprocess` -- probability / foreground maps
  to instances (threshold, hole filling, seeded watershed), rescaling, object
  statistics;
* :mod:`~bench.methods.classical.objects` -- :class:`ObjectClassifier`, the
  per-object classifier every method (deep ones included) can reuse for
  datasets with per-object classes.
"""
