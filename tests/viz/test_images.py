"""bench.viz.images: composites, ground truth and overlays, headless, with the documented colours."""

from __future__ import annotations

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.figure import Figure

from bench import viz
from bench.data import Sample
from bench.methods import Prediction


def _sample(**kw):
    labels = np.zeros((32, 32), np.int32)
    labels[4:12, 4:12] = 1
    labels[20:28, 20:28] = 2
    img = np.zeros((32, 32, 2), np.float32)
    img[..., 0] = labels > 0
    img[..., 1] = np.linspace(0, 1, 32)[None, :]
    return Sample(name="s", image=img, channels=("rfp", "gfp"), labels=labels, **kw)


def test_headless_backend():
    assert matplotlib.get_backend().lower() == "agg"


def test_composite_colours_channels_as_biologists_expect():
    img = np.zeros((2, 2, 3), np.float32)
    img[0, 0, 0] = 1.0  # rfp -> red
    img[1, 1, 1] = 1.0  # gfp -> green
    img[0, 1, 2] = 1.0  # transmitted -> grey (dimmed next to colour channels)
    rgb = viz.composite(img, ["rfp", "gfp", "transmitted"])
    assert rgb.shape == (2, 2, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert rgb[0, 0].tolist() == [1.0, 0.0, 0.0]
    assert rgb[1, 1].tolist() == [0.0, 1.0, 0.0]
    assert rgb[0, 1, 0] == rgb[0, 1, 1] == rgb[0, 1, 2] == 0.5
    grey = viz.composite(img[..., :1], ["hoechst"])
    assert np.all(grey[..., 0] == grey[..., 1])
    with pytest.raises(ValueError, match="2 names for an image with 3 channels"):
        viz.composite(img, ["a", "b"])


def test_match_masks_split_tp_fn_fp():
    s = _sample()
    pred = np.zeros_like(s.labels)
    pred[4:12, 4:12] = 7      # matches object 1
    pred[0:2, 28:32] = 9      # spurious
    m = viz.match_masks(s.labels, pred)
    assert set(np.unique(m["tp"])) == {0, 1}
    assert set(np.unique(m["fn"])) == {0, 2}
    assert set(np.unique(m["fp"])) == {0, 9}
    assert set(np.unique(m["tp_pred"])) == {0, 7}


def test_overlay_draws_match_colours_and_counts():
    s = _sample()
    pred = np.zeros_like(s.labels)
    pred[4:12, 4:12] = 7
    pred[0:2, 28:32] = 9
    fig = viz.overlay(s, Prediction(labels=pred))
    assert isinstance(fig, Figure)
    img = fig.axes[0].images[0].get_array()
    colours = {tuple(np.round(c, 3)) for c in np.asarray(img).reshape(-1, 3)}
    for name in ("tp", "fn", "fp"):
        assert tuple(np.round(viz.MATCH_COLORS[name], 3)) in colours, name
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["true positive: 1", "false negative (missed): 1", "false positive (spurious): 1"]
    with pytest.raises(ValueError, match="must have the sample's shape"):
        viz.overlay(s, np.zeros((3, 3), np.int32))


def test_overlay_for_boxes_and_semantic_truth():
    img = np.zeros((16, 16, 3), np.float32)
    boxes = np.array([[0, 0.25, 0.25, 0.5, 0.5]])
    s = Sample(name="b", image=img, channels=("red", "green", "blue"), boxes=boxes)
    pred = np.zeros((16, 16), np.int32)
    pred[0:8, 0:8] = 1
    fig = viz.overlay(s, pred)
    # one outline collection per colour: the true box, then the predicted object's box
    # (here the same pixels 0..7), drawn on the pixel edges (imshow: centres at integers)
    outlines = [c.get_paths()[0].vertices[:4] for c in fig.axes[0].collections]
    assert len(outlines) == 2
    for outline in outlines:
        np.testing.assert_array_equal(outline, [[-0.5, -0.5], [7.5, -0.5], [7.5, 7.5], [-0.5, 7.5]])
    assert [tuple(c.get_edgecolor()[0][:3]) for c in fig.axes[0].collections] == [
        tuple(mcolors.to_rgb(viz.BOX_COLORS[k])) for k in ("true", "pred")]
    assert "matched pairs: 1" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    sem = np.zeros((16, 16), np.int32)
    sem[2:6, 2:6] = 1
    s2 = Sample(name="r", image=img[..., :2], channels=("gfp", "rfp"), semantic=sem)
    fig = viz.overlay(s2, sem, class_names=("bg", "phagophore"))
    assert len(fig.axes) == 3


def test_show_truth_and_gallery():
    s = _sample(classes={1: 0, 2: 1})
    fig = viz.show_truth(s, class_names=("empty", "loaded"))
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["empty", "loaded"]
    fig = viz.dataset_gallery({"a": s, "b": _sample()})
    assert sum(ax.has_data() for ax in fig.axes) == 2
    with pytest.raises(ValueError, match="empty"):
        viz.dataset_gallery({})
