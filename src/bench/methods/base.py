"""The method interface and the registry of methods.

A method is a small class (STYLE.md, benchopt's solvers):

* declared, typed hyperparameters: a frozen dataclass ``Params``;
* a registry ``name`` and deterministic ids for parameter settings,
  ``unet[depth=7,features=16]``;
* ``skip(info) -> reason | None``: why it cannot run on a dataset here
  (wrong task, missing dependency, missing weights), recorded, never raised;
* ``fit(train, val, *, rng)``: learns or tunes on train/validation samples
  only (test labels never reach a method: see :mod:`bench.splits`);
* ``predict(image) -> (Y, X) int32 labels`` (0 = background; for a
  ``semantic`` dataset, the class of each pixel); optionally
  ``predict_classes(image, labels)`` for per-object classes and
  ``predict_scores(image, labels)`` for per-object confidences (COCO AP).
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import importlib.util
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ..data.sample import DatasetInfo, Sample

__all__ = [
    "Method",
    "RemembersScoredObjects",
    "image_digest",
    "Prediction",
    "parse_method_id",
    "UnknownMethodError",
    "MissingDependencyError",
    "check_labels",
    "format_method_id",
]


class UnknownMethodError(KeyError):
    """No method of that name is registered."""

    def __str__(self):
        return str(self.args[0])


class MissingDependencyError(ImportError):
    """A method's optional dependency is not installed; the message names the extra."""


@dataclass(frozen=True)
class Prediction:
    """What a method returns for one image.

    Attributes
    ----------
    labels : (Y, X) ndarray of int32
        Instance labels (or pixel classes for semantic datasets), 0 = background.
    classes : dict of int to int, optional
        Predicted class of each instance id.
    scores : dict of int to float, optional
        Confidence of each instance (for COCO-style AP).
    """

    labels: np.ndarray
    classes: Mapping[int, int] | None = None
    scores: Mapping[int, float] | None = None


@dataclass(frozen=True)
class NoParams:
    """A method without hyperparameters."""


def check_labels(labels: Any, shape: tuple[int, int], *, who: str) -> np.ndarray:
    """Validate a method's output: a ``(Y, X)`` int32 array of non-negative labels."""
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{who}: predict() must return an ndarray, got {type(labels).__name__}")
    if labels.shape != tuple(shape):
        raise ValueError(
            f"{who}: predicted labels (shape {labels.shape}) must have the image's shape {tuple(shape)}"
        )
    if labels.dtype != np.int32:
        raise TypeError(f"{who}: predicted labels must be int32, got {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{who}: predicted labels must be >= 0, got min {labels.min()}")
    return labels


def _image_array(image: Sample | np.ndarray) -> np.ndarray:
    if isinstance(image, Sample):
        return image.image
    if not isinstance(image, np.ndarray) or image.ndim != 3:
        raise ValueError(
            f"`image` must be a Sample or a (Y, X, C) array, got "
            f"{type(image).__name__} of shape {getattr(image, 'shape', None)}"
        )
    return image


