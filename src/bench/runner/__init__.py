"""The benchmark runner: notebooks executed by papermill over methods x datasets x seeds.

* :class:`Experiment` -- what a method notebook calls (fit, predict, score, save);
* :func:`load_config` / :func:`run_config` -- ``bench run CONFIG`` (cached,
  resumable, local or on Dask);
* :func:`score_folder` -- ``bench score``: someone's own predictions against a split.

Results are read back with :func:`bench.results.load_run`.
"""

from .config import MethodEntry, RunConfig, load_config, parse_config
from .experiment import PROFILES, CellSkipped, Experiment, make_method
from .external import read_prediction, save_external, score_folder
from .run import RunReport, cell_id, default_run_id, plan_run, run_config

__all__ = [
    "CellSkipped",
    "Experiment",
    "MethodEntry",
    "PROFILES",
    "RunConfig",
    "RunReport",
    "cell_id",
    "default_run_id",
    "load_config",
    "make_method",
    "parse_config",
    "plan_run",
    "read_prediction",
    "run_config",
    "save_external",
    "score_folder",
]
