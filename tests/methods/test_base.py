"""The method interface: typed parameters, deterministic ids, registry, output checks."""

import pickle
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pytest

from bench.data import DatasetInfo, Sample
from bench.methods import (
    Method,
    UnknownMethodError,
    check_labels,
    format_method_id,
    get_method,
    parse_method_id,
)
from bench.methods.base import _build_params


@dataclass(frozen=True)
class _P:
    sigma: float = 1.0
    depth: int = 5
    mode: Literal["a", "b"] = "a"
    flag: bool = False
    sizes: tuple[int, ...] = (1, 2)
    channel: str | None = None

    def validate(self):
        if self.sigma <= 0:
            raise ValueError(f"`sigma` must be > 0, got {self.sigma}")


class _Threshold(Method):
    """A tiny real method for interface tests: threshold the first channel."""

    name = "_test_threshold"
    Params = _P

    def predict(self, image):
        from scipy import ndimage as ndi

        return ndi.label(image[..., 0] > 0.5)[0].astype(np.int32)


def test_params_are_coerced_from_strings():
    m = _Threshold(sigma="2.5", depth="7", mode="b", flag="true", sizes="(3;4)", channel="none")
    assert m.params == _P(sigma=2.5, depth=7, mode="b", flag=True, sizes=(3, 4), channel=None)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"depth": "7.5"}, r"parameter `depth` must be an int, got '7.5'"),
        ({"mode": "c"}, r"parameter `mode` must be one of \['a', 'b'\], got 'c'"),
        ({"flag": "maybe"}, r"parameter `flag` must be a bool"),
        ({"sigma": "x"}, r"parameter `sigma` must be a float"),
        ({"sigma": -1}, r"`sigma` must be > 0, got -1"),
        ({"nope": 1}, r"unknown parameter\(s\) \['nope'\]; known parameters:"),
    ],
)
def test_bad_params_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _build_params(_P, kwargs, who="_test_threshold")


def test_id_lists_only_non_default_params_sorted():
    assert _Threshold().id == "_test_threshold"
    assert _Threshold(sigma=2.0, depth=7).id == "_test_threshold[depth=7,sigma=2.0]"


def test_format_and_parse_roundtrip():
    mid = format_method_id("unet", {"features": 16, "depth": 7, "sizes": (1, 2)})
    assert mid == "unet[depth=7,features=16,sizes=(1;2)]"
    name, raw = parse_method_id(mid)
    assert name == "unet" and raw == {"depth": "7", "features": "16", "sizes": "(1;2)"}


@pytest.mark.parametrize("bad", ["unet[depth]", "un et", "unet[=3]"])
def test_parse_rejects_malformed_ids(bad):
    with pytest.raises(ValueError, match="invalid"):
        parse_method_id(bad)


def test_unknown_method_lists_known_ones():
    with pytest.raises(UnknownMethodError, match=r"unknown method 'nope'; known methods:"):
        get_method("nope")


def test_check_labels():
    good = np.zeros((3, 4), np.int32)
    assert check_labels(good, (3, 4), who="m") is good
    with pytest.raises(TypeError, match=r"m: predicted labels must be int32, got int64"):
        check_labels(good.astype(np.int64), (3, 4), who="m")
    with pytest.raises(ValueError, match=r"shape \(3, 4\).*image's shape \(4, 4\)"):
        check_labels(good, (4, 4), who="m")
    with pytest.raises(ValueError, match=r"must be >= 0"):
        check_labels(good - 1, (3, 4), who="m")
    with pytest.raises(TypeError, match="must return an ndarray"):
        check_labels([[0]], (1, 1), who="m")


def _sample(img):
    return Sample(name="s", image=img, channels=("a",), labels=(img[..., 0] > 0.5).astype(np.int32))


def test_fit_predict_validates_input():
    rng = np.random.default_rng(0)
    img = (rng.random((16, 16, 1)) > 0.7).astype(np.float32)
    m = _Threshold(sigma=2.0).fit([_sample(img)], [])
    pred = m.predict_full(img)
    assert pred.labels.dtype == np.int32 and pred.classes is None
    np.testing.assert_array_equal(pred.labels > 0, img[..., 0] > 0.5)
    with pytest.raises(ValueError, match=r"fitted on 1 channel"):
        m.predict_full(np.zeros((16, 16, 2), np.float32))
    with pytest.raises(ValueError, match=r"`image` must be a Sample or a \(Y, X, C\) array"):
        m.predict_full(np.zeros((16, 16), np.float32))
    assert pickle.loads(pickle.dumps(m.params)) == m.params


def test_fit_checks_its_data():
    with pytest.raises(ValueError, match="`train` is empty"):
        _Threshold().fit([], [])


def test_skip_reports_task_mismatch_and_missing_dependency():
    info = DatasetInfo(name="d", tasks=("semantic",), channels=("a",), source="synthetic")
    assert "solves" in _Threshold().skip(info)

    class _Needs(_Threshold):
        requires = ("a_module_that_does_not_exist_42",)
        extra = "torch"

    info2 = DatasetInfo(name="d", tasks=("instance",), channels=("a",), source="synthetic")
    assert _Needs().skip(info2) == (
        "missing dependency: a_module_that_does_not_exist_42 (pip install 'bench[torch]')"
    )
    assert _Threshold().skip(info2) is None


def test_label_names_the_preset_the_parameters_come_from():
    m = get_method("unet_mdl")
    assert m.id == "unet[recipe=cdl]"
    assert m.label == "unet_mdl"
    assert get_method("unet_cdl").label == "unet_cdl"
    assert get_method("unet[recipe=cdl,depth=3]").label == "unet[depth=3,recipe=cdl]"