def image_digest(image: np.ndarray) -> bytes:
    """A hash of an image's shape, dtype and pixels: the key of per-image caches.

    >>> a = np.zeros((2, 2, 1), np.float32)
    >>> image_digest(a) == image_digest(a.copy()), image_digest(a) == image_digest(a + 1)
    (True, False)
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(str((image.shape, image.dtype.str)).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.digest()


class RemembersScoredObjects:
    """Mixin for methods whose ``predict`` finds a score for each object on the way
    (StarDist's object probability, Cellpose's mean cell probability, SAM's IoU
    estimate), and whose classes come from an object classifier.

    ``predict`` ends with :meth:`_remember`; :meth:`predict_scores` then reuses the
    last image's scores instead of predicting again (it predicts again for another
    image, and refuses labels that are not this method's prediction).
    :meth:`predict_classes` asks ``self.classifier`` (an
    :class:`~bench.methods._shared.ObjectClassifier` fitted on the
    method's own objects, or ``None`` where the dataset has no classes).
    """

    _last: tuple[bytes, np.ndarray, dict[int, float]] | None = None
    classifier = None

    def _remember(self, image: np.ndarray, labels: np.ndarray, scores: dict[int, float]) -> None:
        self._last = (image_digest(image), labels, scores)

    def predict_scores(self, image: np.ndarray, labels: np.ndarray) -> dict[int, float]:
        if self._last is None or self._last[0] != image_digest(image) or not np.array_equal(self._last[1], labels):
            self.predict(image)
            if not np.array_equal(self._last[1], labels):
                raise ValueError(f"{self.name}: `labels` are not this model's prediction for `image`")
        return dict(self._last[2])

    def predict_classes(self, image: np.ndarray, labels: np.ndarray) -> dict[int, int] | None:
        if self.classifier is None:
            return None
        return self.classifier.predict(image, labels)


class Method(abc.ABC):
    """Base class of every segmentation method.

    Class attributes
    ----------------
    name : str
        Registry name.
    Params : dataclass type
        Hyperparameters, with defaults. Instances are frozen.
    tasks : tuple of str
        Tasks the method can solve (see :data:`bench.data.TASKS`). A method
        producing instances also serves ``detection`` datasets (boxes are
        taken from its instances) unless it says otherwise.
    requires : tuple of str
        Importable modules it needs; ``extra`` names the pip extra providing them.
    presets : dict
        Named parameter settings, registered as methods of their own name
        (``unet7x16`` -> ``unet[depth=7,features=16]``).
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type] = NoParams
    tasks: ClassVar[tuple[str, ...]] = ("instance", "classification", "detection")
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    #: short citation shown in the book
    reference: ClassVar[str] = ""

    def __init__(self, params: Any | None = None, **kwargs):
        if params is not None and kwargs:
            raise TypeError(f"{self.name}: pass either `params` or keyword parameters, not both")
        if params is None:
            params = _build_params(self.Params, kwargs, who=self.name)
        elif not isinstance(params, self.Params):
            raise TypeError(
                f"{self.name}: `params` must be {self.Params.__name__}, got {type(params).__name__}"
            )
        self.params = params
        self.channels: tuple[str, ...] | None = None
        self.fitted = False
        #: a trained method's learning curve (:class:`bench.curves.CurveRecorder`), set by ``fit``;
        #: None for methods that do not train
        self.learning_curve = None

    # ------------------------------------------------------------------ identity
    @property
    def id(self) -> str:
        """Deterministic id: ``name`` plus non-default parameters, sorted."""
        return format_method_id(self.name, self.param_dict(non_default=True))

    @property
    def label(self) -> str:
        """Name for progress bars and logs: the preset whose parameters these
        are exactly (``unet_mdl``, whose :attr:`id` is ``unet[recipe=cdl]``),
        else :attr:`id`."""
        mine = self.param_dict()
        for preset, params in sorted(self.presets.items()):
            theirs = self.Params(**params)
            if all(getattr(theirs, k) == v for k, v in mine.items()):
                return preset
        return self.id

    def param_dict(self, *, non_default: bool = False) -> dict[str, Any]:
        out = {}
        default = self.Params()
        for f in dataclasses.fields(self.params):
            v = getattr(self.params, f.name)
            if not non_default or v != getattr(default, f.name):
                out[f.name] = v
        return out

    def __repr__(self):
        return f"<method {self.id}>"

    # ------------------------------------------------------------- availability
    @classmethod
    def missing_dependencies(cls) -> list[str]:
        """Modules in :attr:`requires` that cannot be imported here."""
        return [m for m in cls.requires if importlib.util.find_spec(m) is None]

    @classmethod
    def dependency_reason(cls, *, probe: bool = False) -> str | None:
        """Why the dependencies cannot be used here (what is missing, what to install), or None.

        Must be cheap (the runner asks it for every cell); ``probe=True`` (``bench
        methods``) allows a slower, deeper check where a method has one.
        """
        missing = cls.missing_dependencies()
        if missing:
            hint = f" (pip install 'bench[{cls.extra}]')" if cls.extra else ""
            return f"missing dependency: {', '.join(missing)}{hint}"
        return None

    def weights_reason(self) -> str | None:
        """Why pretrained weights needed by these parameters are missing, else None."""
        return None

    def skip(self, info: DatasetInfo) -> str | None:
        """Why this method cannot run on dataset ``info`` here, or ``None``."""
        reason = self.dependency_reason()
        if reason:
            return reason
        if not set(info.tasks) & set(self.tasks):
            return f"{self.name} solves {list(self.tasks)}; dataset {info.name!r} has tasks {list(info.tasks)}"
        return self.weights_reason()

    # ---------------------------------------------------------------- learning
    def fit(self, train: Sequence[Sample], val: Sequence[Sample], *, rng=None) -> "Method":
        """Learn and tune on ``train`` and ``val`` (which carry ground truth).

        The default only records the channel names. Subclasses call
        ``super().fit(...)`` or :meth:`_check_fit_data` first.
        """
        self._check_fit_data(train, val)
        self.fitted = True
        return self

    def _check_fit_data(self, train, val) -> None:
        if len(train) == 0:
            raise ValueError(f"{self.name}: `train` is empty")
        channels = {s.channels for s in [*train, *val]}
        if len(channels) != 1:
            raise ValueError(f"{self.name}: samples have different channels: {sorted(channels)}")
        self.channels = train[0].channels

    @abc.abstractmethod
    def predict(self, image: np.ndarray) -> np.ndarray:
        """Segment one ``(Y, X, C)`` float32 image; return ``(Y, X)`` int32 labels."""

    def predict_classes(self, image: np.ndarray, labels: np.ndarray) -> dict[int, int] | None:
        """Class of each predicted object, or ``None`` if the method does not classify."""
        return None

    def predict_scores(self, image: np.ndarray, labels: np.ndarray) -> dict[int, float] | None:
        """Confidence of each predicted object, or ``None``."""
        return None

    def predict_full(self, image: Sample | np.ndarray) -> Prediction:
        """Labels, classes and scores for one image, with the output validated."""
        arr = _image_array(image)
        if self.channels is not None and arr.shape[2] != len(self.channels):
            raise ValueError(
                f"{self.name}: fitted on {len(self.channels)} channel(s) {self.channels}, "
                f"got an image with {arr.shape[2]}"
            )
        labels = check_labels(self.predict(arr), arr.shape[:2], who=self.id)
        return Prediction(
            labels=labels,
            classes=self.predict_classes(arr, labels),
            scores=self.predict_scores(arr, labels),
        )

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Save parameters and fitted state to folder ``path`` (``config.json`` + ``state``)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        config = {"method": self.name, "id": self.id, "params": _jsonable(self.param_dict()),
                  "channels": self.channels}
        (path / "config.json").write_text(json.dumps(config, indent=2))
        self._save_state(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Method":
        path = Path(path)
        try:
            config = json.loads((path / "config.json").read_text())
        except FileNotFoundError:
            raise ValueError(f"{path}: no config.json; not a saved method") from None
        from .registry import method_class  # cycle: the registry imports every method module, and they import this one

        klass = method_class(config["method"])
        m = klass(**_params_from_json(klass.Params, config["params"]))
        m.channels = tuple(config["channels"]) if config["channels"] else None
        m._load_state(path)
        m.fitted = True
        return m

    def _save_state(self, path: Path) -> None:
        """Write fitted state into folder ``path`` (default: nothing to save)."""

    def _load_state(self, path: Path) -> None:
        """Read what :meth:`_save_state` wrote."""


# ---------------------------------------------------------------------- params
def _jsonable(d: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _params_from_json(params_cls, d: dict):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def _coerce(value: Any, hint: Any, *, who: str, key: str) -> Any:
    """Convert ``value`` (often a string from an id or YAML) to the declared type."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            if type(None) in args:
                return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, who=who, key=key)
            except (TypeError, ValueError) as e:
                errors.append(str(e))
        raise ValueError(f"{who}: parameter `{key}`={value!r} matches none of {args}")
    if origin is typing.Literal:
        for a in args:
            if value == a or (isinstance(value, str) and str(a) == value):
                return a
        raise ValueError(f"{who}: parameter `{key}` must be one of {list(args)}, got {value!r}")
    if origin in (tuple, list):
        if isinstance(value, str):
            value = [v for v in re.split(r"[;|]", value.strip("()[]")) if v]
        inner = args[0] if args else str
        return tuple(_coerce(v, inner, who=who, key=key) for v in value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise ValueError(f"{who}: parameter `{key}` must be a bool, got {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise ValueError(f"{who}: parameter `{key}` must be an int, got {value!r}")
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{who}: parameter `{key}` must be an int, got {value!r}") from None
        if f != int(f):
            raise ValueError(f"{who}: parameter `{key}` must be an int, got {value!r}")
        return int(f)
    if hint is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{who}: parameter `{key}` must be a float, got {value!r}") from None
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{who}: parameter `{key}` must be a str, got {value!r}")
        return value
    return value


def _build_params(params_cls, kwargs: dict, *, who: str):
    fields = {f.name for f in dataclasses.fields(params_cls)}
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        raise ValueError(
            f"{who}: unknown parameter(s) {unknown}; known parameters: {sorted(fields) or 'none'}"
        )
    hints = typing.get_type_hints(params_cls)
    coerced = {k: _coerce(v, hints[k], who=who, key=k) for k, v in kwargs.items()}
    params = params_cls(**coerced)
    validate = getattr(params, "validate", None)
    if callable(validate):
        validate()
    return params


def format_method_id(name: str, params: Mapping[str, Any]) -> str:
    """``name[k1=v1,k2=v2]`` with keys sorted; just ``name`` without parameters.

    >>> format_method_id("unet", {"features": 16, "depth": 7})
    'unet[depth=7,features=16]'
    """
    if not params:
        return name

    def fmt(v):
        if isinstance(v, tuple):
            return "(" + ";".join(fmt(x) for x in v) + ")"
        if isinstance(v, float):
            return repr(v)
        return str(v)

    return f"{name}[" + ",".join(f"{k}={fmt(params[k])}" for k in sorted(params)) + "]"


_ID_RE = re.compile(r"^(?P<name>[A-Za-z0-9_\-]+)(?:\[(?P<params>.*)\])?$")


def parse_method_id(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``name[k=v,...]`` into the name and a dict of raw string values.

    >>> parse_method_id("unet[depth=7,features=16]")
    ('unet', {'depth': '7', 'features': '16'})
    """
    m = _ID_RE.match(spec.strip())
    if m is None:
        raise ValueError(f"invalid method id {spec!r}; expected 'name' or 'name[key=value,...]'")
    params: dict[str, str] = {}
    if m["params"]:
        for item in m["params"].split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"invalid parameter {item!r} in method id {spec!r}; expected key=value")
            params[key.strip()] = value.strip()
    return m["name"], params
