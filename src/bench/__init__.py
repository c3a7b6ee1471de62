"""bench: an open benchmark for segmenting autophagy, lysosome and cell microscopy images.

Modules, in the direction their dependencies point:
``data -> splits -> methods -> runner -> results -> leaderboard / viz -> cli``;
``metrics`` depends only on numpy and scipy.
"""

__version__ = "0.1.0"
