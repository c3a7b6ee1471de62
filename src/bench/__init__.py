"""bench: an open benchmark for segmenting autophagy, lysosome and cell microscopy images.

Modules, in the direction their dependencies point:
``data -> splits -> methods -> runner -> results -> leaderboard / viz -> cli``;
``metrics`` depends only on numpy and scipy. The scoring protocol's constants
(:mod:`bench.protocol`) sit below both :mod:`bench.results` and :mod:`bench.scoring`,
which uses the former's aggregation. :mod:`bench.cli` holds the command table and
imports a command's module (:mod:`bench.commands`, :mod:`bench.runner.cli`,
:mod:`bench.book.cli`) only when that command runs. ``tests/test_import_graph.py``
keeps module-level imports free of cycles and counts the late ones.
"""

__version__ = "0.1.0"
