"""``bench score``: score a folder of someone's own predictions, so any method can join.

Predicted label images are files named after the sample they segment
(``<sample>.tif``, ``.tiff`` or ``.png``; 0 = background; instance ids, or a
binary mask split into 8-connected components; for a semantic dataset, pixel
class ids). An optional ``classes.json`` (``{sample: {label: class id}}``) adds
per-object classes. This is exactly what :meth:`Experiment.save
<bench.runner.experiment.Experiment.save>` writes under ``predictions/``.

The truth is either a split of a registered dataset (``dataset=``, ``split=``)
or a folder of true label images with the same names (``true_dir=``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ..data import DatasetInfo, Sample, get_dataset
from ..data.io import IMAGE_SUFFIXES, DataError, binary_to_instances
from ..methods import Prediction
from ..results import write_json, write_table
from ..scoring import Scores, score_predictions
from .provenance import now
from ..splits import iter_split, load_test_truth

__all__ = ["read_prediction", "score_folder", "save_external"]

logger = logging.getLogger(__name__)


def _read_int_image(path: Path) -> np.ndarray:
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        arr = tifffile.imread(path)
    else:
        from PIL import Image

        with Image.open(path) as im:
            arr = np.asarray(im)
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and np.all(arr[..., :3] == arr[..., :1]):
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise DataError(f"{path}: a label image must be 2D, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool:
        raise DataError(f"{path}: a label image must hold integers, got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise DataError(f"{path}: negative labels (min {arr.min()})")
    if arr.size and arr.max() > np.iinfo(np.int32).max:
        raise DataError(f"{path}: labels exceed int32")
    return arr.astype(np.int32)


def read_prediction(path: str | Path, *, semantic: bool = False) -> np.ndarray:
    """Read a predicted label image as ``(Y, X)`` int32, keeping its label values.

    A mask holding 0 and a single other value is treated as binary and split into
    8-connected components (unless `semantic`).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: prediction file does not exist")
    arr = _read_int_image(path)
    if not semantic:
        values = np.unique(arr)
        if values.size <= 2 and (values.size < 2 or values[0] == 0):
            arr = binary_to_instances(arr)
    return arr


def _index(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
            if p.stem in out:
                raise DataError(f"{folder}: two files for sample {p.stem!r}: {out[p.stem].name}, {p.name}")
            out[p.stem] = p
    return out


def _truth_from_folder(true_dir: Path) -> tuple[list[Sample], DatasetInfo]:
    files = _index(true_dir)
    if not files:
        raise DataError(f"{true_dir}: no label images ({', '.join(IMAGE_SUFFIXES)})")
    samples = []
    for stem, p in files.items():
        labels = read_prediction(p)
        # scoring reads only the labels; the image is a placeholder of the right shape
        samples.append(Sample(name=stem, image=np.zeros((*labels.shape, 1), np.float32), channels=("none",),
                              labels=labels, meta={"source": str(p)}))
    info = DatasetInfo(name=f"folder:{true_dir}", tasks=("instance",), channels=("none",), source="folder",
                       description=f"true label images from {true_dir}")
    return samples, info


def score_folder(
    pred_dir: str | Path,
    *,
    true_dir: str | Path | None = None,
    dataset: str | None = None,
    split: str = "test",
) -> tuple[Scores, DatasetInfo]:
    """Score the predicted label images in `pred_dir`.

    Parameters
    ----------
    pred_dir : str or Path
        Folder of predicted label images named ``<sample>.<ext>``.
    true_dir : str or Path, optional
        Folder of true label images with the same names (instance task).
    dataset : str, optional
        A registered dataset whose `split` is the truth (exactly one of
        `true_dir` and `dataset`).
    split : {"test", "val"}, optional
        Split of `dataset`.

    Returns
    -------
    scores : Scores
    info : DatasetInfo
        The card of the truth's dataset.

    Raises
    ------
    DataError
        If a sample has no prediction file, or a file cannot be read.
    ValueError
        If both or neither of `true_dir` and `dataset` are given.
    """
    pred_dir = Path(pred_dir)
    if (true_dir is None) == (dataset is None):
        raise ValueError("give exactly one of `true_dir` and `dataset`")
    if not pred_dir.is_dir():
        raise DataError(f"{pred_dir}: prediction folder does not exist")
    if dataset is not None:
        if split not in ("test", "val"):
            raise ValueError(f"`split` must be 'test' or 'val', got {split!r}")
        info = get_dataset(dataset).info
        truth = load_test_truth(dataset) if split == "test" else list(iter_split(dataset, "val"))
    else:
        true_dir = Path(true_dir)
        if not true_dir.is_dir():
            raise DataError(f"{true_dir}: truth folder does not exist")
        truth, info = _truth_from_folder(true_dir)
    files = _index(pred_dir)
    missing = [s.name for s in truth if s.name not in files]
    if missing:
        raise DataError(
            f"{pred_dir}: no prediction for {len(missing)} of {len(truth)} sample(s), e.g. {missing[:5]}; "
            f"name each file after its sample (<sample>.tif)"
        )
    extra = sorted(set(files) - {s.name for s in truth})
    if extra:
        logger.warning("%s: %d file(s) match no sample of the truth and are ignored: %s", pred_dir, len(extra), extra[:5])
    classes_path = pred_dir / "classes.json"
    classes = json.loads(classes_path.read_text()) if classes_path.is_file() else {}
    semantic = "semantic" in info.tasks
    preds = []
    for s in truth:
        labels = read_prediction(files[s.name], semantic=semantic)
        if labels.shape != s.shape:
            raise DataError(f"{files[s.name]}: shape {labels.shape} differs from sample {s.name!r} shape {s.shape}")
        cls = classes.get(s.name)
        preds.append(Prediction(labels=labels, classes={int(k): int(v) for k, v in cls.items()} if cls else None))
    return score_predictions(truth, preds, info=info), info


def save_external(
    scores: Scores,
    out_dir: str | Path,
    *,
    method_id: str,
    dataset: str,
    split: str = "test",
    seed: int = 0,
    source: str = "",
) -> Path:
    """Write `scores` as a cell folder (``tables/``, ``cell.json``) under `out_dir`.

    With `out_dir` = ``<run>/cells/<cell id>`` the outside method joins that run's
    leaderboard (status ``ok``, method ``external``).
    """
    out = Path(out_dir)
    keys = {"dataset": dataset, "split": split, "method_id": method_id, "method": "external", "seed": seed,
            "profile": "external"}
    n_images = 0
    for name, df in scores.tables.items():
        df = df.copy()
        if name == "images":
            df["predict_s"] = np.nan
            n_images = len(df)
        for i, (k, v) in enumerate(keys.items()):
            df.insert(i, k, v)
        write_table(out / "tables" / f"{name}.csv", df)
    record = {"cell_id": out.name, "status": "ok", "reason": "", **keys, "params": {}, "limit": None,
              "tasks": [t for t in scores.tables], "n_images": n_images, "fit_s": None,
              "predict_s_per_image": None, "predict_s_total": None, "peak_mem_mb": None, "wall_s": None,
              "notebook": "", "executed_notebook": "", "cache_key": "", "source": source,
              "started": now(), "finished": now()}
    write_json(out / "cell.json", record)
    return out

